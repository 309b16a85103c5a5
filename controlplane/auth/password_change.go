package auth

import (
	"context"
	"errors"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/store"
)

// ChangePasswordRequest is a signed-in user's change of their own password.
type ChangePasswordRequest struct {
	UserID    string // the caller: the subject of a verified access token
	SessionID string // the caller's session: it stays, every other session of the user ends
	Current   string // the password now
	New       string // the password to set
	IP        string // client address: audited, and the per-client throttling key
}

// ChangePassword replaces the caller's password and ends every other session of the
// user (reason password_changed: NOTIFYed, listed, streamed as any revocation), in one
// transaction; the caller's session stays. It returns how many sessions ended.
//
// The new password must pass CheckPassword for the account's login name
// (ErrPasswordPolicy), checked before anything is counted: such a request counts
// nothing. The current password is checked as a login checks one, and costs a guesser as
// much: the attempt is counted in the same throttling buckets (the account's login name,
// the client address) before argon2id runs, so an attempt over a limit is a
// *ThrottledError, and a wrong password is ErrInvalidCredentials and stays counted,
// audited as password_change_failed; a right one takes its attempt back as a login does.
// ErrSessionNotFound when the caller's session or account has ended meanwhile. Nothing
// changes unless it succeeds.
func (s *Service) ChangePassword(ctx context.Context, req ChangePasswordRequest) (int, error) {
	user, err := s.st.UserByID(ctx, req.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return 0, ErrSessionNotFound
	}
	if err != nil {
		return 0, err
	}
	if err := s.checkNewPassword(req.New, user.Email); err != nil {
		return 0, err
	}
	now := s.cfg.Now()
	att, err := s.beginAttempt(ctx, user.Email, req.IP, now)
	if err != nil {
		return 0, err
	}
	ok, err := s.passwordMatches(ctx, user, true, req.Current)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, s.passwordChangeFailed(ctx, req, now)
	}
	hash, err := s.hash(ctx, req.New)
	if err != nil {
		return 0, err
	}
	var n int
	err = s.st.InTx(ctx, func(q store.Queries) error {
		// As at login: the current password was checked against the hash read before
		// the transaction. A change that committed since (another session's, an
		// operator's reset) must win unless the caller knows the password it set;
		// locking the row makes one that has not committed wait for this transaction.
		locked, err := q.LockUser(ctx, user.ID, true)
		if errors.Is(err, store.ErrNotFound) {
			return ErrSessionNotFound
		}
		if err != nil {
			return err
		}
		if cur := locked.PasswordHash; cur != user.PasswordHash {
			ok, _, err := s.verify(ctx, req.Current, cur)
			if err != nil {
				return err
			}
			if !ok {
				return ErrInvalidCredentials
			}
		}
		// The caller's session may have ended since it was checked (a reset ends every
		// session, and has committed by now): a session that ended changes nothing.
		sess, err := q.SessionByID(ctx, req.SessionID)
		if errors.Is(err, store.ErrNotFound) || err == nil && (sess.UserID != user.ID || !sess.ActiveAt(now)) {
			return ErrSessionNotFound
		}
		if err != nil {
			return err
		}
		if err := att.succeed(ctx, q, now); err != nil {
			return err
		}
		n, err = replacePassword(ctx, q, passwordChange{userID: user.ID, hash: hash, keepSID: req.SessionID, by: "user", ip: req.IP}, now)
		return err
	})
	if errors.Is(err, ErrInvalidCredentials) {
		return 0, s.passwordChangeFailed(ctx, req, now)
	}
	if err != nil {
		return 0, err
	}
	return n, nil
}

// passwordChangeFailed audits a wrong current password (the attempt is already
// recorded as a failure) and returns ErrInvalidCredentials.
func (s *Service) passwordChangeFailed(ctx context.Context, req ChangePasswordRequest, now time.Time) error {
	ev := store.AuditEvent{Kind: "password_change_failed", UserID: req.UserID, SessionID: req.SessionID, IP: truncate(req.IP, 64), At: now}
	if err := s.st.AddAudit(ctx, ev); err != nil {
		return err
	}
	return ErrInvalidCredentials
}

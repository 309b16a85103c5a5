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
	SessionID string // the caller's session: replaced by a new one; every other session of the user ends
	Current   string // the password now
	New       string // the password to set
	IP        string // client address: audited, and the per-client throttling key
	UserAgent string // stored with the session that replaces the caller's
}

// ChangePassword replaces the caller's password and the caller's session, and ends
// every other session of the user, in one transaction. A password change is a
// re-authentication, and it ends the session it was made from (OWASP ASVS 5.0 7.2.4):
// whoever holds a copy of that session's tokens loses it with the others. The caller
// gets a new session (the Result's tokens) on the same device; the old one is revoked
// with reason session_replaced, the others with password_changed (NOTIFYed, listed,
// streamed as any revocation). The new session keeps the second factor the old one
// proved (its tokens' amr): the change checked the password again, which takes nothing
// away from a factor already shown. It returns the new session and how many others ended.
//
// The new password must pass CheckPassword for the account's login name
// (ErrPasswordPolicy), checked before anything is counted: such a request counts
// nothing. The breach checker, if any, is asked only once the current password has
// matched (a third party is not asked on behalf of a guesser), and its refusal takes
// the attempt back: it counts nothing either. The current password is checked as a login checks one, and costs a guesser as
// much: the attempt is counted in the same throttling buckets (the account's login name,
// the client address) before argon2id runs, so an attempt over a limit is a
// *ThrottledError, and a wrong password is ErrInvalidCredentials and stays counted,
// audited as password_change_failed; a right one takes its attempt back as a login does
// (from a session that did not prove the account's second factor, only its own attempt:
// the codes guessed from that address stay counted).
// ErrSessionNotFound when the caller's session or account has ended meanwhile (the
// right password refused so counts nothing).
// ErrSecondFactorRequired when the caller's session signed in with the password alone
// and its account must use a second factor (Config.SecondFactorRequiredFor): such a
// session ends at its next refresh, and a change must not open it a successor with
// fresh tokens (the right password refused so counts nothing). Nothing changes unless
// it succeeds.
func (s *Service) ChangePassword(ctx context.Context, req ChangePasswordRequest) (*Result, int, error) {
	user, err := s.st.UserByID(ctx, req.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, ErrSessionNotFound
	}
	if err != nil {
		return nil, 0, err
	}
	if err := s.checkLocalPassword(req.New, user.Email); err != nil {
		return nil, 0, err
	}
	now := s.cfg.Now()
	att, err := s.beginAttempt(ctx, user.Email, req.IP, now)
	if err != nil {
		return nil, 0, err
	}
	ok, err := s.passwordMatches(ctx, user, true, req.Current)
	if err != nil {
		return nil, 0, err
	}
	if !ok {
		return nil, 0, s.passwordChangeFailed(ctx, req, now)
	}
	if err := s.checkBreached(ctx, req.New); err != nil {
		// A password refused by policy counts nothing, as the local rules' refusal.
		return nil, 0, errors.Join(err, att.withdraw(ctx, s.st))
	}
	hash, err := s.hash(ctx, req.New)
	if err != nil {
		return nil, 0, err
	}
	var (
		res *Result
		n   int
	)
	err = s.st.InTx(ctx, func(q store.Queries) error {
		locked, err := lockUser(ctx, q, user)
		if err != nil {
			return err
		}
		// The caller's session may have ended since it was checked (a reset ends every
		// session, and has committed by now): a session that ended changes nothing. It is
		// asked before the password is checked again: a change that committed meanwhile
		// (the same session's, sent twice at once) has ended this session too, and the
		// password this caller sent was right when checked, so it is refused as a session
		// that ended (its attempt taken back), not as a wrong password counted against it.
		sess, err := callerSession(ctx, q, req.SessionID, user.ID, now)
		if err != nil {
			return err
		}
		if err := s.recheckPassword(ctx, user, locked, req.Current); err != nil {
			return err
		}
		if sess.SecondFactor == "" && s.secondFactorRequired(locked.Roles) {
			return ErrSecondFactorRequired // as its refresh would answer (refresh.go)
		}
		if locked.TOTPSecret != nil && sess.SecondFactor == "" {
			// The password alone, for an account with a second factor: this attempt is
			// taken back, but the codes guessed from this address stay counted and the
			// address is not remembered, as at a login without its code.
			if err := q.DeleteLoginFailure(ctx, att.failure); err != nil {
				return err
			}
		} else if err := att.succeed(ctx, q, now); err != nil {
			return err
		}
		if err := q.SetPasswordHash(ctx, user.ID, hash); err != nil {
			return err
		}
		others, wasLive, err := q.ReplaceUserSessions(ctx, user.ID, req.SessionID, ReasonSessionReplaced, ReasonPasswordChanged, now)
		if err != nil {
			return err
		}
		if !wasLive { // ended after it was read: the change must not revive it
			return ErrSessionNotFound
		}
		n = len(others)
		// The new session keeps the second factor the replaced one proved, and so ends
		// when that one would have: a factor proved once is not renewed by the password
		// alone. Without a factor, the password is all either proved: a whole lifetime.
		var until time.Time
		if sess.SecondFactor != "" {
			until = sess.AbsoluteExpires
		}
		if res, err = s.startSession(ctx, q, locked, req.UserAgent, req.IP, sess.SecondFactor, now, until); err != nil {
			return err
		}
		return q.AddAudit(ctx, store.AuditEvent{Kind: ReasonPasswordChanged, UserID: user.ID, SessionID: res.Session.ID, IP: truncate(req.IP, 64), At: now,
			Detail: map[string]any{"sessions_revoked": n, "by": "user", "replaced_session": req.SessionID}})
	})
	if errors.Is(err, ErrInvalidCredentials) {
		return nil, 0, s.passwordChangeFailed(ctx, req, now)
	}
	if errors.Is(err, ErrSecondFactorRequired) || errors.Is(err, ErrSessionNotFound) {
		// The current password was right: refused for the session's sake, this attempt
		// counts nothing.
		return nil, 0, errors.Join(err, att.withdraw(ctx, s.st))
	}
	if err != nil {
		return nil, 0, err
	}
	return res, n, nil
}

// lockReauthenticated locks the account of a caller whose password was checked against
// user (read before q's transaction) and returns it as locked. As at login: a password
// change that committed since (another session's, an operator's reset) must win unless
// the caller knows the password it set, so a changed hash is checked again
// (ErrInvalidCredentials); locking the row makes a change that has not committed wait
// for this transaction. ErrSessionNotFound when the account is gone.
func (s *Service) lockReauthenticated(ctx context.Context, q store.Queries, user store.User, password string) (store.User, error) {
	locked, err := lockUser(ctx, q, user)
	if err != nil {
		return store.User{}, err
	}
	if err := s.recheckPassword(ctx, user, locked, password); err != nil {
		return store.User{}, err
	}
	return locked, nil
}

// callerSession reads the caller's session sid in q's transaction: ErrSessionNotFound
// unless it is userID's and active at now. The request's own check ran before the
// transaction, and the session may have ended since (signed out, a logout-all, a
// password change on another device): a session that ended changes nothing.
func callerSession(ctx context.Context, q store.Queries, sid, userID string, now time.Time) (store.Session, error) {
	sess, err := q.SessionByID(ctx, sid)
	if errors.Is(err, store.ErrNotFound) || err == nil && (sess.UserID != userID || !sess.ActiveAt(now)) {
		return store.Session{}, ErrSessionNotFound
	}
	return sess, err
}

// lockUser locks user's row in q's transaction and returns it as locked;
// ErrSessionNotFound when the account is gone.
func lockUser(ctx context.Context, q store.Queries, user store.User) (store.User, error) {
	locked, err := q.LockUser(ctx, user.ID, true)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, ErrSessionNotFound
	}
	return locked, err
}

// recheckPassword checks password again when the hash changed between user (read
// before the transaction, where password was checked) and locked: ErrInvalidCredentials
// unless password is the new one too.
func (s *Service) recheckPassword(ctx context.Context, user, locked store.User, password string) error {
	if cur := locked.PasswordHash; cur != user.PasswordHash {
		ok, _, err := s.verify(ctx, password, cur)
		if err != nil {
			return err
		}
		if !ok {
			return ErrInvalidCredentials
		}
	}
	return nil
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

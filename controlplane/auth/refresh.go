package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/store"
)

// RefreshRequest is one refresh.
type RefreshRequest struct {
	Token string // the refresh token the client holds
	IP    string // client address, for the audit trail
}

// Revocation reasons stored with a session and used as audit kinds.
const (
	ReasonRefreshReused = "refresh_token_reused"
	ReasonLogout        = "logout"
	ReasonLogoutAll     = "logout_all"
	ReasonLogoutOthers  = "logout_others"
	ReasonRevokedByUser = "revoked_by_user"
)

// Refresh rotates the refresh token and issues a new access token, following the rule in
// the package documentation. Errors: ErrRefreshInvalid (malformed, unknown, or the session
// is revoked or expired), ErrRefreshReused (reuse detected: the session is now revoked,
// the revocation NOTIFYed and audited). The user's current roles go into the new token.
func (s *Service) Refresh(ctx context.Context, req RefreshRequest) (*Result, error) {
	raw, hash, ok := decodeRefreshToken(req.Token)
	if !ok {
		return nil, ErrRefreshInvalid
	}
	now := s.cfg.Now()
	var (
		res    *Result
		reused store.Session
	)
	err := s.st.RefreshTx(ctx, hash, func(st store.RefreshState) (store.RefreshWrites, error) {
		res, reused = nil, store.Session{}
		sess, user := st.Session, st.User
		if !sess.ActiveAt(now) {
			return store.RefreshWrites{}, ErrRefreshInvalid
		}
		switch {
		case st.Generation == sess.Generation: // the live token
			var rot *store.Rotation
			var err error
			res, rot, err = s.rotate(ctx, sess, user, st.TokenID, raw, hash, now)
			return store.RefreshWrites{Rotate: rot}, err
		case st.Generation == sess.Generation-1 && sess.RotatedAt != nil && sess.SuccessorBox != nil &&
			now.Sub(*sess.RotatedAt) <= s.cfg.RefreshGrace: // the previous one, within the grace
			t, err := unseal(raw, hash, sess.SuccessorBox)
			if err != nil {
				return store.RefreshWrites{}, err
			}
			res = &Result{User: userFrom(user), Session: sessionFrom(sess), Tokens: Tokens{
				Access: t.Access, AccessExpires: time.Unix(t.AccessExpires, 0),
				Refresh: t.Refresh, RefreshExpires: sess.IdleExpires,
			}}
			return store.RefreshWrites{}, nil
		default: // reuse
			reused = sess
			return store.RefreshWrites{Revoke: ReasonRefreshReused, At: now, Audit: &store.AuditEvent{
				Kind: ReasonRefreshReused, UserID: sess.UserID, SessionID: sess.ID, IP: truncate(req.IP, 64), At: now,
				Detail: map[string]any{"generation": st.Generation, "live_generation": sess.Generation},
			}}, nil
		}
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrRefreshInvalid
	}
	if err != nil {
		return nil, err
	}
	if reused.ID != "" {
		s.cfg.Logger.WarnContext(ctx, "refresh token reuse: session revoked", "user", reused.UserID, "session", reused.ID, "ip", req.IP)
		return nil, ErrRefreshReused
	}
	return res, nil
}

// rotate mints the successor of the live token tok (inside the locked transaction) and
// returns the result and the rotation to write.
func (s *Service) rotate(ctx context.Context, sess store.Session, user store.User,
	tokenID int64, raw, hash []byte, now time.Time) (*Result, *store.Rotation, error) {
	next := randomToken(refreshTokenBytes)
	nextRaw, _, _ := decodeRefreshToken(next)
	nextHash := sha256.Sum256(nextRaw)
	access, accessExp, err := s.issueAccess(ctx, user.ID, sess, user.Roles, now)
	if err != nil {
		return nil, nil, err
	}
	box, err := seal(raw, hash, sealedTokens{Access: access, AccessExpires: accessExp.Unix(), Refresh: next})
	if err != nil {
		return nil, nil, err
	}
	idle := now.Add(s.cfg.IdleTTL)
	if idle.After(sess.AbsoluteExpires) {
		idle = sess.AbsoluteExpires
	}
	sess.LastUsed, sess.IdleExpires = now, idle
	return &Result{User: userFrom(user), Session: sessionFrom(sess), Tokens: Tokens{
			Access: access, AccessExpires: accessExp, Refresh: next, RefreshExpires: idle,
		}}, &store.Rotation{SessionID: sess.ID, OldID: tokenID, Generation: sess.Generation,
			NewHash: nextHash[:], SuccessorBox: box, At: now, IdleExpires: idle},
		nil
}

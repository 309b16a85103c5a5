package auth

import (
	"context"
	"errors"
	"math"
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
	// ReasonSessionReplaced: the session a password change was made from, replaced by a
	// new one whose tokens the change's answer carries (ChangePassword).
	ReasonSessionReplaced = "session_replaced"
)

// noGraceFrom is RefreshAttempt.GraceFrom without a grace: no rotation is ever this
// late, so every replay of a rotated token is reuse.
var noGraceFrom = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// Refresh rotates the refresh token and issues a new access token, following the rule in
// the package documentation. Errors: ErrRefreshInvalid (malformed, unknown, or the session
// is revoked or expired), ErrRefreshReused (reuse detected: the session is now revoked,
// the revocation NOTIFYed and audited), ErrSecondFactorRequired (the session signed in
// with the password alone and its account must use a second factor: now revoked; a
// *SecondFactorRequiredError, which says whether this call revoked it). The
// user's current roles, and how the session signed in (amr), go into the new token.
//
// Everything a rotation writes is prepared first (the successor, sealed under the
// presented token), then one statement decides and writes (store.RefreshSQL): one round
// trip, one row (the session's) and one commit, shared under load with other refreshes
// (store's groups), and no lock is held while the access token is signed. The
// access token's claims follow from the rotation (its time, the successor's derived
// token id, the user's roles, the session's second factor), so a grace replay, which
// opens the sealed successor, signs the same claims again and, since keys.Manager signs
// deterministically (EdDSA, RS256, and ES256 with RFC 6979 nonces), returns the very
// same access token while the active key is the same (after a key rotation: an equally
// valid token, same claims). Roles and the second factor are read as they are at the
// replay: should one have changed since the rotation (a role granted, a TOTP
// enrollment confirmed in this session), the replay's token carries the new value, its
// only difference from the first.
func (s *Service) Refresh(ctx context.Context, req RefreshRequest) (*Result, error) {
	tok, ok := parseRefreshToken(req.Token)
	if !ok || tok.generation >= math.MaxInt32 {
		return nil, ErrRefreshInvalid
	}
	now := s.cfg.Now()
	graceFrom := now.Add(-s.cfg.RefreshGrace)
	if s.cfg.RefreshGrace == NoRefreshGrace {
		graceFrom = noGraceFrom
	}
	next, nextTok := s.tags.mint(tok.sessionID, tok.generation+1)
	box, err := seal(tok, next)
	if err != nil {
		return nil, err
	}
	r, err := s.st.Refresh(ctx, store.RefreshAttempt{
		SessionID: tok.sessionID, Generation: tok.generation, Hash: tok.hash, Issued: s.tags.issued(tok),
		At: now, GraceFrom: graceFrom,
		NewHash: nextTok.hash, SuccessorBox: box, IdleExpires: now.Add(s.cfg.IdleTTL),
		ReuseReason: ReasonRefreshReused, IP: truncate(req.IP, 64),
	})
	if err != nil {
		return nil, err
	}
	sess := r.Session
	switch r.Outcome {
	case store.RefreshRotated:
	case store.RefreshGrace: // the previous token within the grace: the successor the rotation minted
		if next, nextTok, err = unseal(tok, sess.SuccessorBox); err != nil {
			return nil, err
		}
	case store.RefreshReused:
		s.cfg.Logger.WarnContext(ctx, "refresh token reuse: session revoked", "user", sess.UserID, "session", sess.ID, "ip", req.IP)
		return nil, ErrRefreshReused
	default:
		return nil, ErrRefreshInvalid
	}
	if sess.SecondFactor == "" && s.secondFactorRequired(r.User.Roles) {
		// A password-only session of an account that must now use a second factor
		// (enrollment.go): it ends here, and its edges and sockets drop it with the
		// revocation list. Rare, so its own statement after the rotation's.
		err := s.revoke(ctx, sess.ID, sess.UserID, ReasonSecondFactorRequired)
		if err != nil && !errors.Is(err, ErrSessionNotFound) {
			return nil, err
		}
		// ErrSessionNotFound: ended since the rotation, e.g. by a concurrent refresh of
		// this session (a grace replay) that revoked it first. This caller is told why
		// too, but did not revoke it, so the revocation is not counted twice.
		return nil, &SecondFactorRequiredError{Revoked: err == nil}
	}
	access, accessExp, err := s.issueAccess(ctx, r.User.ID, sess, r.User.Roles, *sess.RotatedAt, successorTokenID(nextTok))
	if err != nil {
		return nil, err
	}
	return &Result{User: userFrom(r.User), Session: sessionFrom(sess), Tokens: Tokens{
		Access: access, AccessExpires: accessExp, Refresh: next, RefreshExpires: sess.IdleExpires,
	}}, nil
}

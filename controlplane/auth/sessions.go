package auth

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/store"
)

// Logout revokes the session sid (the caller's current one) and reports whether this
// call revoked it: logging out an already revoked session succeeds with false (so that
// only real revocations are counted); ErrSessionNotFound if there is no such session.
func (s *Service) Logout(ctx context.Context, sid string) (revoked bool, err error) {
	err = s.revoke(ctx, sid, "", ReasonLogout)
	if errors.Is(err, ErrSessionNotFound) {
		if _, err := s.st.SessionByID(ctx, sid); err == nil {
			return false, nil // revoked already
		}
	}
	return err == nil, err
}

// LogoutByRefreshToken revokes the session that the refresh token belongs to (for a
// logout whose access token has already expired): its live token, the live token's
// parent, or an older token the service issued; revoked reports whether this call
// revoked it (false: it was revoked already). ErrRefreshInvalid if the token is
// malformed or none of these.
func (s *Service) LogoutByRefreshToken(ctx context.Context, refreshToken string) (revoked bool, err error) {
	tok, ok := parseRefreshToken(refreshToken)
	if !ok {
		return false, ErrRefreshInvalid
	}
	now := s.cfg.Now()
	err = s.st.InTx(ctx, func(q store.Queries) error {
		revoked, err = s.logoutByRefreshToken(ctx, q, tok, now)
		return err
	})
	return revoked && err == nil, err
}

// logoutByRefreshToken is LogoutByRefreshToken inside q's transaction.
func (s *Service) logoutByRefreshToken(ctx context.Context, q store.Queries, tok refreshToken, now time.Time) (revoked bool, err error) {
	sess, _, err := q.LockSession(ctx, tok.sessionID)
	if errors.Is(err, store.ErrNotFound) || err == nil && !sess.Holds(tok.generation, tok.hash, s.tags.issued(tok)) {
		return false, ErrRefreshInvalid
	}
	if err != nil || sess.RevokedAt != nil {
		return false, err
	}
	if err := q.RevokeSession(ctx, sess.ID, "", ReasonLogout, now); err != nil {
		return false, err
	}
	return true, q.AddAudit(ctx, store.AuditEvent{Kind: ReasonLogout, UserID: sess.UserID, SessionID: sess.ID, At: now})
}

// revokeReplaced ends, inside q's transaction, the sessions a login or signup
// replaces, and returns how many it revoked. A token or id naming no live session of
// ours is skipped. The sessions are locked in id order (byte order), as logout-all
// and refresh groups lock them, so that two of those cannot deadlock with it.
func (s *Service) revokeReplaced(ctx context.Context, q store.Queries, r Replaced, now time.Time) (int, error) {
	type replaced struct {
		sessionID string
		tok       *refreshToken // nil: named by a verified access token
	}
	var all []replaced
	for _, t := range r.RefreshTokens {
		if tok, ok := parseRefreshToken(t); ok {
			all = append(all, replaced{tok.sessionID, &tok})
		}
	}
	for _, sid := range r.SessionIDs {
		all = append(all, replaced{sid, nil})
	}
	slices.SortStableFunc(all, func(a, b replaced) int { return strings.Compare(a.sessionID, b.sessionID) })
	n := 0
	for _, x := range all {
		if x.tok != nil {
			switch done, err := s.logoutByRefreshToken(ctx, q, *x.tok, now); {
			case err == nil:
				if done {
					n++
				}
			case !errors.Is(err, ErrRefreshInvalid):
				return n, err
			}
			continue
		}
		switch err := q.RevokeSession(ctx, x.sessionID, "", ReasonLogout, now); {
		case err == nil:
			sess, err := q.SessionByID(ctx, x.sessionID)
			if err != nil {
				return n, err
			}
			if err := q.AddAudit(ctx, store.AuditEvent{Kind: ReasonLogout, UserID: sess.UserID, SessionID: x.sessionID, At: now}); err != nil {
				return n, err
			}
			n++
		case !errors.Is(err, store.ErrNotFound):
			return n, err
		}
	}
	return n, nil
}

// RevokeSession revokes one of the user's own sessions. ErrSessionNotFound if the session
// does not exist, belongs to someone else, or is already revoked; ErrInvalidSessionID if
// sid is not text.
func (s *Service) RevokeSession(ctx context.Context, userID, sid string) error {
	if !isText(sid) {
		return ErrInvalidSessionID
	}
	return s.revoke(ctx, sid, userID, ReasonRevokedByUser)
}

func (s *Service) revoke(ctx context.Context, sid, userID, reason string) error {
	now := s.cfg.Now()
	err := s.st.InTx(ctx, func(q store.Queries) error {
		if err := q.RevokeSession(ctx, sid, userID, reason, now); err != nil {
			return err
		}
		sess, err := q.SessionByID(ctx, sid)
		if err != nil {
			return err
		}
		return q.AddAudit(ctx, store.AuditEvent{Kind: reason, UserID: sess.UserID, SessionID: sid, At: now})
	})
	if errors.Is(err, store.ErrNotFound) {
		return ErrSessionNotFound
	}
	return err
}

// LogoutAll revokes every session of the user and returns how many were live.
func (s *Service) LogoutAll(ctx context.Context, userID string) (int, error) {
	return s.revokeUser(ctx, userID, "", ReasonLogoutAll)
}

// LogoutOthers revokes every session of the user except keepSID (the current one) and
// returns how many were revoked.
func (s *Service) LogoutOthers(ctx context.Context, userID, keepSID string) (int, error) {
	return s.revokeUser(ctx, userID, keepSID, ReasonLogoutOthers)
}

func (s *Service) revokeUser(ctx context.Context, userID, except, reason string) (int, error) {
	now := s.cfg.Now()
	var n int
	err := s.st.InTx(ctx, func(q store.Queries) error {
		ids, err := q.RevokeUserSessions(ctx, userID, except, reason, now)
		if err != nil {
			return err
		}
		n = len(ids)
		return q.AddAudit(ctx, store.AuditEvent{Kind: reason, UserID: userID, SessionID: except, At: now,
			Detail: map[string]any{"sessions": n}})
	})
	return n, err
}

// ListSessions returns the user's active sessions, newest first, marking currentSID.
func (s *Service) ListSessions(ctx context.Context, userID, currentSID string) ([]Session, error) {
	list, err := s.st.ListActiveSessions(ctx, userID, s.cfg.Now())
	if err != nil {
		return nil, err
	}
	out := make([]Session, len(list))
	for i, ss := range list {
		out[i] = sessionFrom(ss)
		out[i].Current = ss.ID == currentSID
	}
	return out, nil
}

// SessionActive reports whether the session exists and is live now (not revoked, not
// idle- or absolutely expired). For introspection next to the data.
func (s *Service) SessionActive(ctx context.Context, sid string) (bool, error) {
	_, active, err := s.LiveSession(ctx, sid)
	return active, err
}

// LiveSession returns the session sid and whether it is live (not revoked, not
// expired); false with no error if there is no such session.
func (s *Service) LiveSession(ctx context.Context, sid string) (Session, bool, error) {
	sess, err := s.st.SessionByID(ctx, sid)
	if errors.Is(err, store.ErrNotFound) {
		return Session{}, false, nil
	}
	if err != nil {
		return Session{}, false, err
	}
	return sessionFrom(sess), sess.ActiveAt(s.cfg.Now()), nil
}

// RecentlySignedIn returns nil if sess started (a login, signup or password change
// opened it) within Config.RecentLogin, ErrReauthenticationRequired if it started
// before. Callers ask it before ending sessions other than the caller's own (OWASP
// ASVS 5.0 7.5.2): a refresh does not renew the window, so a copy of a session's
// cookies cannot sign its owner's other devices out for longer than that after the
// owner signed in.
func (s *Service) RecentlySignedIn(sess Session) error {
	if s.cfg.Now().Sub(sess.Created) > s.cfg.RecentLogin {
		return ErrReauthenticationRequired
	}
	return nil
}

// Prune deletes sessions that ended (expired or revoked) more than keep ago, with their
// refresh tokens, failed-login records older than the throttling windows, and sign-in
// addresses older than Throttle.KnownClientFor. A keep shorter than the revocation
// list's window (AccessTTL + Leeway) is raised to it: a revoked session stays listed,
// and so stays in the database, until its last access token can no longer be accepted
// anywhere. A day is a good value. Returns the number of sessions deleted.
func (s *Service) Prune(ctx context.Context, keep time.Duration) (int64, error) {
	now := s.cfg.Now()
	keep = max(keep, s.cfg.AccessTTL+s.cfg.Leeway)
	t := s.cfg.Throttle
	if _, err := s.st.DeleteLoginFailuresBefore(ctx, now.Add(-max(t.Window, t.AccountWindow))); err != nil {
		return 0, err
	}
	if _, err := s.st.DeleteLoginClientsBefore(ctx, now.Add(-t.KnownClientFor)); err != nil {
		return 0, err
	}
	return s.st.DeleteSessionsBefore(ctx, now.Add(-keep))
}

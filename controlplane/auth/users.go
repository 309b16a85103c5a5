package auth

import (
	"context"
	"errors"

	"github.com/edgeauth/edgeauth/controlplane/store"
)

// Revocation reason for sessions ended by a password change.
const ReasonPasswordChanged = "password_changed"

// SetPassword replaces the user's password (policy checked, ErrPasswordPolicy) and revokes
// every session of the user except keepSID (empty: all), since a password change is how
// users evict an intruder. ErrUserNotFound if there is no such user.
func (s *Service) SetPassword(ctx context.Context, userID, password, keepSID string) error {
	if err := CheckPassword(password); err != nil {
		return err
	}
	if err := s.acquireHash(ctx); err != nil {
		return err
	}
	hash := hashPassword(password, DefaultParams)
	s.releaseHash()
	now := s.cfg.Now()
	err := s.st.InTx(ctx, func(q store.Queries) error {
		if err := q.SetPasswordHash(ctx, userID, hash); err != nil {
			return err
		}
		ids, err := q.RevokeUserSessions(ctx, userID, keepSID, ReasonPasswordChanged, now)
		if err != nil {
			return err
		}
		return q.AddAudit(ctx, store.AuditEvent{Kind: ReasonPasswordChanged, UserID: userID, SessionID: keepSID, At: now,
			Detail: map[string]any{"sessions_revoked": len(ids)}})
	})
	if errors.Is(err, store.ErrNotFound) {
		return ErrUserNotFound
	}
	return err
}

// SetRoles replaces the user's roles. Access tokens carry the new roles from the next
// refresh on (at most one access-token lifetime). ErrUserNotFound if there is no such user.
func (s *Service) SetRoles(ctx context.Context, userID string, roles []string) error {
	roles = append([]string{}, roles...)
	err := s.st.InTx(ctx, func(q store.Queries) error {
		if err := q.SetUserRoles(ctx, userID, roles); err != nil {
			return err
		}
		return q.AddAudit(ctx, store.AuditEvent{Kind: "roles_changed", UserID: userID, At: s.cfg.Now(),
			Detail: map[string]any{"roles": roles}})
	})
	if errors.Is(err, store.ErrNotFound) {
		return ErrUserNotFound
	}
	return err
}

package auth

// A second factor required by policy (OWASP ASVS 5.0 6.3.3): Config.SecondFactorRequiredFor
// names roles ("*": every account) whose accounts sign in only with a second factor.
//
//   - Login and Signup of such an account without one open no session: they answer
//     ErrMFAEnrollmentRequired (nothing counted; Signup has created the account).
//   - The account then turns one on without a session, with its password:
//     BeginEnrollment stores a pending secret and returns it, CompleteEnrollment takes
//     the password again and a code of that secret, turns the factor on and opens a
//     session that proved it (amr mfa), returning the recovery codes once. Both are
//     throttled and audited as logins, and refused to accounts the policy does not
//     cover (ErrMFAEnrollmentNotRequired): those turn one on from a session, as before.
//   - A session of such an account that signed in with the password alone (it predates
//     the policy, a role granted later, another session's enrollment) ends at its next
//     refresh: ErrSecondFactorRequired, the session revoked with reason
//     ReasonSecondFactorRequired, so edges and sockets drop it with the revocation list.
//   - Such an account cannot turn its own factor off (ErrMFAKeptByPolicy); an
//     operator's ResetTOTP can, and the account enrolls again at its next sign-in.
//
// Who holds the password of an account that has no factor yet can enroll their own
// authenticator: as with any enrollment at first sign-in, the policy protects an
// account from the moment its owner enrolls.

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/store"
)

// EveryAccount, in Config.SecondFactorRequiredFor, requires a second factor of every
// account.
const EveryAccount = "*"

// ReasonSecondFactorRequired: a session that signed in without a second factor,
// ended at its refresh because its account must use one.
const ReasonSecondFactorRequired = "second_factor_required"

// SecondFactorRequired reports whether policy (Config.SecondFactorRequiredFor) makes an
// account with these roles sign in with a second factor.
func SecondFactorRequired(policy, roles []string) bool {
	for _, r := range policy {
		if r == EveryAccount || slices.Contains(roles, r) {
			return true
		}
	}
	return false
}

func (s *Service) secondFactorRequired(roles []string) bool {
	return SecondFactorRequired(s.cfg.SecondFactorRequiredFor, roles)
}

// BeginEnrollment starts turning a second factor on for an account that must have one
// and cannot sign in yet (req's Email and Password; Code is ignored): the password is
// checked as a login checks it (throttled, a wrong one counted and audited), then a
// new secret is stored as pending (replacing one pending before) and returned. Errors:
// ErrInvalidEmail, ErrInvalidCredentials, ErrThrottled, ErrMFAEnabled (sign in with a
// code instead), ErrMFAEnrollmentNotRequired, ErrMFAUnavailable.
func (s *Service) BeginEnrollment(ctx context.Context, req LoginRequest) (TOTPSetup, error) {
	if s.cfg.SecretKey == nil {
		return TOTPSetup{}, ErrMFAUnavailable
	}
	user, att, now, err := s.enrollingAccount(ctx, req)
	if err != nil {
		return TOTPSetup{}, err
	}
	setup, err := s.pend(ctx, user, att, store.AuditEvent{Kind: "mfa_setup", UserID: user.ID, IP: truncate(req.IP, 64), At: now,
		Detail: map[string]any{"required_by": "policy"}})
	if errors.Is(err, store.ErrNotFound) {
		return TOTPSetup{}, ErrInvalidCredentials // deleted since the read
	}
	return setup, err
}

// CompleteEnrollment turns on the second factor BeginEnrollment left pending, when
// req.Code is one of its current codes, and signs in: the password is checked again
// as a login checks it, and in one transaction the factor becomes the account's and a
// session opens that proved it ("totp"), replacing req.Replaces as a login does. It
// returns that session and the recovery codes, shown once. A wrong code counts as a
// failed login. Errors: those of BeginEnrollment, and ErrMFANotPending, ErrMFAInvalid.
func (s *Service) CompleteEnrollment(ctx context.Context, req LoginRequest) (*Result, []string, error) {
	if s.cfg.SecretKey == nil {
		return nil, nil, ErrMFAUnavailable
	}
	user, att, now, err := s.enrollingAccount(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	en, err := s.acceptPending(user, strings.TrimSpace(req.Code), now)
	switch {
	case errors.Is(err, ErrMFANotPending):
		return nil, nil, errors.Join(err, att.withdraw(ctx, s.st))
	case errors.Is(err, ErrMFAInvalid):
		return nil, nil, s.codeRefused(ctx, user, req.IP, now) // counted, as at Login
	case err != nil:
		return nil, nil, err
	}
	var res *Result
	err = s.st.InTx(ctx, func(q store.Queries) error {
		// As at Login: a password change or a disabling that committed since the
		// password was checked wins.
		locked, err := s.lockReauthenticated(ctx, q, user, req.Password)
		if errors.Is(err, ErrSessionNotFound) || err == nil && locked.DisabledAt != nil {
			return ErrInvalidCredentials
		}
		if err != nil {
			return err
		}
		if err := en.store(ctx, q, user.ID); err != nil {
			return err
		}
		if err := q.AddAudit(ctx, store.AuditEvent{Kind: "mfa_enabled", UserID: user.ID, IP: truncate(req.IP, 64), At: now,
			Detail: map[string]any{"required_by": "policy"}}); err != nil {
			return err
		}
		res, err = s.openSession(ctx, q, locked, att, req, now, factorTOTP)
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		// Confirmed meanwhile, or reset: the password and the code were right, so
		// nothing counted, as when it is found before the transaction.
		return nil, nil, errors.Join(ErrMFANotPending, att.withdraw(ctx, s.st))
	}
	if err != nil {
		return nil, nil, err
	}
	return res, en.codes, nil
}

// enrollingAccount checks req's credentials as Login does (checkCredentials), for an
// account that must have a second factor and has none. An account with a factor
// (ErrMFAEnabled) or one the policy does not cover (ErrMFAEnrollmentNotRequired) has
// its attempt taken back.
func (s *Service) enrollingAccount(ctx context.Context, req LoginRequest) (store.User, attempt, time.Time, error) {
	user, att, now, err := s.checkCredentials(ctx, req)
	if err != nil {
		return store.User{}, attempt{}, time.Time{}, err
	}
	refusal := error(nil)
	switch {
	case user.TOTPSecret != nil:
		refusal = ErrMFAEnabled
	case !s.secondFactorRequired(user.Roles):
		refusal = ErrMFAEnrollmentNotRequired
	}
	if refusal != nil {
		return store.User{}, attempt{}, time.Time{}, errors.Join(refusal, att.withdraw(ctx, s.st))
	}
	return user, att, now, nil
}

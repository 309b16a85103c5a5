package auth

import (
	"errors"
	"strconv"
	"time"
)

// Domain errors. Every error the Service returns for a client mistake is, or wraps, one of
// these (test with errors.Is); anything else is an infrastructure failure (database down)
// that the caller answers with a 5xx.
var (
	// ErrInvalidCredentials: unknown account or wrong password; deliberately the same.
	ErrInvalidCredentials = errors.New("auth: invalid credentials")
	// ErrThrottled: too many failed logins for the account or the client address. The
	// returned error is a *ThrottledError carrying RetryAfter.
	ErrThrottled = errors.New("auth: too many failed logins")
	// ErrRefreshReused: a refresh token was used again outside the grace rule; the whole
	// session has been revoked.
	ErrRefreshReused = errors.New("auth: refresh token reused")
	// ErrRefreshInvalid: the refresh token is malformed, unknown, or its session is revoked
	// or expired. Clients must drop their cookies (no retry loop).
	ErrRefreshInvalid = errors.New("auth: invalid refresh token")
	// ErrSessionNotFound: no such live session (or not the caller's).
	ErrSessionNotFound = errors.New("auth: session not found")
	// ErrPasswordPolicy: the new password breaks the length rules or is easy to guess
	// (CheckPassword; the error is a *PasswordPolicyError naming the rule).
	ErrPasswordPolicy = errors.New("auth: password does not meet the policy")
	// ErrUserExists: the e-mail/username is taken (case-insensitively).
	ErrUserExists = errors.New("auth: user exists")
	// ErrInvalidEmail: the e-mail/username is empty, too long or has spaces or control
	// characters (at login: is not valid UTF-8 or has control characters, NUL included).
	ErrInvalidEmail = errors.New("auth: invalid e-mail or username")
	// ErrInvalidSessionID: a session id that is not valid UTF-8 or has control
	// characters (NUL included): malformed, as opposed to unknown (ErrSessionNotFound).
	ErrInvalidSessionID = errors.New("auth: malformed session id")
	// ErrInvalidRole: a role name that is empty, has a comma (edges forward the roles
	// joined with commas: X-Edgeauth-Roles), white space at either end, control
	// characters or invalid UTF-8.
	ErrInvalidRole = errors.New("auth: invalid role name")
	// ErrUserNotFound: no user with that id.
	ErrUserNotFound = errors.New("auth: user not found")
	// ErrReauthenticationRequired: the caller's session started longer ago than
	// Config.RecentLogin, and ending other sessions needs a recent sign-in.
	ErrReauthenticationRequired = errors.New("auth: sign in again to end other sessions")
	// ErrNotDisabled: an account must be disabled before it is deleted (DeleteUser).
	ErrNotDisabled = errors.New("auth: the account is not disabled")
	// ErrDisabledRecently: the account was disabled too recently to be deleted: its
	// sessions may still be named by the revocation list (DeleteUser). The returned
	// error is a *DisabledRecentlyError carrying when it can be deleted.
	ErrDisabledRecently = errors.New("auth: the account was disabled too recently to be deleted")
	// ErrMFARequired: the password is right, and the account has a second factor whose
	// code (or a recovery code) the login did not carry. Nothing is counted.
	ErrMFARequired = errors.New("auth: a second factor is required")
	// ErrMFAInvalid: the second factor's code is wrong, out of its time window, or was
	// used already; or the recovery code is not one of the account's unused ones.
	ErrMFAInvalid = errors.New("auth: invalid second-factor code")
	// ErrMFAEnabled: the account has a second factor already (turn it off first).
	ErrMFAEnabled = errors.New("auth: a second factor is on already")
	// ErrMFANotPending: no enrollment awaits its first code (begin one first).
	ErrMFANotPending = errors.New("auth: no second factor awaits confirmation")
	// ErrMFANotEnabled: the account has no second factor to turn off.
	ErrMFANotEnabled = errors.New("auth: no second factor is on")
	// ErrMFAEnrollmentRequired: the password is right, but the account must sign in
	// with a second factor (Config.SecondFactorRequiredFor) and has none: it turns one
	// on first (BeginEnrollment, CompleteEnrollment). Nothing is counted.
	ErrMFAEnrollmentRequired = errors.New("auth: the account must turn a second factor on before it signs in")
	// ErrMFAEnrollmentNotRequired: enrollment without a session is only for accounts
	// that must have a second factor; others sign in and turn one on from their session.
	ErrMFAEnrollmentNotRequired = errors.New("auth: this account may sign in without a second factor")
	// ErrMFAKeptByPolicy: the account must have a second factor, so it cannot turn its
	// own off (an operator can reset it).
	ErrMFAKeptByPolicy = errors.New("auth: this account must keep a second factor")
	// ErrSecondFactorRequired: the session signed in without a second factor, and its
	// account now must use one: the refresh ended the session.
	ErrSecondFactorRequired = errors.New("auth: the session did not sign in with a second factor, which the account now needs")
	// ErrMFAUnavailable: the service has no key to seal second-factor secrets with
	// (Config.SecretKey).
	ErrMFAUnavailable = errors.New("auth: second factors are not configured")
)

// DisabledRecentlyError is ErrDisabledRecently with the time from which the account can
// be deleted.
type DisabledRecentlyError struct{ DeletableFrom time.Time }

func (e *DisabledRecentlyError) Error() string {
	return ErrDisabledRecently.Error() + "; it can be from " + e.DeletableFrom.UTC().Format(time.RFC3339)
}

func (e *DisabledRecentlyError) Unwrap() error { return ErrDisabledRecently }

// ThrottledError is returned when logins are throttled. errors.Is(err, ErrThrottled) holds.
type ThrottledError struct {
	// RetryAfter is how long until the oldest counted failure leaves the window (at least
	// one second), suitable for a Retry-After header.
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return ErrThrottled.Error() + ", retry after " + strconv.Itoa(int(e.RetryAfter/time.Second)) + "s"
}

// Is makes errors.Is(err, ErrThrottled) true.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// SecondFactorRequiredError is the ErrSecondFactorRequired that Refresh returns.
// Revoked says whether that refresh revoked the session: false when something else
// ended it between the rotation and the revocation, such as a concurrent refresh of
// the same session (another tab, within the grace) that hit the same rule first. Both
// are told why, but the revocation is one and is counted once (RevokedSession).
type SecondFactorRequiredError struct{ Revoked bool }

func (e *SecondFactorRequiredError) Error() string { return ErrSecondFactorRequired.Error() }

// Is makes errors.Is(err, ErrSecondFactorRequired) true.
func (e *SecondFactorRequiredError) Is(target error) bool { return target == ErrSecondFactorRequired }

// RevokedSession reports whether the Refresh that returned err revoked its session
// (a *SecondFactorRequiredError with Revoked set).
func RevokedSession(err error) bool {
	var e *SecondFactorRequiredError
	return errors.As(err, &e) && e.Revoked
}

// RetryAfter returns the wait carried by a throttling error.
func RetryAfter(err error) (time.Duration, bool) {
	var te *ThrottledError
	if errors.As(err, &te) {
		return te.RetryAfter, true
	}
	return 0, false
}

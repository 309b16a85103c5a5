package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/store"
	"github.com/edgeauth/edgeauth/keys"
	"github.com/edgeauth/edgeauth/verifier"
)

// Error is an API error: an HTTP status, a stable machine-readable code and a
// human-readable message, rendered as {"error":{"code":..,"message":..}}. Every code
// the API can answer with is declared in this file; clients may switch on Code.
type Error struct {
	Status  int
	Code    string
	Message string
	// RetryAfter, when positive, is sent as a Retry-After header (seconds).
	RetryAfter time.Duration
	// cause is logged (never rendered).
	cause error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return e.Code + ": " + e.cause.Error()
	}
	return e.Code
}

func (e *Error) Unwrap() error { return e.cause }

// with returns a copy of e that carries cause (for logs) and, if msg is not empty,
// another message.
func (e *Error) with(cause error, msg string) *Error {
	c := *e
	c.cause = cause
	if msg != "" {
		c.Message = msg
	}
	return &c
}

func apiError(status int, code, msg string) *Error {
	e := &Error{Status: status, Code: code, Message: msg}
	allErrors = append(allErrors, e)
	return e
}

// allErrors lists every declared error (for tests and documentation).
var allErrors []*Error

// Request shape.
var (
	ErrInvalidJSON          = apiError(http.StatusBadRequest, "invalid_json", "the request body is not valid JSON of the expected shape")
	ErrUnknownField         = apiError(http.StatusBadRequest, "unknown_field", "the request body has a field this endpoint does not accept")
	ErrTrailingData         = apiError(http.StatusBadRequest, "trailing_data", "the request body has data after the JSON value")
	ErrInvalidField         = apiError(http.StatusBadRequest, "invalid_field", "a field is missing or has an invalid value")
	ErrUnexpectedBody       = apiError(http.StatusBadRequest, "unexpected_body", "this endpoint takes no request body")
	ErrBodyTooLarge         = apiError(http.StatusRequestEntityTooLarge, "body_too_large", "the request body exceeds 64 KiB")
	ErrUnsupportedMediaType = apiError(http.StatusUnsupportedMediaType, "unsupported_media_type", "send Content-Type: application/json")
	ErrCrossSite            = apiError(http.StatusForbidden, "cross_site_request", "cross-site request refused: the Origin or Sec-Fetch-Site header is not allowed")
	ErrNotFound             = apiError(http.StatusNotFound, "not_found", "no such endpoint")
	ErrMethodNotAllowed     = apiError(http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed on this endpoint")
	// The code sessionauth and the Go edge answer the same request with.
	ErrDuplicateAuthorization = apiError(http.StatusBadRequest, "invalid_request", "the Authorization header is sent more than once: send one")
)

// Authentication and sessions.
var (
	ErrInvalidCredentials = apiError(http.StatusUnauthorized, "invalid_credentials", "wrong email or password")
	ErrThrottled          = apiError(http.StatusTooManyRequests, "too_many_attempts", "too many failed logins; retry later")
	ErrSignupDisabled     = apiError(http.StatusNotFound, "signup_disabled", "signup is not enabled on this server")
	ErrUserExists         = apiError(http.StatusConflict, "user_exists", "an account with this email already exists")
	ErrPasswordPolicy     = apiError(http.StatusUnprocessableEntity, "password_policy", "the password must have 8 to 256 characters and not be easy to guess")
	ErrUnauthenticated    = apiError(http.StatusUnauthorized, "unauthenticated", "no valid access token")
	ErrSessionRevoked     = apiError(http.StatusUnauthorized, "session_inactive", "the session has ended or was revoked")
	ErrRefreshMissing     = apiError(http.StatusUnauthorized, "refresh_token_missing", "no refresh token")
	ErrRefreshInvalid     = apiError(http.StatusUnauthorized, "refresh_token_invalid", "the refresh token is unknown, expired or revoked")
	ErrRefreshReused      = apiError(http.StatusUnauthorized, "refresh_token_reused", "the refresh token was already used; the session has been revoked")
	ErrSessionNotFound    = apiError(http.StatusNotFound, "session_not_found", "no such session")
	// 403, not 401: the caller's session is fine, and a 401 tells clients (the browser
	// helper, any client refreshing on 401) to refresh and send the request again, which
	// would spend a second throttled attempt on the same wrong password.
	ErrCurrentPasswordInvalid = apiError(http.StatusForbidden, "current_password_invalid", "the current password is wrong")
	// 403 for the same reason: refreshing does not help, signing in again does.
	ErrReauthenticationRequired = apiError(http.StatusForbidden, "reauthentication_required", "sign in again to end other sessions: this session started too long ago")

	// The second factor (POST /auth/login's code; /auth/mfa/totp...).
	ErrMFARequired = apiError(http.StatusUnauthorized, "mfa_required", "this account has a second factor: send the authenticator's six digits, or a recovery code, as code")
	ErrMFAInvalid  = apiError(http.StatusUnauthorized, "mfa_invalid", "the second-factor code is wrong, out of date or already used")
	// 403 on the signed-in endpoints, for the reason ErrCurrentPasswordInvalid gives.
	ErrMFACodeInvalid = apiError(http.StatusForbidden, "mfa_code_invalid", "the second-factor code is wrong, out of date or already used")
	ErrMFAEnabled     = apiError(http.StatusConflict, "mfa_enabled", "this account has a second factor already: turn it off first")
	ErrMFANotPending  = apiError(http.StatusConflict, "mfa_not_pending", "no second factor awaits confirmation: begin with POST /auth/mfa/totp")
	ErrMFANotEnabled  = apiError(http.StatusConflict, "mfa_not_enabled", "this account has no second factor")
	// A second factor required by policy (second_factor.required_for). 403: the
	// password was right, and no refresh or retry helps; enrolling does.
	ErrMFAEnrollmentRequired    = apiError(http.StatusForbidden, "mfa_enrollment_required", "this account must turn a second factor on before it signs in: POST /auth/mfa/enroll, then /auth/mfa/enroll/confirm")
	ErrMFAEnrollmentNotRequired = apiError(http.StatusForbidden, "mfa_enrollment_not_required", "this account may sign in without a second factor: sign in, then turn one on with POST /auth/mfa/totp")
	ErrMFAKeptByPolicy          = apiError(http.StatusForbidden, "mfa_required_by_policy", "this account must keep its second factor")
	// 401 at a refresh: the session is over (revoked), as after refresh_token_invalid.
	ErrSecondFactorRequired = apiError(http.StatusUnauthorized, "second_factor_required", "this session signed in without a second factor, which the account must now use: sign in again")
)

// Server side.
var (
	ErrNotReady    = apiError(http.StatusServiceUnavailable, "not_ready", "not ready")
	ErrUnavailable = apiError(http.StatusServiceUnavailable, "unavailable", "temporarily unavailable; retry shortly")
	ErrInternal    = apiError(http.StatusInternalServerError, "internal", "internal error")
)

// asAPIError turns any error into an *Error: API errors pass through, domain errors
// are mapped (see domainError), storage errors by the store's classification (bad input
// 400, unavailable 503), anything else is internal.
func asAPIError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if e := domainError(err); e != nil {
		return e
	}
	if errors.Is(err, store.ErrInvalidInput) {
		return ErrInvalidField.with(err, "a value is not text that can be stored (NUL bytes, invalid UTF-8)")
	}
	if transient(err) {
		e := ErrUnavailable.with(err, "")
		e.RetryAfter = time.Second
		return e
	}
	return ErrInternal.with(err, "")
}

// challenge is the WWW-Authenticate challenge of a 401, from the table the edges and
// sessionauth use (verifier.Challenge*; RATIONALE.md, "A 401 carries a Bearer
// challenge"): invalid_token for an access token refused (its expired form when it
// only expired), Bearer alone for every other 401 (no token, a refused password, code
// or refresh token).
func challenge(e *Error) string {
	switch {
	case e.Code == ErrUnauthenticated.Code && errors.Is(e.cause, verifier.ErrExpired):
		return verifier.ChallengeExpiredToken
	case e.Code == ErrUnauthenticated.Code && e.cause != nil, e.Code == ErrSessionRevoked.Code:
		return verifier.ChallengeInvalidToken
	default:
		return verifier.ChallengeNoToken
	}
}

// ErrorCodes lists every code the API answers with.
func ErrorCodes() []string {
	out := make([]string, len(allErrors))
	for i, e := range allErrors {
		out[i] = e.Code
	}
	return out
}

// transient reports failures that go away by themselves (the database unreachable or
// restarting, as the store classifies it; a write that lost to concurrent changes, such
// as a refresh whose session kept rotating under it; signing keys not reloaded
// recently; a deadline): the client may retry, and gets 503 with Retry-After rather
// than 500. Conflicts a user must resolve (an e-mail taken) are domain errors by then.
func transient(err error) bool {
	return errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrConflict) || errors.Is(err, keys.ErrStale) ||
		errors.Is(err, keys.ErrNoActiveKey) || errors.Is(err, context.DeadlineExceeded)
}

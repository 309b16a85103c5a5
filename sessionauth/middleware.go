package sessionauth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/edgeauth/edgeauth/verifier"
)

type identityKey struct{}

// WithIdentity returns a copy of ctx that carries id (Middleware does this).
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFrom returns the identity Middleware put in the request's context.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// Middleware authenticates every request before next runs: the access token is read
// and checked (CheckRequest), and when roles are given the identity must have one of
// them. next finds the identity with IdentityFrom. Refusals are answered with a JSON
// error (see WriteError): 401 without a valid token or with a revoked session, 403
// without a required role or for a state-changing request the access cookie authorizes
// from another origin (CheckRequest: cross-site request forgery), 503 while the
// source is stale. Nothing redirects: an API
// client that gets token_expired refreshes (POST /auth/refresh on the control plane)
// and retries.
func (c *Checker) Middleware(roles ...string) func(http.Handler) http.Handler {
	roles = append([]string(nil), roles...)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, err := c.CheckRequest(r)
			if err == nil && len(roles) > 0 && !id.HasRole(roles...) {
				err = ErrMissingRole
			}
			if err != nil {
				WriteError(w, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(WithIdentity(r.Context(), id)))
		})
	}
}

// RequireSecondFactor admits to next only requests whose identity (put in the context
// by Middleware, which must run first) signed in with a second factor; others are
// answered 403 mfa_required, as an edge answers a route with "mfa": true. Without an
// identity in the context it answers 401 unauthenticated: a handler mounted without
// Middleware refuses rather than opens.
//
//	mux.Handle("/admin/keys/", checker.Middleware("admin")(sessionauth.RequireSecondFactor(keys)))
func RequireSecondFactor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := IdentityFrom(r.Context())
		switch {
		case !ok:
			WriteError(w, ErrNoToken)
		case !id.SecondFactor:
			WriteError(w, ErrSecondFactorRequired)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// Refusal is how a refused check is answered over HTTP.
type Refusal struct {
	Status  int
	Code    string // stable, machine-readable
	Message string
}

// Codes of refusals, with their HTTP status (also the WebSocket upgrade's answers):
//
//	unauthenticated   401  no token, or a token that is not valid (malformed, badly signed, another issuer or audience, unknown key)
//	token_expired     401  a valid token past its exp: refresh (POST /auth/refresh) and retry
//	session_inactive  401  the token's session was revoked (logout, logout-all, reuse detection)
//	invalid_request   400  Cookie headers over the size limits, or (AllowBearer) Authorization sent more than once
//	cross_site_request 403 a state-changing request authorized by the access cookie from another origin (ErrCrossSite)
//	missing_role      403  none of the required roles
//	mfa_required      403  the sign-in used no second factor, which the resource requires
//	unavailable       503  keys or revocations stale (control plane unreachable): retry later
var (
	RefusalUnauthenticated = Refusal{http.StatusUnauthorized, "unauthenticated", "no valid access token: send the access cookie or an Authorization: Bearer header"}
	RefusalTokenExpired    = Refusal{http.StatusUnauthorized, "token_expired", "the access token has expired: refresh it (POST /auth/refresh on the control plane) and retry"}
	RefusalSessionInactive = Refusal{http.StatusUnauthorized, "session_inactive", "the session has ended or was revoked: sign in again"}
	RefusalInvalidRequest  = Refusal{http.StatusBadRequest, "invalid_request", "the Cookie headers are too large"}
	// RefusalDuplicateAuthorization: verifier.ErrDuplicateAuthorization, answered as the
	// control plane answers it.
	RefusalDuplicateAuthorization = Refusal{http.StatusBadRequest, "invalid_request", "the Authorization header is sent more than once: send one"}
	RefusalCrossSite              = Refusal{http.StatusForbidden, "cross_site_request", "cross-site request refused: this page's origin may not send state-changing requests with the session cookie"}
	RefusalMissingRole            = Refusal{http.StatusForbidden, "missing_role", "signed in, but without a role this resource requires"}
	RefusalMFARequired            = Refusal{http.StatusForbidden, "mfa_required", "signed in without a second factor, which this resource requires: turn one on, or sign in again with it"}
	RefusalUnavailable            = Refusal{http.StatusServiceUnavailable, "unavailable", "authentication is temporarily unavailable: retry shortly"}
)

// RefusalFor maps a Check, CheckRequest or Middleware error to its answer.
func RefusalFor(err error) Refusal {
	switch {
	case errors.Is(err, ErrStale):
		return RefusalUnavailable
	case errors.Is(err, ErrCrossSite):
		return RefusalCrossSite
	case errors.Is(err, ErrMissingRole):
		return RefusalMissingRole
	case errors.Is(err, ErrSecondFactorRequired):
		return RefusalMFARequired
	case errors.Is(err, verifier.ErrRevoked):
		return RefusalSessionInactive
	case errors.Is(err, verifier.ErrExpired):
		return RefusalTokenExpired
	case errors.Is(err, verifier.ErrDuplicateAuthorization): // before ErrInvalidRequest, which it wraps
		return RefusalDuplicateAuthorization
	case errors.Is(err, verifier.ErrInvalidRequest):
		return RefusalInvalidRequest
	default:
		return RefusalUnauthenticated
	}
}

// WriteError answers a refused check with RefusalFor(err) (Refusal.Write), with a
// WWW-Authenticate challenge on 401 (Challenge). The error's own text, which may name
// internals, is not sent.
func WriteError(w http.ResponseWriter, err error) {
	f := RefusalFor(err)
	if f.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", Challenge(err))
	}
	f.Write(w)
}

// Challenge is the WWW-Authenticate challenge that WriteError sends with a 401 for err
// (RFC 9110, 15.5.2: a 401 carries one). The scheme is Bearer (RFC 6750), the one the
// access token is also accepted under (Authorization: Bearer, where allowed); no scheme
// names a session cookie, and a Bearer challenge, unlike Basic, makes no browser ask
// for credentials. Without a token it is "Bearer" alone; an expired token gets
// error="invalid_token" with a description that says so, any other bad token
// error="invalid_token".
func Challenge(err error) string {
	switch {
	case errors.Is(err, verifier.ErrExpired):
		return verifier.ChallengeExpiredToken
	case errors.Is(err, ErrNoToken):
		return verifier.ChallengeNoToken
	default:
		return verifier.ChallengeInvalidToken
	}
}

// Write answers with f as {"error":{"code":...,"message":...}} (the control plane's
// error shape), with Cache-Control: no-store and Retry-After on 503. A 401 needs its
// WWW-Authenticate challenge set first (RFC 9110, 15.5.2): WriteError sets one.
func (f Refusal) Write(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	if f.Status == http.StatusServiceUnavailable {
		h.Set("Retry-After", "5")
	}
	body, _ := json.Marshal(map[string]any{"error": map[string]string{"code": f.Code, "message": f.Message}})
	w.WriteHeader(f.Status)
	_, _ = w.Write(append(body, '\n'))
}

// Package verifier is the host-facing API of the edgeauth edge gate: the types a host
// sends and receives, and the Engine interface that both the native core and the
// WebAssembly module (see package wasmhost) implement, so that the same table of
// tests runs against both and a Go program may use either.
//
// The decision logic itself lives in verifier/internal/gate, which TinyGo compiles
// into verifier.wasm; this package only encodes requests and decodes results.
package verifier

import (
	"context"
	"errors"

	"github.com/edgeauth/edgeauth/verifier/abi"
)

// Engine decides requests. Implementations: NewNative (the core compiled by Go) and
// wasmhost.Host (the core compiled by TinyGo, run in wazero). An Engine is safe for
// concurrent use.
//
// Every method takes a context, as wazero's api.Function.Call does: a context that is
// already done refuses the call (and the wasm host gives up waiting for an instance
// when it becomes done; with wasmhost.Options.StopOnContextDone it also stops a call
// running inside the module). Such a call returns an error wrapping ctx.Err() and
// changes nothing.
//
// Other errors wrap the sentinels of package abi (re-exported below), so errors.Is
// works whichever engine ran the check.
type Engine interface {
	// Configure validates and installs the configuration. A bad configuration returns
	// an error wrapping ErrInvalidConfig that says what to fix (the same text from
	// every engine), and leaves the previous configuration in place.
	Configure(ctx context.Context, cfg Config) error
	// LoadKeys installs a JWKS (RFC 7517 JSON). Unusable keys are skipped; a set with
	// symmetric keys, or with no usable key, returns ErrInvalidKeySet and changes
	// nothing. A successful load flushes the verified-token cache.
	LoadKeys(ctx context.Context, jwks []byte) error
	// LoadRevocations installs a signed revocation list (compact JWS, format in
	// verifier/ABI.md), checked against the loaded keys at time now (unix seconds).
	LoadRevocations(ctx context.Context, list []byte, now int64) error
	// Decide returns what to do with one request at time now (unix seconds). A request
	// the engine cannot read returns an error wrapping ErrInvalidRequest (an edge
	// answers 400), an empty Path included.
	Decide(ctx context.Context, req Request, now int64) (Decision, error)
	// VerifyToken checks one access token completely (signature, claims, revocation)
	// and returns its claims.
	VerifyToken(ctx context.Context, token string, now int64) (Claims, error)
	// Close releases the engine's resources; later calls fail with an error wrapping
	// ErrClosed. Close may be called again (it returns nil). Like wazero's
	// Runtime.Close, it takes the context used to close the resources.
	Close(ctx context.Context) error
}

// Request carries the facts of one HTTP request the gate needs. JSON field names are
// the wire format written into the module's buffer.
type Request struct {
	Method string `json:"method"`
	// Path is the URL path, percent-encoded as received (no query); never empty
	// (Decide refuses an empty one with ErrInvalidRequest).
	Path string `json:"path"`
	// Query is the raw query string without '?', used only to build return_to.
	Query string `json:"query,omitempty"`
	// Cookies holds the value of every Cookie header, in order.
	Cookies []string `json:"cookies,omitempty"`
	// Authorization is the Authorization header, if any ("Bearer <token>" is honoured
	// only when the configuration allows bearer tokens).
	Authorization string `json:"authorization,omitempty"`
}

// Action is what the edge does with a request.
type Action string

const (
	// ActionAllow forwards the request; Decision.Identity says who made it (nil on
	// public paths reached without a valid token).
	ActionAllow Action = "allow"
	// ActionRedirect sends the browser to Decision.Location (the login page, or away
	// from it for a signed-in user), clearing Decision.ClearCookies.
	ActionRedirect Action = "redirect"
	// ActionRefresh sends the browser through the refresh endpoint at
	// Decision.Location, which comes back to the original page.
	ActionRefresh Action = "refresh"
	// ActionDeny answers 403: the user is signed in but lacks a required role.
	ActionDeny Action = "deny"
)

// Decision is the gate's answer for one request.
type Decision struct {
	Action Action `json:"action"`
	// Reason is a stable machine-readable code, for logs, metrics and hosts (see
	// ABI.md, "Decision reasons").
	Reason Reason `json:"reason"`
	// Status is the module's answer when the request is not forwarded, as a page
	// navigation gets it: 302 for redirect and refresh, 403 for deny (400 for a
	// refused path, ReasonInvalidPath), 0 for allow. The edges adapt it to the
	// request (README, "How a request is decided"): a redirect or refresh is 303 to a
	// navigation with a method other than GET and HEAD, 401 to an API request (an API
	// route, a WebSocket upgrade, such a method from fetch), and a refresh is 401 to a
	// prefetch.
	Status   int       `json:"status,omitempty"`
	Location string    `json:"location,omitempty"`
	Identity *Identity `json:"identity,omitempty"`
	// ClearCookies are complete Set-Cookie header values that expire the named
	// cookies with exactly the attributes they were set with.
	ClearCookies []string `json:"clear_cookies,omitempty"`
}

// Reason is the stable code of a decision; compare with the constants below, never with
// string literals.
type Reason = abi.Reason

// Decision reasons (verifier/ABI.md, "Decision reasons").
const (
	ReasonAuthenticated       = abi.ReasonAuthenticated
	ReasonPublic              = abi.ReasonPublic
	ReasonPublicAuthenticated = abi.ReasonPublicAuthenticated
	ReasonNoToken             = abi.ReasonNoToken
	ReasonRefresh             = abi.ReasonRefresh
	ReasonTokenExpired        = abi.ReasonTokenExpired
	ReasonTokenNotYetValid    = abi.ReasonTokenNotYetValid
	ReasonUnknownKey          = abi.ReasonUnknownKey
	ReasonInvalidToken        = abi.ReasonInvalidToken
	ReasonDuplicateCookie     = abi.ReasonDuplicateCookie
	ReasonRevoked             = abi.ReasonRevoked
	ReasonMissingRole         = abi.ReasonMissingRole
	ReasonAlreadySignedIn     = abi.ReasonAlreadySignedIn
	ReasonInvalidPath         = abi.ReasonInvalidPath
	ReasonPreflight           = abi.ReasonPreflight
	ReasonMFARequired         = abi.ReasonMFARequired
)

// Identity is who a verified access token speaks for.
type Identity struct {
	Subject   string   `json:"sub"`
	SessionID string   `json:"sid"`
	Roles     []string `json:"roles,omitempty"`
	ExpiresAt int64    `json:"exp"`
	// SecondFactor is true when the token's sign-in used a second factor (its amr
	// claim lists "mfa"), as routes with "mfa": true require.
	SecondFactor bool `json:"mfa,omitempty"`
}

// Claims are the checked claims of an access token.
type Claims struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	Audience  []string `json:"aud"`
	SessionID string   `json:"sid"`
	Roles     []string `json:"roles,omitempty"`
	TokenID   string   `json:"jti,omitempty"`
	IssuedAt  int64    `json:"iat,omitempty"`
	NotBefore int64    `json:"nbf,omitempty"`
	ExpiresAt int64    `json:"exp"`
	// SecondFactor: the sign-in used a second factor (amr lists "mfa").
	SecondFactor bool `json:"mfa,omitempty"`
}

// ErrClosed is wrapped by every call of an Engine after its Close, whichever engine
// (wasmhost.ErrClosed wraps it). It is the host's own: no status of the module means it.
var ErrClosed = errors.New("verifier: engine closed")

// Sentinel errors, shared with package abi so that a status code from the module
// and a native failure compare equal under errors.Is.
var (
	ErrMalformed             = abi.ErrMalformed
	ErrTooLarge              = abi.ErrTooLarge
	ErrUnsupportedHeader     = abi.ErrUnsupportedHeader
	ErrAlgorithmNotAllowed   = abi.ErrAlgorithmNotAllowed
	ErrUnknownKey            = abi.ErrUnknownKey
	ErrSignatureInvalid      = abi.ErrSignatureInvalid
	ErrExpired               = abi.ErrExpired
	ErrNotValidYet           = abi.ErrNotValidYet
	ErrIssuedInFuture        = abi.ErrIssuedInFuture
	ErrInvalidIssuer         = abi.ErrInvalidIssuer
	ErrInvalidAudience       = abi.ErrInvalidAudience
	ErrInvalidType           = abi.ErrInvalidType
	ErrInvalidClaims         = abi.ErrInvalidClaims
	ErrRevoked               = abi.ErrRevoked
	ErrInvalidConfig         = abi.ErrInvalidConfig
	ErrInvalidKeySet         = abi.ErrInvalidKeySet
	ErrInvalidRevocationList = abi.ErrInvalidRevocationList
	ErrInvalidRequest        = abi.ErrInvalidRequest
	ErrInputTooLarge         = abi.ErrInputTooLarge
	ErrNotConfigured         = abi.ErrNotConfigured
	ErrInternal              = abi.ErrInternal
	// ErrNeedSignature comes with ErrInternal only, from a host that left a signature
	// question of the two-phase path unanswered (a bug).
	ErrNeedSignature = abi.ErrNeedSignature
)

package abi

// Reason is the stable, machine-readable code of every decision ("reason" in the
// decision JSON), for logs, metrics and hosts (verifier/ABI.md, "Decision reasons"). A
// code names the cause; the action (allow, redirect, refresh, deny) depends on the
// path. Codes are never renamed or reused; new ones are appended.
type Reason string

// The reasons.
const (
	// ReasonAuthenticated: protected path, valid token with a required role (if any).
	// Action allow, with identity.
	ReasonAuthenticated Reason = "authenticated"
	// ReasonPublic: public path, no token. Action allow, no identity.
	ReasonPublic Reason = "public"
	// ReasonPublicAuthenticated: public path with a valid token. Action allow, with
	// identity (pages may personalise).
	ReasonPublicAuthenticated Reason = "public_authenticated"
	// ReasonNoToken: protected path, neither an access token nor a refresh cookie.
	// Action redirect to the login path with return_to.
	ReasonNoToken Reason = "no_token"
	// ReasonRefresh: protected path, no access token but a refresh cookie. Action
	// refresh: redirect to the refresh path with return_to.
	ReasonRefresh Reason = "refresh"
	// ReasonTokenExpired: the access token is well signed but expired. Protected path:
	// action refresh (the refresh cookie is usually scoped to the auth path, so the
	// edge cannot see it; an expired but authentic access cookie is the signal).
	// Public path: allow without identity.
	ReasonTokenExpired Reason = "token_expired"
	// ReasonTokenNotYetValid: the token is well signed but its nbf or iat is ahead of
	// now beyond the leeway (a clock problem, not an attack). Protected path: redirect
	// to login without clearing cookies; public path: allow without identity.
	ReasonTokenNotYetValid Reason = "token_not_yet_valid"
	// ReasonUnknownKey: the token's kid (with its alg) is not in the loaded key set.
	// Protected path: redirect to login without clearing cookies; public path: allow
	// without identity. A host should refetch the JWKS (with a cooldown, say once per
	// 30 s, so forged kids cannot make it hammer the control plane), load it and
	// decide the same request again.
	ReasonUnknownKey Reason = "unknown_key"
	// ReasonInvalidToken: the token is malformed, badly signed, of another issuer,
	// audience or type, uses an algorithm not allowed, or lacks required claims.
	// Protected path: redirect to login; public path: allow without identity. Both
	// clear the access and refresh cookies.
	ReasonInvalidToken Reason = "invalid_token"
	// ReasonDuplicateCookie: the access cookie appears more than once (cookie tossing
	// or a stale cookie with another Path): refused, never guessed. Handled like
	// ReasonInvalidToken (cookies cleared).
	ReasonDuplicateCookie Reason = "duplicate_cookie"
	// ReasonRevoked: the token's session id is on the revocation list. Handled like
	// ReasonInvalidToken (cookies cleared).
	ReasonRevoked Reason = "revoked"
	// ReasonMissingRole: valid token on a protected path without any of its roles.
	// Action deny (403).
	ReasonMissingRole Reason = "missing_role"
	// ReasonAlreadySignedIn: the login path opened with a valid token. Action redirect
	// to the safe return_to of the login URL, else the after-login path.
	ReasonAlreadySignedIn Reason = "already_signed_in"
	// ReasonInvalidPath: the path is one no upstream should be asked to read (control
	// characters or NUL, invalid UTF-8, more than 8 levels of percent-encoding, a
	// segment of only dots and spaces however spelled; see policy.Match). Browsers
	// never send such paths. Action deny with status 400, whatever the token.
	ReasonInvalidPath Reason = "invalid_path"
	// ReasonPreflight: an OPTIONS request on a protected path without any credential
	// (no access or refresh cookie, no Authorization header): a CORS preflight, which
	// browsers send without credentials before a cross-origin call. Action allow,
	// without identity: the upstream answers it with its CORS policy.
	ReasonPreflight Reason = "preflight"
	// ReasonMFARequired: valid token with a required role (if any) on a protected path
	// whose rule asks for a second factor ("mfa": true), but the token's sign-in used
	// none (its "amr" claim lacks "mfa"). Action deny (403): the user turns a second
	// factor on, or signs in again with it.
	ReasonMFARequired Reason = "mfa_required"
)

// Reasons lists every reason code, in the order above: a reason's index is its code in
// the compact decision record (verifier/ABI.md, "decide_compact"), so new ones are
// appended.
var Reasons = [...]Reason{
	ReasonAuthenticated, ReasonPublic, ReasonPublicAuthenticated, ReasonNoToken,
	ReasonRefresh, ReasonTokenExpired, ReasonTokenNotYetValid, ReasonUnknownKey,
	ReasonInvalidToken, ReasonDuplicateCookie, ReasonRevoked, ReasonMissingRole,
	ReasonAlreadySignedIn, ReasonInvalidPath, ReasonPreflight, ReasonMFARequired,
}

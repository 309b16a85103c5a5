// Package sessionauth checks edgeauth sessions in any Go program: an API server that
// validates again next to its data, a WebSocket server, or a Go edge. It needs no
// database and no edge routing configuration, only the control plane's URL:
//
//   - Source keeps the control plane's published key set (JWKS) and signed revocation
//     list current: polled with ETags, pushed over the revocation stream when the
//     control plane offers it, verified before use, and readable by request paths
//     without a lock (an atomically swapped snapshot). A slow or unreachable control
//     plane never stalls a request: fetches run outside any lock, concurrent callers
//     share one fetch, and the last good documents serve until they are older than
//     MaxStale, after which every check fails closed.
//   - Checker verifies an access token (signature, type, issuer, audience, time) with
//     the verifier core's own code (verifier/jose), and refuses a session the source
//     knows to be revoked. It needs only an issuer, an audience and algorithms.
//   - Checker.Middleware is net/http middleware for APIs: it answers 401, 403 or 503
//     with a JSON error and hands the Identity to handlers through the request's
//     context (IdentityFrom). RequireSecondFactor, behind it, admits only identities
//     whose sign-in used a second factor (403 mfa_required), as an edge route with
//     "mfa": true does.
//
// Errors wrap the sentinels of package verifier (verifier.ErrExpired,
// verifier.ErrRevoked, ...) so errors.Is works as it does with an Engine.
package sessionauth

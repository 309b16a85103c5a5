package verifier

import "github.com/edgeauth/edgeauth/verifier/internal/policy"

// SafeReturnTo reports whether s (a path with an optional query) may be used as a
// redirect target after login or refresh: the gate's rule for return_to, which the
// control plane and any login page must apply too (one rule, no open redirect).
// It holds for a same-site relative reference: exactly one leading '/', a canonical
// path (no dot segments, no encoded '/' or '\'), visible ASCII only, no '#', no
// backslash, no encoded control character, at most 2048 bytes. "javascript:...",
// "https://other.example/", "//other.example" and "/\other.example" are refused.
func SafeReturnTo(s string) bool { return policy.SafeReturnTo(s) }

// EndpointPath reports whether p may be the login, refresh or logout path of an edge
// configuration: a canonical path of at most 1024 bytes, without a query (no dot
// segments, '//', backslash, encoded '/', '\\' or '.', NUL). Every edge refuses a
// configuration whose paths break this rule, so whoever publishes one checks it first.
func EndpointPath(p string) bool { return policy.EndpointPath(p) }

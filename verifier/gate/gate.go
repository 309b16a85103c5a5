// Package gate is the decision core of the edge verifier: it holds the configuration,
// the route policy, the key set, the revocation list and the verified-token cache, and
// answers one request at a time. TinyGo compiles it into verifier.wasm (package guest
// only decodes pointers and calls it); Go programs use it through verifier.NewNative.
//
// A Gate is not safe for concurrent use: a wasm instance is single-threaded and the
// native engine serialises calls.
package gate

import "github.com/edgeauth/edgeauth/verifier/abi"

// Gate decides requests. The zero value is not usable: call New.
type Gate struct{}

// New returns an unconfigured Gate: Decide and VerifyToken return abi.ErrNotConfigured
// until Configure and LoadKeys have succeeded.
func New() *Gate { return &Gate{} }

// Configure validates and installs a configuration (JSON of verifier.Config).
func (g *Gate) Configure(cfg []byte) error { return abi.ErrInvalidConfig }

// LoadKeys installs a JWKS.
func (g *Gate) LoadKeys(jwks []byte) error { return abi.ErrInvalidKeySet }

// LoadRevocations installs a signed revocation list.
func (g *Gate) LoadRevocations(list []byte, now int64) error {
	return abi.ErrInvalidRevocationList
}

// Decide appends the decision JSON (verifier.Decision) for one request (JSON of
// verifier.Request) to out.
func (g *Gate) Decide(req []byte, now int64, out []byte) ([]byte, error) {
	return out, abi.ErrNotConfigured
}

// VerifyToken appends the claims JSON (verifier.Claims) of a fully checked token to out.
func (g *Gate) VerifyToken(token []byte, now int64, out []byte) ([]byte, error) {
	return out, abi.ErrNotConfigured
}

// VerifySignature checks one raw signature (abi.EncodeSignatureCheck input).
func VerifySignature(input []byte) error { return abi.ErrInternal }

// Package p256 verifies ES256 (ECDSA over NIST P-256 with SHA-256) signatures.
//
// Why it exists: the verifier runs as a WebAssembly module built by TinyGo, and there
// the standard crypto/ecdsa manages under a thousand verifications a second, fifteen
// times slower than natively (its field code is built on 64x64->128-bit multiplies,
// which WebAssembly lacks). This package is several times faster there and is exactly
// as strict as crypto/ecdsa: the same keys parse, the same signatures verify (checked
// by differential tests, the Wycheproof vectors and a fuzz target against it).
//
// How (each file says why it is shaped as it is):
//   - field.go, field_mul.go: arithmetic mod p on eight 32-bit limbs, products
//     straight-line and reduced with P-256's special form (no Montgomery, no Mul64);
//   - scalar.go: the few operations mod n a verification needs;
//   - point.go: Jacobian/affine group law with the exceptional cases handled;
//   - table.go: precomputed tables for G (at build time) and for each key (in
//     ParsePublicKey), and the interleaved double-scalar multiplication u1*G + u2*Q.
//
// Verification only ever handles public data (public keys, signatures, message
// digests), so the implementation uses variable-time algorithms throughout: there is
// no secret whose timing could leak. Do not reuse this code for signing.
//
// The package is TinyGo-safe: no reflection, no goroutines, no fmt, no unsafe, no
// math/big, and Verify does not allocate.
package p256

import (
	"sync"

	"github.com/edgeauth/edgeauth/verifier/abi"
)

// Sizes of the encodings this package accepts.
const (
	CoordinateSize = 32 // one affine coordinate, big-endian
	SignatureSize  = 64 // R||S, each 32 bytes big-endian (JWS / IEEE P1363 form)
)

// ErrInvalidPublicKey is returned by ParsePublicKey for coordinates that are not a
// point of P-256. It wraps abi.ErrInvalidKeySet, so errors.Is(err, abi.ErrInvalidKeySet)
// holds.
var ErrInvalidPublicKey error = abi.Wrap(abi.ErrInvalidKeySet, "p256: invalid public key")

// PublicKey is a parsed P-256 public key, ready for repeated verification. Its
// precomputed table is built on the first Verify, so loading a key set costs only the
// on-curve checks. It is safe for concurrent use, so one key may be shared.
type PublicKey struct {
	x, y  element
	once  sync.Once
	table []affinePoint // see newTable; built on the first Verify, used by every Verify
}

// ParsePublicKey parses the affine coordinates of a P-256 public key, each exactly 32
// bytes big-endian (as in a JWK's "x" and "y"). It returns ErrInvalidPublicKey unless
// both coordinates are below the field prime p and the point lies on the curve (the
// point at infinity has no affine encoding, so it is never accepted). These are the
// checks of crypto/ecdsa.ParseUncompressedPublicKey.
//
// The per-key precomputation (roughly 1 ms in WebAssembly, 0.3 ms natively: the cost
// of ten-odd verifications; the table takes 8 KiB) runs on the key's first Verify, so
// an edge that loads a key set pays only for the keys tokens use; parse a key set once
// and reuse its keys for every token.
func ParsePublicKey(x, y []byte) (*PublicKey, error) {
	k := new(PublicKey)
	if !feFromBytes(&k.x, x) || !feFromBytes(&k.y, y) || !isOnCurve(&k.x, &k.y) {
		return nil, ErrInvalidPublicKey
	}
	return k, nil
}

// Verify reports whether sig is a valid ECDSA signature of digest under k.
//
// sig must be 64 bytes, R||S big-endian, with 0 < r < n and 0 < s < n; anything else
// is false. digest is normally a 32-byte SHA-256 output; other lengths follow FIPS 186
// (and crypto/ecdsa) exactly: a longer digest is truncated to its leftmost 32 bytes, a
// shorter one is read as a big-endian integer, and the result is reduced mod n.
// High-S signatures are valid (ECDSA has no low-S rule).
//
// The computation is variable-time, which is safe because every input is public.
func (k *PublicKey) Verify(digest []byte, sig []byte) bool {
	if k == nil || len(sig) != SignatureSize {
		return false
	}
	var r, s, e, w, u1, u2 scalar
	if !scalarFromBytes(&r, sig[:32]) || !scalarFromBytes(&s, sig[32:]) {
		return false
	}
	scalarFromDigest(&e, digest)
	scalarInv(&w, &s)
	scalarMul(&u1, &e, &w)
	scalarMul(&u2, &r, &w)

	k.once.Do(func() { k.table = newTable(&affinePoint{x: k.x, y: k.y}, windowQ) })
	var p jacobianPoint
	mulAdd(&p, &u1, &u2, k.table)
	if p.isInfinity() {
		return false
	}
	// Accept when x(P) mod n == r, without inverting Z: x(P) = X/Z^2 is in [0, p), and
	// p < 2n, so x(P) mod n == r exactly when x(P) == r or x(P) == r+n (the latter only
	// possible when r+n < p), that is when r*Z^2 == X or (r+n)*Z^2 == X.
	var z2, t element
	feSqr(&z2, &p.z)
	cand := element(r) // r < n < p, so r is a field element
	feMul(&t, &cand, &z2)
	if t == p.x {
		return true
	}
	var c uint64
	for i := 0; i < 8; i++ {
		v := uint64(cand[i]) + uint64(orderN[i]) + c
		cand[i] = uint32(v)
		c = v >> 32
	}
	if c != 0 || geq(&cand, &fieldP) {
		return false
	}
	feMul(&t, &cand, &z2)
	return t == p.x
}

// Package p256 verifies ES256 (ECDSA over NIST P-256 with SHA-256) signatures.
//
// It exists because the standard crypto/ecdsa, compiled by TinyGo to WebAssembly, is
// about fifteen times slower than natively. The package is meant to be exactly as
// strict as crypto/ecdsa: the same keys are accepted and the same signatures verify.
//
// Verification only ever handles public data (public keys, signatures, message
// digests), so the implementation is free to use variable-time algorithms.
//
// The package is TinyGo-safe: no reflection, no goroutines, no fmt.
package p256

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"math/big"

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
var ErrInvalidPublicKey error = &wrapError{msg: "p256: invalid public key", err: abi.ErrInvalidKeySet}

// wrapError is a fmt-free error with a message that wraps a sentinel.
type wrapError struct {
	msg string
	err error
}

func (e *wrapError) Error() string { return e.msg + ": " + e.err.Error() }
func (e *wrapError) Unwrap() error { return e.err }

// PublicKey is a parsed P-256 public key, ready for repeated verification.
type PublicKey struct {
	pub *ecdsa.PublicKey
}

// ParsePublicKey parses the affine coordinates of a P-256 public key, each exactly 32
// bytes big-endian (as in a JWK's "x" and "y"). It returns ErrInvalidPublicKey unless
// both coordinates are below the field prime p and the point lies on the curve (the
// point at infinity has no affine encoding, so it is never accepted).
func ParsePublicKey(x, y []byte) (*PublicKey, error) {
	if len(x) != CoordinateSize || len(y) != CoordinateSize {
		return nil, ErrInvalidPublicKey
	}
	var enc [1 + 2*CoordinateSize]byte
	enc[0] = 4
	copy(enc[1:], x)
	copy(enc[1+CoordinateSize:], y)
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), enc[:])
	if err != nil {
		return nil, ErrInvalidPublicKey
	}
	return &PublicKey{pub: pub}, nil
}

// Verify reports whether sig is a valid ECDSA signature of digest under k.
//
// sig must be 64 bytes, R||S big-endian, with 0 < r < n and 0 < s < n; anything else
// is false. digest is normally a 32-byte SHA-256 output; other lengths follow FIPS 186
// (and crypto/ecdsa) exactly: a longer digest is truncated to its leftmost 32 bytes, a
// shorter one is read as a big-endian integer, and the result is reduced mod n.
// High-S signatures are valid (ECDSA has no low-S rule).
func (k *PublicKey) Verify(digest []byte, sig []byte) bool {
	if k == nil || len(sig) != SignatureSize {
		return false
	}
	r := new(big.Int).SetBytes(sig[:32])
	s := new(big.Int).SetBytes(sig[32:])
	return ecdsa.Verify(k.pub, digest, r, s)
}

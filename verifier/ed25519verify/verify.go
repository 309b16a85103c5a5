// Package ed25519verify verifies Ed25519 signatures (RFC 8032 pure Ed25519, JOSE's
// EdDSA with crv Ed25519) with exactly the verdicts of the standard library's
// crypto/ed25519.Verify.
//
// Why it exists: the verifier runs as a WebAssembly module built by TinyGo, and there
// crypto/ed25519 is over three times slower than natively, because its field
// arithmetic multiplies 51-bit limbs with math/bits.Mul64 and WebAssembly has no
// 64x64->128-bit multiply. This package uses 32-bit-friendly limbs, precomputes per
// key, and is exactly as strict as crypto/ed25519 (checked by differential tests, the
// Wycheproof vectors and a fuzz target against it).
//
// How (each file says why it is shaped as it is):
//   - field.go, field_mul.go: arithmetic mod 2^255-19 on ten limbs of 26/25 bits
//     (ref10's radix 2^25.5), multiply and square straight-line (gen_field.go);
//   - scalar.go: reduction of the 512-bit hash mod L, the S < L check, wNAF recoding;
//   - point.go: ref10's extended-coordinate group law, encoding and decoding;
//   - table_base.go: odd multiples of B, 2^64 B, 2^128 B, 2^192 B, generated
//     (gen_table.go) into the module's data section;
//   - verify.go: the same four tables for -A, built once per key on its first Verify
//     (not in ParsePublicKey: an instance that loads a key set pays for the keys it
//     uses, not for every key it is given), and the
//     interleaved wNAF double-scalar multiplication [k](-A) + [S]B in Verify, split
//     into quarters so that 64 doublings serve the whole computation.
//
// Verification only ever handles public data (public keys, signatures, messages), so
// the implementation uses variable-time algorithms throughout: there is no secret
// whose timing could leak. Never reuse this code for signing.
//
// The package is TinyGo-safe: no reflection, no goroutines, no fmt, no unsafe, no
// math/big, and Verify does not allocate.
package ed25519verify

import (
	"sync"

	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/sha2"
)

// Sizes of the encodings this package accepts.
const (
	PublicKeySize = 32
	SignatureSize = 64
)

// Window widths of the wNAF recodings: k (per-key tables of 2^(keyWindow-2) odd
// multiples) and S (baseTables' 2^(baseWindow-2) odd multiples).
const (
	keyWindow  = 6
	baseWindow = 8
)

// The double-scalar multiplication [k](-A) + [S]B is split four ways: the 256 wNAF
// digits of each scalar are cut into quarters of 64, quarter c being added in with a
// table of multiples of 2^(64c)(-A) or 2^(64c)B. One shared chain of 64 doublings then
// serves all eight parts, instead of 253 doublings for the plain interleaved method;
// the number of additions is the same. The price is four tables per key (built in
// on a key's first Verify, about 7.7 KB per key) and four for B (in the data section).
const (
	quarters    = 4
	quarterBits = 64
)

// ErrInvalidPublicKey is returned by ParsePublicKey for 32 bytes that are not the
// encoding of a curve point. It wraps abi.ErrInvalidKeySet, so
// errors.Is(err, abi.ErrInvalidKeySet) holds.
var ErrInvalidPublicKey error = abi.Wrap(abi.ErrInvalidKeySet, "ed25519verify: invalid public key")

// PublicKey is a parsed Ed25519 public key, ready for repeated verification. Its
// precomputed table is built on the first Verify (about a millisecond inside wasm, the
// cost of a dozen verifications), so loading a key set costs only the point decoding.
// It is safe for concurrent use, so one key may be shared.
type PublicKey struct {
	enc  [32]byte // the key's bytes as given: they are hashed as such
	x, y fe       // the decoded point A

	once   sync.Once
	tables [quarters][1 << (keyWindow - 2)]precomp // [c][i] = (2i+1) 2^(64c) (-A), affine
}

// ParsePublicKey parses a 32-byte Ed25519 public key (its table is built on the first
// Verify). It
// accepts exactly the keys crypto/ed25519 can verify with (those that
// edwards25519.Point.SetBytes decodes): non-canonical y (p <= y < 2^255) and x = 0
// with the sign bit set are accepted as there, and so are points of small order or
// outside the prime-order subgroup. Anything else, and any other length, returns
// ErrInvalidPublicKey (crypto/ed25519.Verify returns false for every signature with
// such a key, or panics on the wrong length).
func ParsePublicKey(b []byte) (*PublicKey, error) {
	if len(b) != PublicKeySize {
		return nil, ErrInvalidPublicKey
	}
	k := &PublicKey{}
	copy(k.enc[:], b)
	if !decodePoint(&k.x, &k.y, &k.enc) {
		return nil, ErrInvalidPublicKey
	}
	return k, nil
}

// precompute builds k.tables (once, on the first Verify).
func (k *PublicKey) precompute() {
	x, y := &k.x, &k.y
	// P_0 = -A in extended coordinates, P_c = 2^(64c) P_0.
	var base [quarters]extP3
	feNeg(&base[0].X, x)
	feCarry(&base[0].X, &base[0].X)
	feCarry(&base[0].Y, y)
	base[0].Z = feOne
	feMul(&base[0].T, &base[0].X, &base[0].Y)
	var c completed
	for q := 1; q < quarters; q++ {
		var r projP2
		r.X, r.Y, r.Z = base[q-1].X, base[q-1].Y, base[q-1].Z
		for i := 0; i < quarterBits; i++ {
			c.double(&r.X, &r.Y, &r.Z)
			if i < quarterBits-1 {
				r.fromCompleted(&c)
			}
		}
		base[q].fromCompleted(&c)
	}

	// Odd multiples (2i+1)P_c, projective, then all made affine with one inversion
	// (Montgomery's trick).
	const m = len(k.tables[0])
	const n = quarters * m
	var pts [n]extP3
	for q := 0; q < quarters; q++ {
		var p2 extP3
		c.double(&base[q].X, &base[q].Y, &base[q].Z)
		p2.fromCompleted(&c)
		var p2c cached
		p2c.fromP3(&p2)
		pts[q*m] = base[q]
		for i := 1; i < m; i++ {
			c.add(&pts[q*m+i-1], &p2c)
			pts[q*m+i].fromCompleted(&c)
		}
	}
	var prefix [n]fe // prefix[i] = Z_0 * ... * Z_i
	prefix[0] = pts[0].Z
	for i := 1; i < n; i++ {
		feMul(&prefix[i], &prefix[i-1], &pts[i].Z)
	}
	var inv fe // 1 / (Z_0 * ... * Z_i), walking down
	feInvert(&inv, &prefix[n-1])
	for i := n - 1; i >= 0; i-- {
		var zinv, ax, ay, t fe
		if i > 0 {
			feMul(&zinv, &inv, &prefix[i-1])
			feMul(&inv, &inv, &pts[i].Z)
		} else {
			zinv = inv
		}
		feMul(&ax, &pts[i].X, &zinv)
		feMul(&ay, &pts[i].Y, &zinv)
		e := &k.tables[i/m][i%m]
		feAdd(&t, &ay, &ax)
		feCarry(&e.yPlusX, &t)
		feSub(&t, &ay, &ax)
		feCarry(&e.yMinusX, &t)
		feMul(&t, &ax, &ay)
		feMul(&e.xy2d, &t, &feD2)
	}
}

// Bytes returns the key's 32 bytes as given to ParsePublicKey.
func (k *PublicKey) Bytes() []byte { return append([]byte(nil), k.enc[:]...) }

// Verify reports whether sig is a valid Ed25519 signature of msg by k, with the
// verdict of crypto/ed25519.Verify: sig must be 64 bytes R||S with S < L (so the top
// three bits of sig[63] clear), and the canonical encoding of
// [k](-A) + [S]B, k = SHA-512(R || A || msg) mod L, must equal R's bytes (the
// cofactorless equation; a non-canonical R therefore never verifies). A nil key
// verifies nothing.
func (k *PublicKey) Verify(msg, sig []byte) bool {
	if k == nil || len(sig) != SignatureSize || sig[63]&224 != 0 || !scIsCanonical(sig[32:]) {
		return false
	}
	k.once.Do(k.precompute)
	var digest [64]byte
	sha2.Sum512(&digest, sig[:32], k.enc[:], msg)
	var kk, s [32]byte
	scReduce(&kk, digest[:])
	copy(s[:], sig[32:])

	var kNaf, sNaf [256]int8
	wnaf(&kNaf, &kk, keyWindow)
	wnaf(&sNaf, &s, baseWindow)

	j := quarterBits - 1
	for j >= 0 && !anyDigit(&kNaf, &sNaf, j) {
		j--
	}
	var r projP2
	r.zero()
	var c completed
	var u extP3
	for ; j >= 0; j-- {
		c.double(&r.X, &r.Y, &r.Z)
		for q := 0; q < quarters; q++ {
			if d := kNaf[q*quarterBits+j]; d > 0 {
				u.fromCompleted(&c)
				c.madd(&u, &k.tables[q][d/2])
			} else if d < 0 {
				u.fromCompleted(&c)
				c.msub(&u, &k.tables[q][-d/2])
			}
			if d := sNaf[q*quarterBits+j]; d > 0 {
				u.fromCompleted(&c)
				c.madd(&u, &baseTables[q][d/2])
			} else if d < 0 {
				u.fromCompleted(&c)
				c.msub(&u, &baseTables[q][-d/2])
			}
		}
		r.fromCompleted(&c)
	}
	var enc [32]byte
	encodePoint(&enc, &r.X, &r.Y, &r.Z)
	var want [32]byte
	copy(want[:], sig[:32])
	return enc == want
}

// anyDigit reports whether digit j of any quarter of either recoding is non-zero.
func anyDigit(kNaf, sNaf *[256]int8, j int) bool {
	for q := 0; q < quarters; q++ {
		if kNaf[q*quarterBits+j] != 0 || sNaf[q*quarterBits+j] != 0 {
			return true
		}
	}
	return false
}

package jose

import (
	"github.com/edgeauth/edgeauth/verifier/internal/sha2"
	"github.com/edgeauth/edgeauth/verifier/p256"
)

// ES256 is ECDSA over P-256 with SHA-256. JWS signatures are the fixed 64-byte R||S
// form (RFC 7518 §3.4), never DER; p256.Verify refuses any other length and r or s
// outside 1..n-1. The on-curve check happens when the JWKS is loaded, in
// p256.ParsePublicKey; the per-key table is built on the key's first verification.

func parseES256(k *Key, x, y []byte) error {
	pub, err := p256.ParsePublicKey(x, y)
	if err != nil {
		return errKeyMaterial
	}
	k.ec = pub
	return nil
}

// p256Order is n, the order of the P-256 group, big-endian.
var p256Order = [32]byte{
	0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
}

// scalarInRange reports whether a 32-byte big-endian value v satisfies 0 < v < n.
// p256.Verify checks the same; checking here too keeps this package's guarantee
// independent of that package's internals.
func scalarInRange(v []byte) bool {
	zero := true
	for _, b := range v {
		if b != 0 {
			zero = false
			break
		}
	}
	if zero {
		return false
	}
	for i := range p256Order {
		if v[i] != p256Order[i] {
			return v[i] < p256Order[i]
		}
	}
	return false // v == n
}

func verifyES256(pub *p256.PublicKey, msg, sig []byte) error {
	if len(sig) != p256.SignatureSize {
		return errSignatureSize
	}
	if !scalarInRange(sig[:32]) || !scalarInRange(sig[32:]) {
		return errSignature
	}
	digest := sha2.Sum256(msg)
	if !pub.Verify(digest[:], sig) {
		return errSignature
	}
	return nil
}

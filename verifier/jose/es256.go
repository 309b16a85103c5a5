package jose

import (
	"crypto/sha256"

	"github.com/edgeauth/edgeauth/verifier/p256"
)

// ES256 is ECDSA over P-256 with SHA-256. JWS signatures are the fixed 64-byte R||S
// form (RFC 7518 §3.4), never DER; p256.Verify refuses any other length and r or s
// outside 1..n-1. Key parsing (on-curve check and any precomputation) happens once
// when the JWKS is loaded, in p256.ParsePublicKey.

func parseES256(k *Key, x, y []byte) error {
	pub, err := p256.ParsePublicKey(x, y)
	if err != nil {
		return errKeyMaterial
	}
	k.ec = pub
	return nil
}

func verifyES256(pub *p256.PublicKey, msg, sig []byte) error {
	if len(sig) != p256.SignatureSize {
		return errSignatureSize
	}
	digest := sha256.Sum256(msg)
	if !pub.Verify(digest[:], sig) {
		return errSignature
	}
	return nil
}

package jose

import "github.com/edgeauth/edgeauth/verifier/ed25519verify"

// EdDSA here means Ed25519 (RFC 8037), the default algorithm. Verification uses
// ed25519verify, which gives exactly crypto/ed25519.Verify's verdicts (differential,
// Wycheproof and fuzz tests there) and is several times faster inside wasm. It is strict
// in the ways that matter: it refuses signatures whose S is not reduced (S >= L, the
// classic malleability), and a non-canonical R never compares equal. The point is
// decoded when the JWKS is loaded (32 bytes that are not a curve point are refused
// there; crypto/ed25519 would accept them as a key that verifies nothing); the
// per-key table is built on the key's first verification.

func parseEd25519(k *Key, x []byte) error {
	pub, err := ed25519verify.ParsePublicKey(x)
	if err != nil {
		return errKeyMaterial
	}
	k.ed = pub
	return nil
}

func verifyEd25519(pub *ed25519verify.PublicKey, msg, sig []byte) error {
	if len(sig) != ed25519verify.SignatureSize {
		return errSignatureSize
	}
	if !pub.Verify(msg, sig) {
		return errSignature
	}
	return nil
}

package jose

import "crypto/ed25519"

// EdDSA here means Ed25519 (RFC 8037), the default algorithm: fastest inside wasm.
// crypto/ed25519.Verify is strict in the ways that matter: it refuses signatures whose
// S is not reduced (S >= L, the classic malleability), and non-canonical encodings of
// the public key's or R's point fail to decompress or to compare.

func parseEd25519(k *Key, x []byte) error {
	if len(x) != ed25519.PublicKeySize {
		return errKeyMaterial
	}
	k.ed = ed25519.PublicKey(x)
	return nil
}

func verifyEd25519(pub ed25519.PublicKey, msg, sig []byte) error {
	if len(sig) != ed25519.SignatureSize {
		return errSignatureSize
	}
	if !ed25519.Verify(pub, msg, sig) {
		return errSignature
	}
	return nil
}

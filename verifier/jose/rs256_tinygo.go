//go:build tinygo

package jose

import "github.com/edgeauth/edgeauth/verifier/rsaverify"

// rsaKey is an RS256 key inside the module: rsaverify, which gives crypto/rsa's
// verdicts at 2.4x its speed under TinyGo and without the 17 KB of data and 125 KB of
// code that crypto/rsa and math/big bring into verifier.wasm (RATIONALE.md, "Instance
// ready").
type rsaKey struct{ pub *rsaverify.PublicKey }

// newRSAKey takes a modulus and exponent that parseRS256 has checked.
func newRSAKey(n []byte, e uint32) (rsaKey, error) {
	pub, err := rsaverify.NewPublicKey(n, e)
	return rsaKey{pub}, err
}

func (k rsaKey) Size() int { return k.pub.Size() }

func (k rsaKey) VerifySHA256(digest *[32]byte, sig []byte) bool {
	return k.pub.VerifySHA256(digest, sig)
}

package jose

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"math/big"
)

// RS256 is RSASSA-PKCS1-v1_5 with SHA-256, kept only for interoperability (RSA
// verification is cheap, but keys and signatures are large). Moduli must be 2048 to
// 8192 bits: smaller ones are breakable, larger ones only cost verification time. The
// public exponent must be odd and at least 3 (e = 1 makes every "signature" verify)
// and fit in 31 bits, as crypto/rsa requires.

const (
	minRSABits = 2048
	maxRSABits = 8192
)

func parseRS256(k *Key, n, e []byte) error {
	// RFC 7518 §6.3.1: minimal big-endian encodings, so no leading zero octet.
	if len(n) == 0 || n[0] == 0 || len(e) == 0 || e[0] == 0 || len(e) > 4 {
		return errKeyMaterial
	}
	mod := new(big.Int).SetBytes(n)
	if bits := mod.BitLen(); bits < minRSABits || bits > maxRSABits {
		return errKeyRSASize
	}
	if mod.Bit(0) == 0 {
		return errKeyMaterial // an even modulus is not a product of two odd primes
	}
	var exp uint64
	for _, b := range e {
		exp = exp<<8 | uint64(b)
	}
	if exp < 3 || exp&1 == 0 || exp > 1<<31-1 {
		return errKeyRSAExponent
	}
	k.rsa = &rsa.PublicKey{N: mod, E: int(exp)}
	return nil
}

func verifyRS256(pub *rsa.PublicKey, msg, sig []byte) error {
	// A PKCS#1 signature is exactly as long as the modulus (RFC 8017 §8.2.2).
	if len(sig) != pub.Size() {
		return errSignatureSize
	}
	digest := sha256.Sum256(msg)
	if rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) != nil {
		return errSignature
	}
	return nil
}

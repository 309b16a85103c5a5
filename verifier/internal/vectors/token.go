package vectors

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"math/big"
)

// The deployment every TokenCase assumes unless its Config says otherwise.
const (
	Issuer   = "https://auth.example.test"
	Audience = "https://app.example.test"
	// Now is the verification time of the cases (unix seconds, 2027-01-15).
	Now int64 = 1_800_000_000
	// Leeway is the clock skew the default configuration tolerates.
	Leeway int64 = 30
)

// ValidatorConfig is what a verifier needs besides the token and the JWKS. Algorithms
// are strings so that this package does not depend on the code it tests.
type ValidatorConfig struct {
	Issuer     string
	Audience   string
	Algorithms []string
	Leeway     int64
	Now        int64
}

// DefaultConfig allows the three algorithms with the default issuer, audience, leeway
// and time.
func DefaultConfig() ValidatorConfig {
	return ValidatorConfig{Issuer: Issuer, Audience: Audience, Algorithms: []string{"EdDSA", "ES256", "RS256"}, Leeway: Leeway, Now: Now}
}

// Claims returns a valid access-token claim set at time now (lifetime 600 s).
func Claims(now int64) map[string]any {
	return map[string]any{
		"iss":   Issuer,
		"aud":   Audience,
		"sub":   "user-42",
		"sid":   "c2Vzc2lvbi0xMjM0NTY3ODkwYWJjZGVm",
		"roles": []string{"admin", "billing"},
		"jti":   "tok-1",
		"iat":   now - 60,
		"nbf":   now - 60,
		"exp":   now + 540,
	}
}

// Header returns the standard access-token header for the key.
func (k TestKey) Header() map[string]any {
	return map[string]any{"alg": k.Alg, "kid": k.KID, "typ": "at+jwt"}
}

// Token signs claims with the standard header.
func (k TestKey) Token(claims map[string]any) string {
	return k.Sign(MustJSON(k.Header()), MustJSON(claims))
}

// Sign builds a compact JWS over raw header and payload bytes (which need not be
// JSON, so that tests can send anything).
func (k TestKey) Sign(header, payload []byte) string {
	input := b64(header) + "." + b64(payload)
	return input + "." + b64(k.SignatureOver([]byte(input)))
}

// SignatureOver returns the raw JWS signature over msg: Ed25519, ES256 as 64-byte
// R||S (deterministic, see ES256Sign), or RSASSA-PKCS1-v1_5 SHA-256.
func (k TestKey) SignatureOver(msg []byte) []byte {
	switch priv := k.Private.(type) {
	case ed25519.PrivateKey:
		return ed25519.Sign(priv, msg)
	case *ecdsa.PrivateKey:
		r, s := ES256Sign(priv, msg)
		return RS(r, s)
	case *rsa.PrivateKey:
		d := sha256.Sum256(msg)
		sig, err := rsa.SignPKCS1v15(nil, priv, crypto.SHA256, d[:])
		if err != nil {
			panic(err)
		}
		return sig
	}
	panic("vectors: unknown key type")
}

// P256N is the order of the P-256 group.
var P256N = elliptic.P256().Params().N

// ES256Sign signs msg deterministically: the nonce is derived from the private scalar
// and the message digest by SHA-256 (not RFC 6979, but deterministic, which is all
// test data needs). It returns r and s, with s not normalised (ECDSA has no low-S rule).
func ES256Sign(priv *ecdsa.PrivateKey, msg []byte) (r, s *big.Int) {
	curve := elliptic.P256()
	n := curve.Params().N
	digest := sha256.Sum256(msg)
	e := new(big.Int).SetBytes(digest[:])
	dBytes, err := priv.Bytes()
	if err != nil {
		panic(err)
	}
	d := new(big.Int).SetBytes(dBytes)
	for ctr := byte(0); ; ctr++ {
		h := sha256.Sum256(append(append(append([]byte{}, dBytes...), digest[:]...), ctr))
		k := new(big.Int).SetBytes(h[:])
		k.Mod(k, n)
		if k.Sign() == 0 {
			continue
		}
		x, _ := curve.ScalarBaseMult(k.FillBytes(make([]byte, 32)))
		r = new(big.Int).Mod(x, n)
		if r.Sign() == 0 {
			continue
		}
		s = new(big.Int).Mul(r, d)
		s.Add(s, e)
		s.Mul(s, new(big.Int).ModInverse(k, n))
		s.Mod(s, n)
		if s.Sign() != 0 {
			return r, s
		}
	}
}

// RS encodes r and s as the 64-byte JWS ES256 signature (values up to 2^256-1 fit;
// larger ones panic).
func RS(r, s *big.Int) []byte {
	out := make([]byte, 64)
	r.FillBytes(out[:32])
	s.FillBytes(out[32:])
	return out
}

// MustJSON marshals v with encoding/json (test data only).
func MustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

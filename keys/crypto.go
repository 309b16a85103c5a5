package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"

	"github.com/golang-jwt/jwt/v5"
)

// RSABits is the modulus size of generated RS256 keys.
const RSABits = 3072

var b64 = base64.RawURLEncoding

// generate makes a new private key for alg.
func generate(alg string) (crypto.Signer, error) {
	switch alg {
	case AlgEdDSA:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	case AlgES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case AlgRS256:
		return rsa.GenerateKey(rand.Reader, RSABits)
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownAlgorithm, alg)
}

// method is the golang-jwt signing method for alg.
func method(alg string) (jwt.SigningMethod, error) {
	switch alg {
	case AlgEdDSA:
		return jwt.SigningMethodEdDSA, nil
	case AlgES256:
		return es256Deterministic{jwt.SigningMethodES256}, nil
	case AlgRS256:
		return jwt.SigningMethodRS256, nil
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownAlgorithm, alg)
}

// es256Deterministic is ES256 with RFC 6979 deterministic nonces (crypto/ecdsa with no
// random source), so that, as with EdDSA and RS256, the same claims under the same key
// sign to the same token: a refresh's grace replay relies on that to return the access
// token the rotation returned (auth.Service.Refresh). Verification is golang-jwt's.
type es256Deterministic struct{ *jwt.SigningMethodECDSA }

func (m es256Deterministic) Sign(signingString string, key any) ([]byte, error) {
	priv, ok := key.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return nil, jwt.ErrInvalidKeyType
	}
	digest := sha256.Sum256([]byte(signingString))
	der, err := priv.Sign(nil, digest[:], crypto.SHA256)
	if err != nil {
		return nil, err
	}
	var sig struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &sig); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("keys: ES256 signature: %v", err)
	}
	out := make([]byte, 64) // R || S, 32 bytes each (RFC 7518, section 3.4)
	sig.R.FillBytes(out[:32])
	sig.S.FillBytes(out[32:])
	return out, nil
}

// checkKey reports whether pub is the kind of key alg uses (a row whose alg and key
// disagree is refused rather than published).
func checkKey(alg string, pub crypto.PublicKey) error {
	ok := false
	switch k := pub.(type) {
	case ed25519.PublicKey:
		ok = alg == AlgEdDSA
	case *ecdsa.PublicKey:
		ok = alg == AlgES256 && k.Curve == elliptic.P256()
	case *rsa.PublicKey:
		ok = alg == AlgRS256 && k.N.BitLen() >= 2048
	}
	if !ok {
		return fmt.Errorf("keys: %T does not fit algorithm %q", pub, alg)
	}
	return nil
}

// jwk is a public JSON Web Key as published in the JWKS. Member order is fixed so the
// body (and its ETag) depends only on the key set.
type jwk struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
}

// publicJWK describes pub as a JWK without kid (see thumbprint).
func publicJWK(alg string, pub crypto.PublicKey) (jwk, error) {
	if err := checkKey(alg, pub); err != nil {
		return jwk{}, err
	}
	j := jwk{Use: "sig", Alg: alg}
	switch k := pub.(type) {
	case ed25519.PublicKey:
		j.Kty, j.Crv, j.X = "OKP", "Ed25519", b64.EncodeToString(k)
	case *ecdsa.PublicKey:
		pt, err := k.Bytes() // 0x04 || X || Y
		if err != nil {
			return jwk{}, fmt.Errorf("keys: %w", err)
		}
		j.Kty, j.Crv = "EC", "P-256"
		j.X, j.Y = b64.EncodeToString(pt[1:33]), b64.EncodeToString(pt[33:65])
	case *rsa.PublicKey:
		j.Kty = "RSA"
		j.N = b64.EncodeToString(k.N.Bytes())
		j.E = b64.EncodeToString(big.NewInt(int64(k.E)).Bytes())
	}
	return j, nil
}

// thumbprint is the RFC 7638 JWK thumbprint (SHA-256, base64url): the kid. It depends
// only on the public key, so it is stable and, for fresh keys, unique.
func thumbprint(j jwk) string {
	var s string
	switch j.Kty {
	case "OKP":
		s = `{"crv":"` + j.Crv + `","kty":"OKP","x":"` + j.X + `"}`
	case "EC":
		s = `{"crv":"` + j.Crv + `","kty":"EC","x":"` + j.X + `","y":"` + j.Y + `"}`
	case "RSA":
		s = `{"e":"` + j.E + `","kty":"RSA","n":"` + j.N + `"}`
	}
	h := sha256.Sum256([]byte(s))
	return b64.EncodeToString(h[:])
}

// jwksBody renders the key set document.
func jwksBody(keys []jwk) ([]byte, error) {
	if keys == nil {
		keys = []jwk{}
	}
	b, err := json.Marshal(struct {
		Keys []jwk `json:"keys"`
	}{keys})
	if err != nil {
		return nil, fmt.Errorf("keys: jwks: %w", err)
	}
	return b, nil
}

// etag is a strong entity tag for body: a hash of the bytes.
func etag(body []byte) string {
	h := sha256.Sum256(body)
	return `"` + b64.EncodeToString(h[:]) + `"`
}

// marshalPrivate encodes k as PKCS #8 DER.
func marshalPrivate(k crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("keys: encode private key: %w", err)
	}
	return der, nil
}

// parsePrivate decodes PKCS #8 DER and checks it fits alg.
func parsePrivate(alg string, der []byte) (crypto.Signer, error) {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("keys: decode private key: %w", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("keys: private key %T cannot sign", k)
	}
	if err := checkKey(alg, s.Public()); err != nil {
		return nil, err
	}
	return s, nil
}

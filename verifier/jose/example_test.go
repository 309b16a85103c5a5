package jose_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/jose"
)

func ExampleValidator_Verify() {
	is := newIssuer()                    // stands in for the token's issuer
	now := int64(1_800_000_000)          // unix seconds; time.Now().Unix() in practice
	ks, err := jose.ParseJWKS(is.JWKS()) // the issuer's published JWKS
	if err != nil {
		panic(err)
	}
	v := &jose.Validator{
		Issuer:     "https://auth.example.test",
		Audience:   "https://app.example.test",
		Algorithms: []jose.Algorithm{jose.EdDSA},
		Leeway:     30,
	}
	token := is.AccessToken("https://auth.example.test", "https://app.example.test", now)

	claims, err := v.Verify([]byte(token), ks, now)
	fmt.Println(claims.Subject, claims.Roles, err)

	_, err = v.Verify([]byte(token), ks, now+3600)
	fmt.Println(errors.Is(err, abi.ErrExpired))
	// Output:
	// user-42 [admin billing] <nil>
	// true
}

// issuer stands in for the control plane in these examples: its Ed25519 signing key
// (a fixed seed, so the output is the same every run; a control plane generates and
// rotates its keys), the JWKS it publishes, and an access token it issues.
type issuer struct {
	kid  string
	priv ed25519.PrivateKey
}

func newIssuer() issuer {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i + 1)
	}
	return issuer{kid: "ed-2026-1", priv: ed25519.NewKeyFromSeed(seed)}
}

// JWKS is the document the control plane publishes at /.well-known/jwks.json.
func (is issuer) JWKS() []byte {
	b, _ := json.Marshal(map[string]any{"keys": []map[string]string{{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA",
		"use": "sig", "kid": is.kid, "x": base64.RawURLEncoding.EncodeToString(is.priv.Public().(ed25519.PublicKey))}}})
	return b
}

// AccessToken signs an access token (a compact JWS, typ at+jwt) for user-42, valid
// from a minute before now for ten minutes.
func (is issuer) AccessToken(iss, aud string, now int64) string {
	header, _ := json.Marshal(map[string]string{"alg": "EdDSA", "typ": "at+jwt", "kid": is.kid})
	claims, _ := json.Marshal(map[string]any{"iss": iss, "aud": aud, "sub": "user-42", "sid": "session-1",
		"roles": []string{"admin", "billing"}, "iat": now - 60, "nbf": now - 60, "exp": now + 540})
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(claims)
	return input + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(is.priv, []byte(input)))
}

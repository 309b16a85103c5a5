package conformance

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/edgeauth/edgeauth/verifier"
)

// Shared fixtures: a fixed clock, a configuration, and signing keys of every algorithm
// whose tokens are minted by golang-jwt (an independent implementation).

const (
	testNow      = 1767225600 // 2026-01-01T00:00:00Z
	testIssuer   = "https://auth.example.test"
	testAudience = "https://app.example.test"
)

var (
	accessCookie  = verifier.Cookie{Name: "__Host-edgeauth", Path: "/", Secure: true, HTTPOnly: true, SameSite: "Lax"}
	refreshCookie = verifier.Cookie{Name: "__Secure-edgeauth-refresh", Path: "/auth", Secure: true, HTTPOnly: true, SameSite: "Lax"}
)

// testConfig is a typical configuration; cacheEntries sizes the verified-token cache.
func testConfig(cacheEntries int, algs ...string) verifier.Config {
	if len(algs) == 0 {
		algs = []string{"EdDSA", "ES256", "RS256"}
	}
	return verifier.Config{
		EdgeConfig: verifier.EdgeConfig{
			Issuer: testIssuer, Audience: testAudience, Algorithms: algs,
			AccessCookie: accessCookie, RefreshCookie: refreshCookie,
			LoginPath: "/login", RefreshPath: "/auth/refresh",
		},
		LocalConfig: verifier.LocalConfig{
			AfterLoginPath:   "/app/",
			PublicPaths:      []string{"/login", "/auth/", "/assets/"},
			Protected:        []verifier.ProtectedRoute{{Prefix: "/admin/", Roles: []string{"admin"}}, {Prefix: "/app/"}},
			DefaultProtected: true,
			CacheEntries:     cacheEntries,
		},
	}
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// setUp configures e and loads the JWKS of signers.
func setUp(tb testing.TB, e verifier.Engine, cfg verifier.Config, signers ...*signer) {
	tb.Helper()
	if err := e.Configure(context.Background(), cfg); err != nil {
		tb.Fatal("configure:", err)
	}
	if err := e.LoadKeys(context.Background(), jwksOf(tb, signers...)); err != nil {
		tb.Fatal("load keys:", err)
	}
}

// signer is one private key with its JWK.
type signer struct {
	alg    string
	kid    string
	key    crypto.Signer
	method jwt.SigningMethod
	jwk    map[string]any
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// newSigner generates a random key for alg (EdDSA, ES256 or RS256).
func newSigner(tb testing.TB, alg, kid string) *signer {
	tb.Helper()
	s, err := genSigner(alg, kid)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func genSigner(alg, kid string) (*signer, error) {
	s := &signer{alg: alg, kid: kid}
	switch alg {
	case "EdDSA":
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		s.key, s.method = priv, jwt.SigningMethodEdDSA
		s.jwk = map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(pub)}
	case "ES256":
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		s.key, s.method = priv, jwt.SigningMethodES256
		s.jwk = map[string]any{"kty": "EC", "crv": "P-256",
			"x": b64(priv.X.FillBytes(make([]byte, 32))), "y": b64(priv.Y.FillBytes(make([]byte, 32)))}
	case "RS256":
		priv, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		s.key, s.method = priv, jwt.SigningMethodRS256
		s.jwk = map[string]any{"kty": "RSA", "n": b64(priv.N.Bytes()), "e": b64(big.NewInt(int64(priv.E)).Bytes())}
	default:
		return nil, fmt.Errorf("unknown algorithm %q", alg)
	}
	s.jwk["kid"], s.jwk["alg"], s.jwk["use"] = kid, alg, "sig"
	return s, nil
}

// fixedSigners are one key per algorithm, generated once per test binary (RSA keys
// take a while).
var fixedSigners = sync.OnceValues(func() (map[string]*signer, error) {
	m := map[string]*signer{}
	for _, alg := range []string{"EdDSA", "ES256", "RS256"} {
		s, err := genSigner(alg, "fixed-"+alg)
		if err != nil {
			return nil, err
		}
		m[alg] = s
	}
	return m, nil
})

func signersFor(tb testing.TB) map[string]*signer {
	tb.Helper()
	m, err := fixedSigners()
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func jwksOf(tb testing.TB, signers ...*signer) []byte {
	keys := make([]map[string]any, len(signers))
	for i, s := range signers {
		keys[i] = s.jwk
	}
	return mustJSON(tb, map[string]any{"keys": keys})
}

// claims returns standard access-token claims at testNow, with overrides (a nil value
// deletes the claim).
func claims(over map[string]any) jwt.MapClaims {
	c := jwt.MapClaims{
		"iss": testIssuer, "aud": testAudience, "sub": "user-1", "sid": "c2Vzc2lvbi0xMjM0NTY3ODkw",
		"roles": []string{"member"}, "jti": "t-1",
		"iat": testNow - 10, "nbf": testNow - 10, "exp": testNow + 600,
	}
	for k, v := range over {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// mint signs claims with golang-jwt, with the kid and typ headers the control plane sets.
func (s *signer) mint(tb testing.TB, c jwt.MapClaims) string {
	tb.Helper()
	tok := jwt.NewWithClaims(s.method, c)
	tok.Header["kid"] = s.kid
	tok.Header["typ"] = "at+jwt"
	out, err := tok.SignedString(s.key)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

package jose_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
)

// TestDifferentialGolangJWT mints tokens with golang-jwt (random keys, all three
// algorithms), checks that our Validator accepts them with the right claims, and that
// golang-jwt and our Validator agree on a set of mutations where both libraries' rules
// coincide (signature, payload, alg, time, issuer and audience changes).
func TestDifferentialGolangJWT(t *testing.T) {
	edPub, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecPriv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaPriv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	b := base64.RawURLEncoding.EncodeToString
	ecRaw, _ := ecPriv.PublicKey.Bytes()
	jwks := vectors.JWKS(
		map[string]any{"kty": "OKP", "crv": "Ed25519", "kid": "d-ed", "alg": "EdDSA", "x": b(edPub)},
		map[string]any{"kty": "EC", "crv": "P-256", "kid": "d-es", "alg": "ES256", "x": b(ecRaw[1:33]), "y": b(ecRaw[33:])},
		map[string]any{"kty": "RSA", "kid": "d-rs", "alg": "RS256", "n": b(rsaPriv.N.Bytes()), "e": b(big.NewInt(int64(rsaPriv.E)).Bytes())},
	)
	ks := mustKeySet(t, jwks)
	signers := []struct {
		kid    string
		method jwt.SigningMethod
		priv   any
		pub    any
	}{
		{"d-ed", jwt.SigningMethodEdDSA, edPriv, edPub},
		{"d-es", jwt.SigningMethodES256, ecPriv, &ecPriv.PublicKey},
		{"d-rs", jwt.SigningMethodRS256, rsaPriv, &rsaPriv.PublicKey},
	}
	now := time.Now().Unix()
	v := defaultValidator()

	golang := func(tok string) error {
		_, err := jwt.Parse(tok, func(tk *jwt.Token) (any, error) {
			for _, s := range signers {
				if tk.Header["kid"] == s.kid && tk.Method.Alg() == s.method.Alg() {
					return s.pub, nil
				}
			}
			return nil, jwt.ErrTokenUnverifiable
		}, jwt.WithValidMethods([]string{"EdDSA", "ES256", "RS256"}), jwt.WithIssuer(vectors.Issuer),
			jwt.WithAudience(vectors.Audience), jwt.WithLeeway(time.Duration(vectors.Leeway)*time.Second),
			jwt.WithTimeFunc(func() time.Time { return time.Unix(now, 0) }), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
		return err
	}

	for _, s := range signers {
		mint := func(change ...any) string {
			c := jwt.MapClaims{}
			for k, val := range vectors.Claims(now) {
				c[k] = val
			}
			for i := 0; i+1 < len(change); i += 2 {
				c[change[i].(string)] = change[i+1]
			}
			tk := jwt.NewWithClaims(s.method, c)
			tk.Header["kid"] = s.kid
			tk.Header["typ"] = "at+jwt"
			out, err := tk.SignedString(s.priv)
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		good := mint()
		claims, err := v.Verify([]byte(good), ks, now)
		if err != nil {
			t.Fatalf("%s: golang-jwt token refused: %v", s.kid, err)
		}
		if claims.Subject != "user-42" || claims.ExpiresAt != now+540 || len(claims.Roles) != 2 {
			t.Fatalf("%s: claims %+v", s.kid, claims)
		}
		parts := strings.Split(good, ".")
		other := strings.Split(mint("sub", "admin"), ".")
		cases := []struct {
			name  string
			token string
		}{
			{"valid", good},
			{"aud array", mint("aud", []string{"x", vectors.Audience})},
			{"signature char changed", parts[0] + "." + parts[1] + "." + changeChar(parts[2], 5)},
			{"payload swapped", parts[0] + "." + other[1] + "." + parts[2]},
			{"header alg HS256", reHeader(parts, map[string]any{"alg": "HS256", "kid": s.kid, "typ": "at+jwt"})},
			{"header alg none", reHeader(parts, map[string]any{"alg": "none", "kid": s.kid, "typ": "at+jwt"})},
			{"expired", mint("exp", now-vectors.Leeway-5)},
			{"expired within leeway", mint("exp", now-vectors.Leeway+5)},
			{"not yet valid", mint("nbf", now+vectors.Leeway+5)},
			{"issued in the future", mint("iat", now+vectors.Leeway+5)},
			{"wrong issuer", mint("iss", "https://attacker.example")},
			{"wrong audience", mint("aud", "https://other.example")},
			{"truncated", good[:len(good)-3]},
		}
		for _, tc := range cases {
			t.Run(s.kid+"/"+tc.name, func(t *testing.T) {
				_, ours := v.Verify([]byte(tc.token), ks, now)
				theirs := golang(tc.token)
				if (ours == nil) != (theirs == nil) {
					t.Fatalf("disagree: ours %v, golang-jwt %v", ours, theirs)
				}
			})
		}
	}
}

func changeChar(seg string, i int) string {
	c := byte('A')
	if seg[i] == 'A' {
		c = 'B'
	}
	return seg[:i] + string(c) + seg[i+1:]
}

func reHeader(parts []string, h map[string]any) string {
	hb, _ := json.Marshal(h)
	return base64.RawURLEncoding.EncodeToString(hb) + "." + parts[1] + "." + parts[2]
}

package jose_test

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
	"github.com/edgeauth/edgeauth/verifier/jose"
)

// FuzzCompactJWS feeds arbitrary tokens to Validator.Verify with the fixed test keys.
// Properties: no panic; every error maps to a named status (never StatusInternal);
// whatever we accept is compact, canonical, and accepted by golang-jwt with the same
// settings (we are meant to be strictly stricter).
func FuzzCompactJWS(f *testing.F) {
	for _, tc := range vectors.Attacks() {
		if len(tc.Token) < 4096 {
			f.Add(tc.Token)
		}
	}
	ks := mustKeySet(f, vectors.JWKS())
	v := defaultValidator()
	pubs := map[string]any{}
	for _, k := range vectors.Keys() {
		pubs[k.KID+"/"+k.Alg] = k.Private.Public()
	}
	f.Fuzz(func(t *testing.T, token string) {
		claims, err := v.Verify([]byte(token), ks, vectors.Now)
		if err != nil {
			if abi.StatusOf(err) == abi.StatusInternal {
				t.Fatalf("error without a sentinel: %v", err)
			}
			return
		}
		if strings.Count(token, ".") != 2 || strings.ContainsAny(token, "=+/ \n") {
			t.Fatalf("accepted non-compact token %q", token)
		}
		if claims.Subject == "" || claims.SessionID == "" || claims.ExpiresAt <= vectors.Now-vectors.Leeway {
			t.Fatalf("accepted claims %+v", claims)
		}
		_, gerr := jwt.Parse(token, func(tk *jwt.Token) (any, error) {
			kid, _ := tk.Header["kid"].(string)
			return pubs[kid+"/"+tk.Method.Alg()], nil
		}, jwt.WithValidMethods([]string{"EdDSA", "ES256", "RS256"}), jwt.WithIssuer(vectors.Issuer),
			jwt.WithAudience(vectors.Audience), jwt.WithLeeway(time.Duration(vectors.Leeway)*time.Second),
			jwt.WithTimeFunc(func() time.Time { return time.Unix(vectors.Now, 0) }), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
		if gerr != nil {
			t.Fatalf("we accepted what golang-jwt refuses (%v): %q", gerr, token)
		}
	})
}

// FuzzParseJWKS: no panic; an accepted set has usable keys with unique, non-empty kids.
func FuzzParseJWKS(f *testing.F) {
	f.Add(vectors.JWKS())
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"AAAA"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":"a","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ks, err := jose.ParseJWKS(data)
		if err != nil {
			if abi.StatusOf(err) != abi.StatusInvalidKeySet {
				t.Fatalf("error %v is not ErrInvalidKeySet", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, k := range ks.Keys() {
			if k.KID == "" || seen[k.KID] {
				t.Fatalf("kid %q empty or repeated", k.KID)
			}
			seen[k.KID] = true
			if k.Alg != jose.EdDSA && k.Alg != jose.ES256 && k.Alg != jose.RS256 {
				t.Fatalf("key with alg %q", k.Alg)
			}
		}
	})
}

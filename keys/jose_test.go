package keys

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/jose"
	"github.com/golang-jwt/jwt/v5"
)

// TestVerifierAcceptsManagerTokens: the verifier core (verifier/jose, the same code the
// wasm module runs) loads the Manager's JWKS and accepts its access tokens and
// revocation lists for every algorithm, across a rotation (pending, active and retired
// keys published together), and refuses a token whose key was removed.
func TestVerifierAcceptsManagerTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, alg := range []string{AlgEdDSA, AlgES256, AlgRS256} {
		t.Run(alg, func(t *testing.T) {
			c := newClock()
			cfg := testConfig(t, c)
			cfg.Algorithm = alg
			m := newManager(t, newPool(t), cfg)
			v := &jose.Validator{Issuer: "https://auth.example.test", Audience: "app",
				Algorithms: []jose.Algorithm{jose.Algorithm(alg)}, Leeway: 60}
			access := func() string {
				now := c.Now()
				tok, err := m.Sign(ctx, jwt.MapClaims{
					"iss": "https://auth.example.test", "aud": "app", "sub": "user-1", "sid": "c2Vzc2lvbi0xLXJhbmRvbQ",
					"roles": []string{"admin"}, "jti": "t1", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
				}, "at+jwt")
				if err != nil {
					t.Fatal(err)
				}
				return tok
			}
			check := func(tok string, at time.Time) error {
				ks, err := jose.ParseJWKS(must(m.JWKS()))
				if err != nil {
					t.Fatalf("jose.ParseJWKS: %v", err)
				}
				_, err = v.Verify([]byte(tok), ks, at.Unix())
				return err
			}

			first := access()
			if err := check(first, c.Now()); err != nil {
				t.Fatalf("verifier refuses a fresh token: %v", err)
			}
			// Revocation list: generic JWS with its own typ.
			now := c.Now()
			list, err := m.Sign(ctx, jwt.MapClaims{"iss": "https://auth.example.test", "iat": now.Unix(),
				"exp": now.Add(2 * time.Minute).Unix(), "sids": []string{}}, "edgeauth-revocations+jwt")
			if err != nil {
				t.Fatal(err)
			}
			ks, _ := jose.ParseJWKS(must(m.JWKS()))
			if _, err := jose.VerifyJWS([]byte(list), ks, []jose.Algorithm{jose.Algorithm(alg)}, "edgeauth-revocations+jwt"); err != nil {
				t.Fatalf("verifier refuses the revocation list: %v", err)
			}

			// Rotate: at 50m the successor is published, at 60m it signs. Sign one token
			// just before the switch.
			c.Add(50 * time.Minute)
			if err := m.Advance(ctx); err != nil {
				t.Fatal(err)
			}
			c.Add(9 * time.Minute)
			if err := m.Advance(ctx); err != nil { // Run would have reloaded meanwhile
				t.Fatal(err)
			}
			beforeSwitch := access()
			old, _ := m.Active()
			c.Add(time.Minute)
			if err := m.Advance(ctx); err != nil {
				t.Fatal(err)
			}
			afterSwitch := access()
			if now, _ := m.Active(); now.KID == old.KID {
				t.Fatal("no rotation at 60m")
			}
			if err := check(beforeSwitch, c.Now()); err != nil {
				t.Fatalf("verifier refuses a token of the retired key: %v", err)
			}
			if err := check(afterSwitch, c.Now()); err != nil {
				t.Fatalf("verifier refuses a token of the new key: %v", err)
			}
			// After removal, a token of the removed key is refused as an unknown key.
			c.Add(15 * time.Minute)
			if err := m.Advance(ctx); err != nil {
				t.Fatal(err)
			}
			if _, published := publicKeys(t, must(m.JWKS()))[old.KID]; published {
				t.Fatal("retired key still published at 75m")
			}
			if err := check(beforeSwitch, c.Now().Add(-15*time.Minute)); !errors.Is(err, abi.ErrUnknownKey) {
				t.Fatalf("token of a removed key: %v, want abi.ErrUnknownKey", err)
			}
		})
	}
}

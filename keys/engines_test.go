package keys

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/wasmhost"
	"github.com/golang-jwt/jwt/v5"
)

// TestEnginesAcceptManagerTokens: both verifier engines (the native core and the
// compiled verifier.wasm in wazero) load the Manager's JWKS and its signed revocation
// list and accept its access tokens, for every algorithm; a revoked session is refused.
func TestEnginesAcceptManagerTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	wasm, err := wasmhost.NewEmbedded(ctx, wasmhost.Options{PoolSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer wasm.Close(context.Background())
	for _, alg := range []string{AlgEdDSA, AlgES256, AlgRS256} {
		t.Run(alg, func(t *testing.T) {
			c := newClock()
			cfg := testConfig(t, c)
			cfg.Algorithm = alg
			m := newManager(t, newPool(t), cfg)
			cookie := verifier.Cookie{Path: "/", Secure: true, HTTPOnly: true, SameSite: "Lax"}
			at, rt := cookie, cookie
			at.Name, rt.Name = "__Host-access", "__Host-refresh"
			vc := verifier.Config{EdgeConfig: verifier.EdgeConfig{Issuer: "https://auth.example.test", Audience: "app",
				Algorithms: []string{alg}, LeewaySeconds: 60, AccessCookie: at, RefreshCookie: rt,
				LoginPath: "/login", RefreshPath: "/auth/refresh"}}
			now := c.Now()
			access := func(sid string) string {
				tok, err := m.Sign(ctx, jwt.MapClaims{"iss": "https://auth.example.test", "aud": "app", "sub": "user-1",
					"sid": sid, "roles": []string{"admin"}, "jti": "j-" + sid, "iat": now.Unix(), "nbf": now.Unix(),
					"exp": now.Add(10 * time.Minute).Unix()}, "at+jwt")
				if err != nil {
					t.Fatal(err)
				}
				return tok
			}
			live, revoked := access("bGl2ZS1zZXNzaW9uLWlkLTEyMw"), access("cmV2b2tlZC1zZXNzaW9uLTQ1Ng")
			list, err := m.Sign(ctx, jwt.MapClaims{"iss": "https://auth.example.test", "iat": now.Unix(),
				"exp": now.Add(2 * time.Minute).Unix(), "sids": []string{"cmV2b2tlZC1zZXNzaW9uLTQ1Ng"}}, "edgeauth-revocations+jwt")
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range []struct {
				name   string
				engine verifier.Engine
			}{{"native", verifier.NewNative()}, {"wasm", wasm}} {
				if err := e.engine.Configure(ctx, vc); err != nil {
					t.Fatalf("%s: Configure: %v", e.name, err)
				}
				if err := e.engine.LoadKeys(context.Background(), must(m.JWKS())); err != nil {
					t.Fatalf("%s: LoadKeys(JWKS): %v", e.name, err)
				}
				if err := e.engine.LoadRevocations(context.Background(), []byte(list), now.Unix()); err != nil {
					t.Fatalf("%s: LoadRevocations: %v", e.name, err)
				}
				cl, err := e.engine.VerifyToken(context.Background(), live, now.Unix())
				if err != nil || cl.Subject != "user-1" {
					t.Fatalf("%s: VerifyToken = %+v, %v", e.name, cl, err)
				}
				if _, err := e.engine.VerifyToken(context.Background(), revoked, now.Unix()); err == nil || !errors.Is(err, verifier.ErrRevoked) {
					t.Fatalf("%s: revoked session: %v, want ErrRevoked", e.name, err)
				}
			}
		})
	}
}

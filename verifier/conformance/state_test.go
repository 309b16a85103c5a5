package conformance

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
	"github.com/edgeauth/edgeauth/verifier/wasmhost"
)

// revocationList signs a revocation list for sids at iat with the EdDSA test key.
func revocationList(t *testing.T, iss string, iat int64, sids ...string) []byte {
	k := vectors.EdDSAKey()
	header := vectors.MustJSON(map[string]any{"alg": k.Alg, "kid": k.KID, "typ": "edgeauth-revocations+jwt"})
	payload := vectors.MustJSON(map[string]any{"iss": iss, "iat": iat, "exp": iat + 120, "sids": sids})
	return []byte(k.Sign(header, payload))
}

// TestStateReachesEveryInstance checks the host-state rule of ABI.md on both engines,
// the wasm one with a pool of three instances used concurrently: every input that was
// applied reaches every instance, refused inputs change nothing, a configuration or
// key change keeps a revocation list that still verifies and drops one that does not.
func TestStateReachesEveryInstance(t *testing.T) {
	now := vectors.Now
	cfg := testConfig(64)
	cfg.Issuer, cfg.Audience, cfg.LeewaySeconds = vectors.Issuer, vectors.Audience, vectors.Leeway
	key := vectors.EdDSAKey()
	c := vectors.Claims(now)
	sid := c["sid"].(string)
	token := key.Token(c)
	otherIss := "https://other-issuer.test"
	cOther := vectors.Claims(now)
	cOther["iss"] = otherIss
	tokenOtherIss := key.Token(cOther)
	c2 := vectors.Claims(now)
	c2["sid"], c2["jti"] = "c2Vjb25kLXNlc3Npb24tMTIzNDU2Nzg5MA", "tok-2"
	sid2, token2 := c2["sid"].(string), key.Token(c2)

	for _, eng := range []struct {
		name string
		new  func(tb testing.TB) verifier.Engine
	}{
		{"go", newNative},
		{"wasm", func(tb testing.TB) verifier.Engine { return newWasm(tb, wasmhost.Options{PoolSize: 3}) }},
	} {
		t.Run(eng.name, func(t *testing.T) {
			e := eng.new(t)
			// everywhere verifies token on 6 goroutines at once (so a pool of three is
			// fully used) and requires the same outcome from every call.
			everywhere := func(step, tok string, want error) {
				t.Helper()
				var wg sync.WaitGroup
				errs := make(chan error, 60)
				for range 6 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for range 10 {
							_, err := e.VerifyToken(context.Background(), tok, now)
							if !errors.Is(err, want) || (want == nil) != (err == nil) {
								errs <- err
							}
						}
					}()
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Fatalf("%s: got %v, want %v", step, err, want)
				}
			}
			if _, err := e.VerifyToken(context.Background(), token, now); !errors.Is(err, abi.ErrNotConfigured) {
				t.Fatalf("before configuration: %v", err)
			}
			if err := e.Configure(context.Background(), cfg); err != nil {
				t.Fatal(err)
			}
			if err := e.LoadKeys(context.Background(), vectors.JWKS()); err != nil {
				t.Fatal(err)
			}
			everywhere("configured", token, nil)

			if err := e.LoadRevocations(context.Background(), revocationList(t, vectors.Issuer, now-10, sid), now); err != nil {
				t.Fatal(err)
			}
			everywhere("session revoked", token, abi.ErrRevoked)
			// A list of the same second adds to the held one on every instance, also
			// on those that never loaded the first (ABI.md, "load_revocations").
			if err := e.LoadRevocations(context.Background(), revocationList(t, vectors.Issuer, now-10, sid2), now); err != nil {
				t.Fatal(err)
			}
			everywhere("same second: the first list's session", token, abi.ErrRevoked)
			everywhere("same second: the second list's session", token2, abi.ErrRevoked)

			if err := e.Configure(context.Background(), verifier.Config{EdgeConfig: verifier.EdgeConfig{Issuer: vectors.Issuer}}); !errors.Is(err, abi.ErrInvalidConfig) {
				t.Fatalf("broken configuration: %v", err)
			}
			if err := e.LoadKeys(context.Background(), []byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"h","alg":"HS256"}]}`)); !errors.Is(err, abi.ErrInvalidKeySet) {
				t.Fatalf("symmetric key set: %v", err)
			}
			if err := e.LoadRevocations(context.Background(), revocationList(t, vectors.Issuer, now-20), now); !errors.Is(err, abi.ErrInvalidRevocationList) {
				t.Fatalf("older revocation list: %v", err)
			}
			everywhere("refused inputs change nothing", token, abi.ErrRevoked)

			if err := e.LoadKeys(context.Background(), vectors.JWKS(vectors.ES256Key().PublicJWK())); err != nil {
				t.Fatal(err)
			}
			everywhere("signing key removed", token, abi.ErrUnknownKey)
			if err := e.LoadKeys(context.Background(), vectors.JWKS()); err != nil {
				t.Fatal(err)
			}
			everywhere("keys back, list dropped with the key that signed it", token, nil)

			if err := e.LoadRevocations(context.Background(), revocationList(t, vectors.Issuer, now-5, sid), now); err != nil {
				t.Fatal(err)
			}
			cfg2 := cfg
			cfg2.LeewaySeconds = 60
			if err := e.Configure(context.Background(), cfg2); err != nil {
				t.Fatal(err)
			}
			everywhere("new configuration keeps a list that still verifies", token, abi.ErrRevoked)
			if err := e.LoadRevocations(context.Background(), revocationList(t, vectors.Issuer, now-5, sid2), now); err != nil {
				t.Fatal(err)
			}
			cfg2.LeewaySeconds = 90
			if err := e.Configure(context.Background(), cfg2); err != nil {
				t.Fatal(err)
			}
			everywhere("new configuration keeps both lists of a second: first", token, abi.ErrRevoked)
			everywhere("new configuration keeps both lists of a second: second", token2, abi.ErrRevoked)

			cfg2.Issuer = otherIss
			if err := e.Configure(context.Background(), cfg2); err != nil {
				t.Fatal(err)
			}
			everywhere("issuer changed: the old issuer's list is dropped", tokenOtherIss, nil)
			everywhere("issuer changed: old issuer's tokens refused", token, abi.ErrInvalidIssuer)
		})
	}
}

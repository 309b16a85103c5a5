package keys

import (
	"context"
	"crypto/rsa"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestSignEachAlgorithm: a token signed by the Manager carries alg, kid and typ and
// verifies with golang-jwt against the key parsed from the JWKS; a changed byte fails.
func TestSignEachAlgorithm(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, alg := range []string{AlgEdDSA, AlgES256, AlgRS256} {
		t.Run(alg, func(t *testing.T) {
			c := newClock()
			cfg := testConfig(t, c)
			cfg.Algorithm = alg
			m := newManager(t, newPool(t), cfg)
			tok, err := m.Sign(ctx, claims(c.Now(), 10*time.Minute), "at+jwt")
			if err != nil {
				t.Fatal(err)
			}
			active, _ := m.Active()
			parsed, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
			if err != nil {
				t.Fatal(err)
			}
			if h := parsed.Header; h["alg"] != alg || h["kid"] != active.KID || h["typ"] != "at+jwt" || len(h) != 3 {
				t.Fatalf("header %v, want alg %s, kid %s, typ at+jwt", h, alg, active.KID)
			}
			keys := publicKeys(t, must(m.JWKS()))
			if k := keys[active.KID]; k.alg != alg {
				t.Fatalf("JWKS key alg %q, want %q", k.alg, alg)
			}
			if alg == AlgRS256 {
				if bits := keys[active.KID].key.(*rsa.PublicKey).N.BitLen(); bits != RSABits {
					t.Fatalf("RSA modulus %d bits, want %d", bits, RSABits)
				}
			}
			if err := verify(tok, keys, c.Now()); err != nil {
				t.Fatalf("golang-jwt refuses the token: %v", err)
			}
			// Flip one bit of the signature's first byte (the last character may carry
			// unused bits).
			i := strings.LastIndexByte(tok, '.') + 1
			bad := tok[:i] + string(tok[i]^1) + tok[i+1:]
			if err := verify(bad, keys, c.Now()); err == nil {
				t.Fatal("golang-jwt accepts a token with a changed signature")
			}
			if _, err := m.Sign(ctx, claims(c.Now(), time.Minute), ""); err == nil {
				t.Fatal("Sign with an empty typ succeeded")
			}
		})
	}
}

// TestThumbprintRFC7638 checks the kid computation against RFC 7638, section 3.1.
func TestThumbprintRFC7638(t *testing.T) {
	t.Parallel()
	j := jwk{Kty: "RSA", E: "AQAB",
		N: "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}
	if got, want := thumbprint(j), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Fatalf("thumbprint = %s, want %s", got, want)
	}
}

// TestJWKSETag: the body and its ETag change exactly when the published set changes,
// are identical on every replica, and are served from memory.
func TestJWKSETag(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	pool := newPool(t)
	cfg := testConfig(t, c)
	m := newManager(t, pool, cfg)
	other := newManager(t, pool, cfg)

	type seen struct{ body, etag string }
	now := func() seen { b, e := m.JWKS(); return seen{string(b), e} }
	step := func(d time.Duration) seen {
		t.Helper()
		c.Add(d)
		if err := m.Advance(ctx); err != nil {
			t.Fatal(err)
		}
		if err := other.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		b, e := other.JWKS()
		if got := now(); got != (seen{string(b), e}) {
			t.Fatalf("replicas serve different JWKS:\n%s %s\n%s %s", got.body, got.etag, b, e)
		}
		return now()
	}
	s0 := now()
	if !strings.HasPrefix(s0.etag, `"`) || !strings.HasSuffix(s0.etag, `"`) || strings.HasPrefix(s0.etag, "W/") {
		t.Fatalf("ETag %s, want a strong quoted tag", s0.etag)
	}
	for _, tc := range []struct {
		name    string
		advance time.Duration
		changed bool
		keys    int
	}{
		{"nothing due", 30 * time.Minute, false, 1},
		{"successor published", 20 * time.Minute, true, 2},
		{"successor activated, predecessor retired", 10 * time.Minute, false, 2},
		{"retired key still published", 10 * time.Minute, false, 2},
		{"retired key removed", 5 * time.Minute, true, 1},
	} {
		prev := now()
		got := step(tc.advance)
		if changed := got.etag != prev.etag; changed != tc.changed {
			t.Errorf("%s: ETag changed = %v, want %v", tc.name, changed, tc.changed)
		}
		if (got.body != prev.body) != tc.changed {
			t.Errorf("%s: body changed = %v, ETag changed = %v", tc.name, got.body != prev.body, tc.changed)
		}
		if n := len(publicKeys(t, []byte(got.body))); n != tc.keys {
			t.Errorf("%s: %d keys published, want %d", tc.name, n, tc.keys)
		}
	}
	b1, _ := m.JWKS()
	b2, _ := m.JWKS()
	if &b1[0] != &b2[0] {
		t.Error("JWKS() rebuilt the body on a call; want it served from memory")
	}
}

func BenchmarkJWKS(b *testing.B) {
	c := newClock()
	m := newManager(b, newPool(b), testConfig(b, c))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body, etag := m.JWKS()
			if len(body) == 0 || etag == "" {
				b.Fatal("empty JWKS")
			}
		}
	})
}

// BenchmarkSign measures access-token signing per algorithm (what a login or refresh
// costs in signing).
func BenchmarkSign(b *testing.B) {
	for _, alg := range []string{AlgEdDSA, AlgES256, AlgRS256} {
		b.Run(alg, func(b *testing.B) {
			c := newClock()
			cfg := testConfig(b, c)
			cfg.Algorithm = alg
			m := newManager(b, newPool(b), cfg)
			cl := claims(c.Now(), 10*time.Minute)
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				if _, err := m.Sign(ctx, cl, "at+jwt"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/pgtest"
	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// newPool returns a pool on a fresh, migrated database.
func newPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return pgtest.NewPool(t)
}

// clock is a settable time source shared by Managers in a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func randomKEK(t testing.TB) []byte {
	k := make([]byte, KEKSize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// testConfig is a valid configuration with short, round durations.
func testConfig(t testing.TB, c *clock) Config {
	return Config{
		Algorithm:        AlgEdDSA,
		KEK:              randomKEK(t),
		Issuer:           "https://auth.example.test",
		JWKSMaxAge:       5 * time.Minute,
		ReloadEvery:      time.Minute,
		PrePublish:       10 * time.Minute,
		RotateEvery:      time.Hour,
		MaxTokenLifetime: 11 * time.Minute,
		RetireAfter:      15 * time.Minute,
		Now:              c.Now,
	}
}

func newManager(t testing.TB, pool *pgxpool.Pool, cfg Config) *Manager {
	t.Helper()
	m, err := NewManager(context.Background(), pool, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// publicKeys parses a JWKS body into public keys by kid, the way an edge would,
// and checks every member is public and known.
func publicKeys(t testing.TB, body []byte) map[string]publicKey {
	t.Helper()
	var doc struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("jwks: %v", err)
	}
	out := map[string]publicKey{}
	for _, k := range doc.Keys {
		for name := range k {
			switch name {
			case "kty", "use", "alg", "kid", "crv", "x", "y", "n", "e":
			default:
				t.Fatalf("jwks: key %s has member %q (private or unknown)", k["kid"], name)
			}
		}
		if k["use"] != "sig" || k["kid"] == "" || k["alg"] == "" {
			t.Fatalf("jwks: key %v lacks use/kid/alg", k)
		}
		dec := func(s string) []byte {
			b, err := b64.DecodeString(s)
			if err != nil {
				t.Fatalf("jwks: %v", err)
			}
			return b
		}
		var pub crypto.PublicKey
		switch k["kty"] {
		case "OKP":
			pub = ed25519.PublicKey(dec(k["x"]))
		case "EC":
			pt := append(append([]byte{4}, dec(k["x"])...), dec(k["y"])...)
			p, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), pt)
			if err != nil {
				t.Fatalf("jwks: %v", err)
			}
			pub = p
		case "RSA":
			pub = &rsa.PublicKey{N: new(big.Int).SetBytes(dec(k["n"])), E: int(new(big.Int).SetBytes(dec(k["e"])).Int64())}
		default:
			t.Fatalf("jwks: kty %q", k["kty"])
		}
		if _, dup := out[k["kid"]]; dup {
			t.Fatalf("jwks: duplicate kid %s", k["kid"])
		}
		out[k["kid"]] = publicKey{alg: k["alg"], key: pub}
	}
	return out
}

type publicKey struct {
	alg string
	key crypto.PublicKey
}

// verify checks token with golang-jwt against keys (kid lookup, alg pinned to the
// key's), at now.
func verify(token string, keys map[string]publicKey, now time.Time) error {
	_, err := jwt.Parse(token, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		k, ok := keys[kid]
		if !ok {
			return nil, fmt.Errorf("unknown kid %q", kid)
		}
		if tok.Method.Alg() != k.alg {
			return nil, fmt.Errorf("alg %s for a %s key", tok.Method.Alg(), k.alg)
		}
		return k.key, nil
	}, jwt.WithValidMethods([]string{AlgEdDSA, AlgES256, AlgRS256}), jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithExpirationRequired(), jwt.WithIssuer("https://auth.example.test"))
	return err
}

// claims for a token issued at now for ttl.
func claims(now time.Time, ttl time.Duration) jwt.RegisteredClaims {
	return jwt.RegisteredClaims{
		Issuer: "https://auth.example.test", Subject: "user-1",
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}
}

func states(t testing.TB, m *Manager) map[State][]string {
	t.Helper()
	l, err := m.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[State][]string{}
	for _, k := range l {
		out[k.State] = append(out[k.State], k.KID)
	}
	return out
}

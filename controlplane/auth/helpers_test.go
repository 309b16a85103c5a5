package auth_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/auth"
	"github.com/edgeauth/edgeauth/controlplane/revocation"
	"github.com/edgeauth/edgeauth/controlplane/store"
	"github.com/edgeauth/edgeauth/internal/pgtest"
	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// testSigner is a real Ed25519 JWT signer (the keys package's Manager does the same with
// stored, rotating keys).
type testSigner struct {
	kid  string
	priv ed25519.PrivateKey
	pub  ed25519.PublicKey
}

func newSigner(t testing.TB) *testSigner {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &testSigner{kid: "test-1", priv: priv, pub: pub}
}

func (s *testSigner) Sign(_ context.Context, c jwt.Claims, typ string) (string, error) {
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	tok.Header["kid"] = s.kid
	tok.Header["typ"] = typ
	return tok.SignedString(s.priv)
}

// parse verifies an access token's signature and returns its header and claims.
func (s *testSigner) parse(t testing.TB, tok string, now time.Time) (map[string]any, jwt.MapClaims) {
	t.Helper()
	p := jwt.NewParser(jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithIssuer(testIssuer), jwt.WithAudience(testAudience), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	parsed, err := p.Parse(tok, func(*jwt.Token) (any, error) { return s.pub, nil })
	if err != nil {
		t.Fatalf("access token does not verify: %v", err)
	}
	return parsed.Header, parsed.Claims.(jwt.MapClaims)
}

// parseList verifies the revocation list l publishes (its Body, as an edge fetches
// it) and returns its payload.
func (s *testSigner) parseList(t testing.TB, l *revocation.List, now time.Time) revocation.Claims {
	t.Helper()
	body, _ := l.Body()
	var c revocation.Claims
	p := jwt.NewParser(jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithExpirationRequired())
	if _, err := p.ParseWithClaims(string(body), &c, func(*jwt.Token) (any, error) { return s.pub, nil }); err != nil {
		t.Fatalf("revocation list does not verify: %v", err)
	}
	return c
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const (
	testIssuer   = "https://auth.example.test"
	testAudience = "https://app.example.test"
	testPassword = "correct horse battery staple"
)

type env struct {
	svc    *auth.Service
	st     *store.Store
	pool   *pgxpool.Pool
	clock  *clock
	signer *testSigner
}

func newPool(t testing.TB, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// testTagKey is the tests' auth.Config.RefreshTagKey.
var testTagKey = []byte("edgeauth auth tests: a tag key of 32 bytes or more")

// testSecretKey is the tests' auth.Config.SecretKey (it seals TOTP secrets).
var testSecretKey = []byte("edgeauth auth tests: 32-byte key")

// newEnv gives the test its own database, migrated, and a service on it.
func newEnv(t testing.TB, mod func(*auth.Config)) *env {
	t.Helper()
	return envOn(t, pgtest.NewPool(t), mod)
}

func envOn(t testing.TB, pool *pgxpool.Pool, mod func(*auth.Config)) *env {
	t.Helper()
	e := &env{st: store.New(pool), pool: pool, clock: &clock{t: time.Now().Truncate(time.Second)}, signer: newSigner(t)}
	cfg := auth.Config{Issuer: testIssuer, Audience: testAudience, RefreshTagKey: testTagKey, SecretKey: testSecretKey, Now: e.clock.Now, Logger: slog.New(slog.DiscardHandler)}
	if mod != nil {
		mod(&cfg)
	}
	svc, err := auth.New(e.st, e.signer, cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	return e
}

func (e *env) user(t testing.TB, email string, roles ...string) auth.User {
	t.Helper()
	u, err := e.svc.CreateUser(context.Background(), auth.NewUser{Email: email, Password: testPassword, Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (e *env) login(t testing.TB, email string) *auth.Result {
	t.Helper()
	r, err := e.svc.Login(context.Background(), auth.LoginRequest{Email: email, Password: testPassword, UserAgent: "test", IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (e *env) refresh(tok string) (*auth.Result, error) {
	return e.svc.Refresh(context.Background(), auth.RefreshRequest{Token: tok, IP: "192.0.2.1"})
}

func mustRefresh(t testing.TB, e *env, tok string) *auth.Result {
	t.Helper()
	r, err := e.refresh(tok)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	return r
}

func wantErr(t testing.TB, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
}

// waitUntil polls cond until it holds (true) or timeout passes (false): for progress of
// other goroutines, never for time to pass (tests move the fake clock for that).
func waitUntil(timeout time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// active asserts whether a session is live.
func (e *env) active(t testing.TB, sid string, want bool) {
	t.Helper()
	ok, err := e.svc.SessionActive(context.Background(), sid)
	if err != nil {
		t.Fatal(err)
	}
	if ok != want {
		t.Fatalf("SessionActive(%s) = %v, want %v", sid, ok, want)
	}
}

// errOf is the error of a call that returns a value and an error.
func errOf[T any](_ T, err error) error { return err }

// plantWeakHash gives the user a hash of testPassword made with weaker parameters than
// DefaultParams (as an older version stored), and returns it.
func (e *env) plantWeakHash(t testing.TB, userID string) string {
	t.Helper()
	weak := auth.HashWithParams(testPassword, auth.Params{Memory: 4096, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	if err := e.st.SetPasswordHash(context.Background(), userID, weak); err != nil {
		t.Fatal(err)
	}
	return weak
}

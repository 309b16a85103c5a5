package sessionauth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/edgeauth/edgeauth/sessionauth"
	"github.com/edgeauth/edgeauth/verifier"
)

// newEngine is a native engine configured for the fake control plane's tokens.
func newEngine(t *testing.T) verifier.Engine {
	t.Helper()
	engine := verifier.NewNative()
	t.Cleanup(func() { engine.Close(context.Background()) })
	cfg := verifier.Config{EdgeConfig: verifier.EdgeConfig{Issuer: "https://auth.example.test", Audience: audience,
		Algorithms: []string{"EdDSA"}, LeewaySeconds: 30,
		AccessCookie: verifier.Cookie{Name: "at", Path: "/", SameSite: "Lax"}, RefreshCookie: verifier.Cookie{Name: "rt", Path: "/auth", SameSite: "Lax"},
		LoginPath: "/login", RefreshPath: "/auth/refresh"}}
	if err := engine.Configure(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	return engine
}

// A key set that withdraws the key the held list is signed by makes the engine drop
// that list (verifier/ABI.md, "Host state"). When the list's refetch then fails, the
// engine would let revoked sessions through while the source's snapshot still holds a
// recently confirmed list: the source must not say it is fresh until a list is back
// in the engine.
func TestEngineWithoutListIsNotFresh(t *testing.T) {
	f := newFakeCP(t)
	clk := newClock()
	engine := newEngine(t)
	src, chk := newSource(t, f, clk, func(c *sessionauth.SourceConfig) { c.Engine = engine })
	ctx := context.Background()
	f.revoke("gone")
	if err := src.Sync(ctx); err != nil {
		t.Fatal(err)
	}

	// The control plane rotated and withdrew k1 (the list's key); the list cannot be
	// fetched just now.
	f.mu.Lock()
	f.keys = []fakeKey{newFakeKey(t, "k2")}
	f.failList = true
	f.mu.Unlock()
	if err := src.Sync(ctx); err == nil {
		t.Fatal("Sync succeeded with the list unreachable")
	}
	gone := f.token("gone", clk.Now())
	_, engineErr := engine.VerifyToken(ctx, gone, clk.Now().Unix())
	if err := src.Fresh(); !errors.Is(err, sessionauth.ErrStale) {
		t.Fatalf("Fresh with the engine's list dropped: %v, want ErrStale (engine on a revoked session: %v)", err, engineErr)
	}
	if _, err := chk.Check(ctx, f.token("live", clk.Now())); !errors.Is(err, sessionauth.ErrStale) {
		t.Fatalf("Check while the engine has no list: %v, want ErrStale", err)
	}

	// The list is back: it loads into the engine and the source is fresh again.
	f.mu.Lock()
	f.failList = false
	f.mu.Unlock()
	if err := src.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := src.Fresh(); err != nil {
		t.Fatalf("Fresh after the list loaded: %v", err)
	}
	if _, err := engine.VerifyToken(ctx, gone, clk.Now().Unix()); !errors.Is(err, verifier.ErrRevoked) {
		t.Fatalf("engine after the list loaded: %v, want ErrRevoked", err)
	}
}

// A key change that keeps the list's key leaves the list verifiable: a failed list
// refetch then costs nothing, the engine still refuses the revoked session and the
// source stays fresh.
func TestEngineKeepsListThroughRotation(t *testing.T) {
	f := newFakeCP(t)
	clk := newClock()
	engine := newEngine(t)
	src, _ := newSource(t, f, clk, func(c *sessionauth.SourceConfig) { c.Engine = engine })
	ctx := context.Background()
	f.revoke("gone")
	if err := src.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.keys = append([]fakeKey{newFakeKey(t, "k2")}, f.keys...) // k1 still published
	f.failList = true
	f.mu.Unlock()
	if err := src.Sync(ctx); err == nil {
		t.Fatal("Sync succeeded with the list unreachable")
	}
	if err := src.Fresh(); err != nil {
		t.Fatalf("Fresh after a rotation that keeps the list's key: %v", err)
	}
	if _, err := engine.VerifyToken(ctx, f.token("gone", clk.Now()), clk.Now().Unix()); !errors.Is(err, verifier.ErrRevoked) {
		t.Fatalf("engine: %v, want ErrRevoked", err)
	}
}

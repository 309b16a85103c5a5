package sessionauth_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/sessionauth"
	"github.com/edgeauth/edgeauth/verifier"
	"github.com/golang-jwt/jwt/v5"
)

// guard fails the test when ch is not closed within a generous deadline: a failure
// guard for a hang, not a timing assertion.
func guard(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not finish", what)
	}
}

func newSource(t *testing.T, f *fakeCP, clk *clock, mod func(*sessionauth.SourceConfig)) (*sessionauth.Source, *sessionauth.Checker) {
	t.Helper()
	cfg := sessionauth.SourceConfig{ControlPlane: f.srv.URL, Issuer: f.issuer, Algorithms: []string{"EdDSA"},
		Now: clk.Now, Logger: slog.New(slog.DiscardHandler)}
	if mod != nil {
		mod(&cfg)
	}
	src, err := sessionauth.NewSource(cfg)
	if err != nil {
		t.Fatal(err)
	}
	chk, err := sessionauth.NewChecker(src, sessionauth.CheckerConfig{Audience: audience, AllowBearer: true})
	if err != nil {
		t.Fatal(err)
	}
	return src, chk
}

// A control plane that accepts connections but answers slowly holds up the fetch, not
// the checks: they read the last snapshot while the fetch waits, and concurrent
// fetches share one request.
func TestSlowControlPlaneDoesNotStallChecks(t *testing.T) {
	f := newFakeCP(t)
	clk := newClock()
	src, chk := newSource(t, f, clk, nil)
	ctx := context.Background()
	if err := src.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	tok := f.token("sess-1", clk.Now())
	jwksBefore := f.jwksHits.Load()

	release := f.hold()
	defer release()
	var syncs sync.WaitGroup
	for range 20 {
		syncs.Add(1)
		go func() { defer syncs.Done(); _ = src.Sync(ctx) }()
	}
	checked := make(chan struct{})
	go func() {
		defer close(checked)
		for range 1000 {
			if _, err := chk.Check(ctx, tok); err != nil {
				t.Errorf("check during a slow fetch: %v", err)
				return
			}
		}
	}()
	guard(t, checked, "checks while the control plane hangs")
	// A caller's own context bounds its wait, not the shared fetch.
	short, cancel := context.WithCancel(ctx)
	cancel()
	if err := src.Sync(short); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sync with a cancelled context: %v", err)
	}
	release()
	done := make(chan struct{})
	go func() { syncs.Wait(); close(done) }()
	guard(t, done, "the shared fetch")
	if n := f.jwksHits.Load() - jwksBefore; n != 1 {
		t.Fatalf("20 concurrent syncs fetched the JWKS %d times, want 1", n)
	}
}

// Unchanged documents come back as 304 and still count as confirmed: the source stays
// fresh on 304s alone.
func TestNotModifiedKeepsSourceFresh(t *testing.T) {
	f := newFakeCP(t)
	clk := newClock()
	src, chk := newSource(t, f, clk, func(c *sessionauth.SourceConfig) { c.MaxStale = time.Minute })
	ctx := context.Background()
	if err := src.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		clk.Advance(40 * time.Second)
		if err := src.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.notModified.Load(); n != 6 {
		t.Fatalf("304 answers: %d, want 6 (JWKS and list, three rounds)", n)
	}
	if err := src.Fresh(); err != nil {
		t.Fatalf("after 304s: %v", err)
	}
	if _, err := chk.Check(ctx, f.token("s", clk.Now())); err != nil {
		t.Fatal(err)
	}
}

// The last good documents serve while the control plane is down, until MaxStale; then
// every check fails closed, the middleware answers 503, and watchers hear it once.
func TestStaleSourceFailsClosed(t *testing.T) {
	f := newFakeCP(t)
	clk := newClock()
	src, chk := newSource(t, f, clk, func(c *sessionauth.SourceConfig) {
		c.MaxStale = 2 * time.Minute
		c.PollEvery = 5 * time.Millisecond // real time: Run below
	})
	ctx := context.Background()
	if err := src.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	tok := f.token("s", clk.Now())
	f.setFail(true)
	if err := src.Sync(ctx); err == nil {
		t.Fatal("Sync against a failing control plane succeeded")
	}
	clk.Advance(time.Minute)
	if _, err := chk.Check(ctx, tok); err != nil {
		t.Fatalf("within MaxStale: %v", err)
	}
	stale := make(chan struct{})
	var once sync.Once
	stop := src.Watch(func(c sessionauth.Change) {
		if c.Stale {
			once.Do(func() { close(stale) })
		}
	})
	defer stop()
	clk.Advance(2 * time.Minute)
	runCtx, cancel := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { defer close(ran); src.Run(runCtx) }()
	guard(t, stale, "the stale notification")
	cancel()
	<-ran
	if _, err := chk.Check(ctx, tok); !errors.Is(err, sessionauth.ErrStale) {
		t.Fatalf("past MaxStale: %v, want ErrStale", err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	chk.Middleware()(http.NotFoundHandler()).ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("middleware while stale: %d %q", rec.Code, rec.Body)
	}
	// Back up: fresh again. The first Sync may join a fetch that Run's last poll began
	// while the control plane was failing (shared fetches outlive the caller that
	// started them); the one after it begins afresh.
	f.setFail(false)
	if err := src.Sync(ctx); err != nil {
		if err := src.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := chk.Check(ctx, f.token("s", clk.Now())); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

// Tokens naming unknown kids (forged, or a rotation not yet fetched) refetch the JWKS
// at most once per cooldown however many arrive; a genuine new key is picked up.
func TestUnknownKidRefetchIsLimitedByCooldown(t *testing.T) {
	f := newFakeCP(t)
	clk := newClock()
	src, chk := newSource(t, f, clk, func(c *sessionauth.SourceConfig) { c.RefetchCooldown = 30 * time.Second })
	ctx := context.Background()
	if err := src.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	before := f.jwksHits.Load()
	var wg sync.WaitGroup
	for i := range 500 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			forged := signWith(t, newFakeKey(t, "forged-"+strconv.Itoa(i)), "at+jwt", jwt.MapClaims{"iss": f.issuer, "aud": audience,
				"sub": "mallory", "sid": "x", "exp": clk.Now().Add(time.Minute).Unix()})
			if _, err := chk.Check(ctx, forged); !errors.Is(err, verifier.ErrUnknownKey) {
				t.Errorf("forged kid: %v, want ErrUnknownKey", err)
			}
		}()
	}
	wg.Wait()
	if n := f.jwksHits.Load() - before; n != 1 {
		t.Fatalf("500 forged kids fetched the JWKS %d times within one cooldown, want 1", n)
	}

	// A real rotation: the control plane publishes and signs with a new key.
	f.mu.Lock()
	f.keys = append([]fakeKey{newFakeKey(t, "k2")}, f.keys...)
	f.mu.Unlock()
	tok := f.token("s", clk.Now())
	if _, err := chk.Check(ctx, tok); !errors.Is(err, verifier.ErrUnknownKey) {
		t.Fatalf("new kid within the cooldown: %v, want ErrUnknownKey (no refetch yet)", err)
	}
	clk.Advance(31 * time.Second)
	id, err := chk.Check(ctx, tok)
	if err != nil || id.KeyID != "k2" {
		t.Fatalf("new kid after the cooldown: %+v, %v", id, err)
	}
}

// Bad documents change nothing: a JWKS that does not parse, a list from another
// issuer, a list older than the one held.
func TestBadDocumentsAreRefused(t *testing.T) {
	f := newFakeCP(t)
	clk := newClock()
	src, chk := newSource(t, f, clk, nil)
	ctx := context.Background()
	f.revoke("gone")
	if err := src.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	tok := f.token("live", clk.Now())

	f.mu.Lock()
	good := f.keys
	f.keys = nil // {"keys":null}: refused
	f.mu.Unlock()
	if err := src.Sync(ctx); !errors.Is(err, verifier.ErrInvalidKeySet) {
		t.Fatalf("empty JWKS: %v", err)
	}
	f.mu.Lock()
	f.keys = good
	f.issuer = "https://other.example.test"
	f.sids = nil
	f.listIat++
	f.mu.Unlock()
	if err := src.Sync(ctx); !errors.Is(err, verifier.ErrInvalidRevocationList) {
		t.Fatalf("list from another issuer: %v", err)
	}
	f.mu.Lock()
	f.issuer = "https://auth.example.test"
	f.listIat -= 100
	f.mu.Unlock()
	if err := src.Sync(ctx); !errors.Is(err, verifier.ErrInvalidRevocationList) {
		t.Fatalf("older list: %v", err)
	}
	if _, ok := src.Revoked("gone"); !ok {
		t.Fatal("a refused list dropped a revocation")
	}
	if _, err := chk.Check(ctx, tok); err != nil {
		t.Fatalf("keys kept after a refused JWKS: %v", err)
	}
}

// With an Engine configured the source feeds it every accepted key set and list, so
// a Go edge running verifier.wasm (or the native engine) decides with them.
func TestSourceFeedsEngine(t *testing.T) {
	f := newFakeCP(t)
	clk := newClock()
	engine := verifier.NewNative()
	defer engine.Close(context.Background())
	cfg := verifier.Config{EdgeConfig: verifier.EdgeConfig{Issuer: "https://auth.example.test", Audience: audience,
		Algorithms: []string{"EdDSA"}, LeewaySeconds: 30,
		AccessCookie: verifier.Cookie{Name: "at", Path: "/", SameSite: "Lax"}, RefreshCookie: verifier.Cookie{Name: "rt", Path: "/auth", SameSite: "Lax"},
		LoginPath: "/login", RefreshPath: "/auth/refresh"}}
	if err := engine.Configure(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	src, _ := newSource(t, f, clk, func(c *sessionauth.SourceConfig) { c.Engine = engine })
	ctx := context.Background()
	if err := src.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := engine.VerifyToken(context.Background(), f.token("s1", clk.Now()), clk.Now().Unix()); err != nil {
		t.Fatalf("engine after Sync: %v", err)
	}
	f.revoke("s1")
	if err := src.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := engine.VerifyToken(context.Background(), f.token("s1", clk.Now()), clk.Now().Unix()); !errors.Is(err, verifier.ErrRevoked) {
		t.Fatalf("engine after the revocation: %v, want ErrRevoked", err)
	}
}

func TestConfigErrorsListEveryProblem(t *testing.T) {
	_, err := sessionauth.NewSource(sessionauth.SourceConfig{ControlPlane: "auth.example.com", Algorithms: []string{"HS256", "none"}, MaxStale: time.Second})
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, want := range []string{"ControlPlane", "HS256", `"none"`, "MaxStale"} {
		if !contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	src, err := sessionauth.NewSource(sessionauth.SourceConfig{ControlPlane: "https://auth.example.com", Issuer: "https://auth.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sessionauth.NewChecker(src, sessionauth.CheckerConfig{}); err == nil || !contains(err.Error(), "Audience") {
		t.Fatalf("checker without an audience and without the edge configuration: %v", err)
	}
	_, err = sessionauth.NewChecker(src, sessionauth.CheckerConfig{Algorithms: []string{"HS256", "none"}, Leeway: time.Hour})
	for _, want := range []string{"Audience", "HS256", `"none"`, "Leeway"} {
		if err == nil || !contains(err.Error(), want) {
			t.Errorf("checker error %v does not mention %s", err, want)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// A 304 confirms the list held only while that list is within its exp: a replica (or a
// cache) that answers 304 to the ETag of a list past its exp does not keep the source
// fresh, so the source turns stale MaxStale after the last real confirmation, as it does
// when the control plane cannot be reached.
func TestNotModifiedDoesNotConfirmAnExpiredList(t *testing.T) {
	f := newFakeCP(t) // its list lives 300 s, and answers 304 to its ETag forever
	clk := newClock()
	src, chk := newSource(t, f, clk, nil)
	ctx := context.Background()
	if err := src.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Advance(6 * time.Minute) // the list held expired a minute ago
	before := f.notModified.Load()
	err := src.Sync(ctx)
	if f.notModified.Load()-before != 2 { // the JWKS and the list
		t.Fatalf("the fake answered %d 304s, want 2", f.notModified.Load()-before)
	}
	if err == nil || !errors.Is(err, sessionauth.ErrStale) {
		t.Errorf("Sync answered 304 for an expired list: %v, want an error wrapping ErrStale", err)
	}
	clk.Advance(5 * time.Minute) // 11 min after the last confirmation of a current list
	if err := src.Fresh(); !errors.Is(err, sessionauth.ErrStale) {
		t.Fatalf("Fresh 11 min after the list was last confirmed within its exp: %v, want ErrStale", err)
	}
	tok := f.token("sess-1", clk.Now())
	if _, err := chk.Check(ctx, tok); !errors.Is(err, sessionauth.ErrStale) {
		t.Fatalf("check: %v, want ErrStale", err)
	}
}

// A list's cutoff (before) refuses the tokens issued earlier as expired, so that their
// holders refresh, in the Checker and in the engine the source feeds; tokens issued at
// the cutoff or later pass, and a list without one lifts it.
func TestListCutoffRefusesOlderTokensAsExpired(t *testing.T) {
	f := newFakeCP(t)
	clk := newClock()
	engine := verifier.NewNative()
	cfg := verifier.Config{EdgeConfig: verifier.EdgeConfig{Issuer: f.issuer, Audience: audience, Algorithms: []string{"EdDSA"},
		AccessCookie:  verifier.Cookie{Name: "__Host-a", Path: "/", Secure: true, HTTPOnly: true, SameSite: "Lax"},
		RefreshCookie: verifier.Cookie{Name: "__Secure-r", Path: "/auth", Secure: true, HTTPOnly: true, SameSite: "Lax"},
		LoginPath:     "/login", RefreshPath: "/auth/refresh"}}
	cfg.LeewaySeconds = 60
	if err := engine.Configure(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	src, chk := newSource(t, f, clk, func(c *sessionauth.SourceConfig) { c.Engine = engine })
	ctx := context.Background()
	older := f.token("s1", clk.Now().Add(-2*time.Minute))
	newer := f.token("s2", clk.Now())
	check := func(step, tok string, want error) {
		t.Helper()
		_, err := chk.Check(ctx, tok)
		_, eerr := engine.VerifyToken(ctx, tok, clk.Now().Unix())
		for _, got := range []error{err, eerr} {
			if (want == nil) != (got == nil) || !errors.Is(got, want) {
				t.Fatalf("%s: checker %v, engine %v; want %v", step, err, eerr, want)
			}
		}
	}
	if err := src.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	check("no cutoff", older, nil)

	f.mu.Lock()
	f.before = clk.Now().Add(-time.Minute).Unix()
	f.listIat = max(f.listIat+1, clk.Now().Unix())
	f.mu.Unlock()
	if err := src.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	check("issued before the cutoff", older, verifier.ErrExpired)
	check("issued after the cutoff", newer, nil)

	f.mu.Lock()
	f.before = 0
	f.listIat++
	f.mu.Unlock()
	if err := src.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	check("cutoff lifted", older, nil)
}

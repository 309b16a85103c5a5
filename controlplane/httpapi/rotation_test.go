package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/config"
	"github.com/edgeauth/edgeauth/keys"
	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/jose"
)

// edgeClient behaves like an edge: it keeps a JWKS it fetched, for as long as the
// response's max-age allows, and verifies the access tokens its user's refreshes
// bring back against that set (no refetch on an unknown kid: the worst case).
type edgeClient struct {
	e         *env
	clock     *clock
	validator jose.Validator
	keys      *jose.KeySet
	etag      string
	fetchedAt time.Time
	maxAge    time.Duration
	refresh   *http.Cookie
}

func (c *edgeClient) jwks(t *testing.T) {
	now := c.clock.Now()
	if c.keys != nil && now.Sub(c.fetchedAt) < c.maxAge {
		return
	}
	h := map[string]string{}
	if c.etag != "" {
		h["If-None-Match"] = c.etag
	}
	r := c.e.do(req{method: "GET", path: "/.well-known/jwks.json", header: h})
	ma, err := strconv.Atoi(strings.TrimPrefix(r.Header.Get("Cache-Control"), "public, max-age="))
	if err != nil {
		t.Errorf("Cache-Control %q", r.Header.Get("Cache-Control"))
		return
	}
	c.fetchedAt, c.maxAge = now, time.Duration(ma)*time.Second
	if r.StatusCode == http.StatusNotModified {
		return
	}
	ks, err := jose.ParseJWKS(r.body)
	if err != nil {
		t.Errorf("jwks: %v", err)
		return
	}
	c.keys, c.etag = ks, r.Header.Get("ETag")
}

// step refreshes, then verifies the new access token; it returns the verification error.
func (c *edgeClient) step(t *testing.T) (string, error) {
	r := c.e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{c.refresh}})
	if r.StatusCode != 200 {
		t.Errorf("refresh: %d %s", r.StatusCode, r.body)
		return "", nil
	}
	c.refresh = r.cookie(c.e.cfg.RefreshCookie().Name)
	at := r.cookie(c.e.cfg.AccessCookie().Name).Value
	c.jwks(t)
	_, err := c.validator.Verify([]byte(at), c.keys, c.clock.Now().Unix())
	return at, err
}

// Key rotation while clients keep refreshing and verifying against the JWKS they
// fetch and cache: zero verification failures, because a new key is published
// longer than any cache may hold the old set before it signs. Time runs on a test
// clock in 20 s steps (clients pause during a step, as if it passed between two of
// their requests). The same clients then meet an immediate rotation, which skips
// pre-publication, and do fail: the check above could have failed.
func TestKeyRotationWhileRefreshing(t *testing.T) {
	t.Parallel()
	clk := newClock()
	e := newEnv(t, envOptions{clock: clk, mod: func(c *config.Config) {
		c.Keys.JWKSMaxAge = time.Minute
		c.Keys.PrePublish = 3 * time.Minute
		c.Keys.RotateEvery = time.Hour
		c.Keys.RetireAfter = 15 * time.Minute
	}})
	e.createUser(testEmail, testPassword)
	ctx := context.Background()

	const nClients = 4
	clients := make([]*edgeClient, nClients)
	for i := range clients {
		_, rt := e.login(testEmail, testPassword)
		clients[i] = &edgeClient{e: e, clock: clk, refresh: rt, validator: jose.Validator{
			Issuer: testPublicURL, Audience: testPublicURL, Algorithms: []jose.Algorithm{jose.EdDSA}, Type: "at+jwt"}}
	}
	first, _ := e.app.Keys.Active()

	var (
		pause              sync.RWMutex // held by the test while time moves
		stop               atomic.Bool
		verified, failures atomic.Int64
		steps              = make([]atomic.Int64, len(clients)) // steps taken by each client
		wg                 sync.WaitGroup
		kidsMu             sync.Mutex
		kidsSeen           = map[string]bool{}
	)
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				pause.RLock()
				at, err := c.step(t)
				steps[i].Add(1) // under the read lock: a step counted after advance took its snapshot ran wholly at the new time
				pause.RUnlock()
				if at == "" {
					continue
				}
				if err != nil {
					failures.Add(1)
					t.Errorf("verification failed: %v", err)
				} else {
					verified.Add(1)
				}
				kidsMu.Lock()
				kidsSeen[kidOf(at)] = true
				kidsMu.Unlock()
			}
		}()
	}
	// ranAt waits until every client has taken one whole step at the current time.
	ranAt := func() {
		for i := range steps {
			for target := steps[i].Load() + 1; steps[i].Load() < target; {
				time.Sleep(time.Millisecond)
			}
		}
	}
	advance := func(d time.Duration) {
		pause.Lock()
		clk.Advance(d)
		if err := e.app.Keys.Advance(ctx); err != nil {
			t.Error(err)
		}
		pause.Unlock()
		ranAt()
	}

	ranAt()
	pending, err := e.app.Keys.Rotate(ctx, keys.RotateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Through activation (3 min) and past the old key's removal (15 min after).
	for range 60 {
		advance(20 * time.Second)
	}
	stop.Store(true)
	wg.Wait()

	active, _ := e.app.Keys.Active()
	if active.KID != pending.KID || active.KID == first.KID {
		t.Fatalf("active key %s; rotated to %s from %s", active.KID, pending.KID, first.KID)
	}
	if !kidsSeen[first.KID] || !kidsSeen[pending.KID] {
		t.Fatalf("tokens seen from keys %v; want both %s and %s", kidsSeen, first.KID, pending.KID)
	}
	if failures.Load() != 0 || verified.Load() < nClients*10 {
		t.Fatalf("%d verified, %d failures", verified.Load(), failures.Load())
	}
	t.Logf("%d verifications across the rotation, 0 failures", verified.Load())

	// Control: an immediate rotation (no pre-publication) is seen as an unknown key
	// by a client whose cached set is still fresh.
	c := clients[0]
	c.jwks(t)
	if _, err := e.app.Keys.Rotate(ctx, keys.RotateOptions{Immediate: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.step(t); !errors.Is(err, verifier.ErrUnknownKey) {
		t.Fatalf("after an immediate rotation with a cached JWKS: %v, want ErrUnknownKey", err)
	}
}

// kidOf reads the kid of a compact JWS header.
func kidOf(token string) string {
	h, _, _ := strings.Cut(token, ".")
	b, err := base64RawURL(h)
	if err != nil {
		return ""
	}
	_, rest, _ := strings.Cut(string(b), `"kid":"`)
	kid, _, _ := strings.Cut(rest, `"`)
	return kid
}

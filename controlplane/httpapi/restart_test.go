package httpapi_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/pgtest"
)

// PostgreSQL crashes and restarts while clients keep logging in and refreshing: the
// service answers 503 (retryable) meanwhile, recovers by itself, and afterwards every
// client's session is live, its last refresh cookie is its session's live token
// (nothing lost) and no session is half-rotated; that cookie still refreshes.
func TestSurvivesPostgresRestart(t *testing.T) {
	t.Parallel()
	pg := pgtest.StartServer(t)
	e := newEnv(t, envOptions{dbURL: pg.NewDatabase(t), start: true})
	e.createUser(testEmail, testPassword)

	type client struct {
		refresh      *http.Cookie
		ok, retried  int
		okBefore     atomic.Int64
		okAfter      atomic.Int64
		unauthorized int
	}
	const n = 4
	clients := make([]*client, n)
	for i := range clients {
		_, rt := e.login(testEmail, testPassword)
		clients[i] = &client{refresh: rt}
	}
	var restarted atomic.Bool
	var stop atomic.Bool
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for iter := 0; !stop.Load(); iter++ {
				var r resp
				if i == 0 && iter%10 == 9 {
					// One client also keeps logging in (new sessions) throughout.
					r = e.do(req{method: "POST", path: "/auth/login", body: `{"email":"` + testEmail + `","password":"` + testPassword + `"}`})
					if r.StatusCode == 200 {
						continue
					}
				} else {
					r = e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{c.refresh}})
				}
				switch {
				case r.StatusCode == 200:
					if ck := r.cookie(e.cfg.RefreshCookie().Name); ck != nil {
						c.refresh = ck
					}
					c.ok++
					if restarted.Load() {
						c.okAfter.Add(1)
					} else {
						c.okBefore.Add(1)
					}
				case r.StatusCode == 503 || r.StatusCode == 500:
					if r.StatusCode == 500 {
						t.Errorf("500 (not retryable) during the restart: %s", r.body)
					}
					c.retried++
					time.Sleep(20 * time.Millisecond)
				default:
					c.unauthorized++
					t.Errorf("client %d: %d %s", i, r.StatusCode, r.body)
					return
				}
			}
		}()
	}

	// Restart once every client is under way.
	waitUntil(t, 30*time.Second, func() bool {
		for _, c := range clients {
			if c.okBefore.Load() < 3 {
				return false
			}
		}
		return true
	})
	pg.Restart(t)
	restarted.Store(true)
	deadline := time.Now().Add(30 * time.Second)
	for {
		all := true
		for _, c := range clients {
			all = all && c.okAfter.Load() >= 5
		}
		if all {
			break
		}
		if time.Now().After(deadline) {
			stop.Store(true)
			wg.Wait()
			t.Fatal("clients did not recover within 30 s after the restart")
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()

	retried := 0
	for i, c := range clients {
		retried += c.retried
		sid, _, _ := strings.Cut(c.refresh.Value, ".")
		secret, err := base64.RawURLEncoding.DecodeString(c.refresh.Value[strings.LastIndexByte(c.refresh.Value, '.')+1:])
		if err != nil {
			t.Fatalf("client %d: refresh cookie %v", i, err)
		}
		var live bool
		if err := e.pool.QueryRow(context.Background(), `SELECT token_hash = sha256($2) FROM sessions WHERE id = $1`, sid, secret).Scan(&live); err != nil || !live {
			t.Errorf("client %d: its last refresh cookie is not its session's live token (%v)", i, err)
		}
		if r := e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{c.refresh}}); r.StatusCode != 200 {
			t.Errorf("client %d: last cookie refused after the restart: %d %s", i, r.StatusCode, r.body)
		}
	}
	t.Logf("requests answered 503 during the restart: %d", retried)

	var bad, sessions int
	err := e.pool.QueryRow(context.Background(), `
		SELECT count(*) FILTER (WHERE generation > 1 AND (previous_hash IS NULL OR rotated_at IS NULL OR successor_box IS NULL)),
			count(*) FROM sessions`).Scan(&bad, &sessions)
	if err != nil {
		t.Fatal(err)
	}
	if bad != 0 || sessions < n {
		t.Fatalf("%d of %d sessions are half-rotated", bad, sessions)
	}
	if c := e.counts("sessions", "live_sessions"); c["sessions"] != c["live_sessions"] {
		t.Fatalf("sessions revoked by the restart: %v", c)
	}
	// Ready again once the revocation listener has reconnected: it backs off (up to 10 s)
	// while the server is down, so it may come back after the clients' pool has.
	var ready resp
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if ready = e.do(req{method: "GET", path: "/readyz"}); ready.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz after the restart: %d %s", ready.StatusCode, ready.body)
		}
	}
}

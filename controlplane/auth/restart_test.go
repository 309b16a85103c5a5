package auth_test

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/auth"
	"github.com/edgeauth/edgeauth/internal/pgtest"
	"github.com/edgeauth/edgeauth/migrations"
	"github.com/jackc/pgx/v5/pgxpool"
)

func isDomainError(err error) bool {
	for _, e := range []error{auth.ErrInvalidCredentials, auth.ErrThrottled, auth.ErrRefreshReused, auth.ErrRefreshInvalid,
		auth.ErrSessionNotFound, auth.ErrPasswordPolicy, auth.ErrUserExists, auth.ErrInvalidEmail, auth.ErrUserNotFound} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// PostgreSQL (a private server) is killed and restarted in the middle of a load of logins
// and refreshes. The service recovers by itself (the pool reconnects), clients that retry
// failed operations carry on, and afterwards every session is consistent: no half-rotated
// token, one live token per session, nothing revoked, every client's latest token works.
func TestSurvivesPostgresRestart(t *testing.T) {
	t.Parallel()
	srv := pgtest.StartServer(t)
	ctx := context.Background()
	pcfg, err := pgxpool.ParseConfig(srv.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	pcfg.MaxConns = 12
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := migrations.Apply(ctx, pool); err != nil {
		t.Fatal(err)
	}
	e := envOn(t, pool, func(c *auth.Config) { c.Now = time.Now })

	const clients = 8
	for i := range clients {
		e.user(t, "load"+strconv.Itoa(i)+"@example.test")
	}

	var (
		stop      atomic.Bool
		restarted atomic.Bool
		wg        sync.WaitGroup
		mu        sync.Mutex
		latest    = map[string]string{} // session id -> the client's newest refresh token
		failures  atomic.Int64          // infrastructure errors seen (and retried)
		beforeOK  = make([]atomic.Int64, clients)
		afterOK   = make([]atomic.Int64, clients)
		clientErr = make([]error, clients)
	)
	// retry runs op until it succeeds, returns a domain error, or the test stops.
	retry := func(op func(ctx context.Context) error) error {
		for {
			octx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := op(octx)
			cancel()
			if err == nil || isDomainError(err) {
				return err
			}
			failures.Add(1)
			if stop.Load() {
				return err
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			email := "load" + strconv.Itoa(i) + "@example.test"
			var cur *auth.Result
			for n := 0; !stop.Load(); n++ {
				var r *auth.Result
				var err error
				if cur == nil || n%25 == 0 { // a new device now and then
					err = retry(func(ctx context.Context) error {
						r, err = e.svc.Login(ctx, auth.LoginRequest{Email: email, Password: testPassword, IP: "192.0.2." + strconv.Itoa(i)})
						return err
					})
				} else {
					tok := cur.Tokens.Refresh
					err = retry(func(ctx context.Context) error {
						r, err = e.svc.Refresh(ctx, auth.RefreshRequest{Token: tok})
						return err
					})
				}
				if err != nil {
					if !stop.Load() {
						clientErr[i] = err
					}
					return
				}
				cur = r
				mu.Lock()
				latest[r.Session.ID] = r.Tokens.Refresh
				mu.Unlock()
				if restarted.Load() {
					afterOK[i].Add(1)
				} else {
					beforeOK[i].Add(1)
				}
			}
		}()
	}

	// every reports whether each client has done at least n operations in counts.
	every := func(counts []atomic.Int64, n int64) func() bool {
		return func() bool {
			for i := range counts {
				if counts[i].Load() < n {
					return false
				}
			}
			return true
		}
	}
	if !waitUntil(30*time.Second, every(beforeOK, 5)) {
		t.Error("the clients did not get under way within 30 s")
	}
	srv.Restart(t)
	restarted.Store(true)
	if !waitUntil(60*time.Second, every(afterOK, 5)) {
		t.Error("the clients did not recover within 60 s of the restart")
	}
	stop.Store(true)
	wg.Wait()

	for i := range clients {
		if clientErr[i] != nil {
			t.Errorf("client %d: %v", i, clientErr[i])
		}
		if afterOK[i].Load() == 0 {
			t.Errorf("client %d did nothing after the restart", i)
		}
	}
	if failures.Load() == 0 {
		t.Error("no operation failed: the restart did not happen under load")
	}
	t.Logf("sessions %d, retried failures %d", len(latest), failures.Load())

	checks := []struct{ name, sql string }{
		{"rotated session without its parent's hash", `SELECT count(*) FROM sessions
			WHERE generation > 1 AND (previous_hash IS NULL OR previous_hash = token_hash)`},
		{"rotated session without its sealed successor", `SELECT count(*) FROM sessions
			WHERE generation > 1 AND (rotated_at IS NULL OR successor_box IS NULL)`},
		{"revoked session", `SELECT count(*) FROM sessions WHERE revoked_at IS NOT NULL`},
	}
	for _, c := range checks {
		var n int
		if err := pool.QueryRow(ctx, c.sql).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%s: %d", c.name, n)
		}
	}
	for sid, tok := range latest {
		if s := sessionRow(t, e, sid); !bytes.Equal(s.TokenHash, secretHash(t, tok)) {
			t.Errorf("session %s: the client's latest token is not the live one (generation %d)", sid, s.Generation)
		}
		if _, err := e.refresh(tok); err != nil {
			t.Errorf("session %s: latest token refused: %v", sid, err)
		}
	}
}

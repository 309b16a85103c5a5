package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/pgtest"
)

// TestRefreshAnsweredUnavailableDoesNotRotateLater: a refresh whose statement is still
// waiting in PostgreSQL when its request gives up (RequestTimeout; a client that gives
// up ends it the same way) is answered 503 unavailable, "nothing was done"
// (openapi.yaml). It must not rotate the session afterwards: the client keeps the
// token it presented, and its retry, once the database answers again and maybe later
// than the refresh grace, would otherwise be taken for reuse and end the session.
func TestRefreshAnsweredUnavailableDoesNotRotateLater(t *testing.T) {
	t.Parallel()
	pg := pgtest.StartServer(t)
	clk := newClock()
	e := newEnv(t, envOptions{dbURL: pg.NewDatabase(t), clock: clk})
	e.createUser(testEmail, testPassword)
	_, refresh := e.login(testEmail, testPassword)
	sid, _, _ := strings.Cut(refresh.Value, ".")
	ctx := context.Background()

	// The session's row stays locked (as by a transaction that hangs) until the refresh
	// has been answered.
	tx, err := e.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT FROM sessions WHERE id = $1 FOR UPDATE`, sid); err != nil {
		t.Fatal(err)
	}
	if r := e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{refresh}}); r.StatusCode != http.StatusServiceUnavailable || r.errorCode() != "unavailable" {
		t.Fatalf("refresh while its row stays locked: %d %s, want 503 unavailable", r.StatusCode, r.body)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	// Whatever the refresh's statement does once the lock is gone, it is over when no
	// backend runs it any more.
	waitUntil(t, 30*time.Second, func() bool {
		var n int
		if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND state = 'active' AND pid <> pg_backend_pid() AND query LIKE '%UPDATE sessions SET%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 0
	})
	var generation int
	if err := e.pool.QueryRow(ctx, `SELECT generation FROM sessions WHERE id = $1`, sid).Scan(&generation); err != nil {
		t.Fatal(err)
	}
	if generation != 1 {
		t.Errorf("the refresh answered 503 rotated the session afterwards: generation %d", generation)
	}
	// The client retries after the grace (the database was away longer than it).
	clk.Advance(e.cfg.Sessions.RefreshGrace + time.Second)
	if r := e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{refresh}}); r.StatusCode != http.StatusOK {
		t.Fatalf("the retry after the grace: %d %s, want 200", r.StatusCode, r.body)
	}
}

package httpapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// waitReadyz polls /readyz until its status is want and, for a 503, its body contains
// reason; it fails the test after a generous deadline (a guard against a hang, not a
// timing assertion).
func (e *env) waitReadyz(want int, reason string) resp {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := e.do(req{method: "GET", path: "/readyz"})
		if r.StatusCode == want && strings.Contains(string(r.body), reason) {
			return r
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("/readyz: %d %s, want %d with %q", r.StatusCode, r.body, want, reason)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestReadyzReportsARevocationListenerDown: the list is rebuilt only while the
// replica's LISTEN connection is up. With it down (its backend terminated, and the
// database refusing new connections for a while so it cannot come back at once) the
// replica learns of no revocation and its list stops being rebuilt, so /readyz answers
// 503 with the reason; once the listener is back, /readyz is 200 again.
func TestReadyzReportsARevocationListenerDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{start: true})
	e.waitReadyz(200, "ready")
	ctx := context.Background()
	// A connection of its own, to another database: the test's database refuses new
	// connections meanwhile, and may not be closed to connections from inside it.
	var db string
	if err := e.pool.QueryRow(ctx, `SELECT current_database()`).Scan(&db); err != nil {
		t.Fatal(err)
	}
	cc := e.pool.Config().ConnConfig.Copy()
	cc.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	allow := func(v bool) {
		t.Helper()
		if _, err := conn.Exec(ctx, `ALTER DATABASE "`+db+`" ALLOW_CONNECTIONS `+map[bool]string{true: "true", false: "false"}[v]); err != nil {
			t.Fatal(err)
		}
	}
	allow(false)
	defer func() { _, _ = conn.Exec(ctx, `ALTER DATABASE "`+db+`" ALLOW_CONNECTIONS true`) }()
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = $1 AND query LIKE 'LISTEN %'`, db).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("terminated %d listener backends, want 1", n)
	}
	r := e.waitReadyz(503, "revocation listener disconnected")
	if r.errorCode() != "not_ready" {
		t.Fatalf("/readyz with the listener down: %s", r.body)
	}
	allow(true)
	e.waitReadyz(200, "ready")
	// A probe that finds the replica not ready is the probe doing its job, at startup
	// and while a connection comes back: a warning, not an error (what keeps the
	// replica out logs its own error).
	for _, line := range strings.Split(e.logs.String(), "\n") {
		if strings.Contains(line, `"route":"GET /readyz"`) && strings.Contains(line, `"status":503`) && !strings.Contains(line, `"level":"WARN"`) {
			t.Errorf("a not-ready probe logged as %s", line)
		}
	}
}

// TestReadyzReportsAListNotRebuilt: a list that is not being rebuilt (nothing runs
// here: no listener, no periodic rebuild) is reported before it expires, so a load
// balancer takes the replica out before its list answers 503.
func TestReadyzReportsAListNotRebuilt(t *testing.T) {
	t.Parallel()
	c := newClock()
	e := newEnv(t, envOptions{clock: c}) // no background loops: nothing rebuilds the list
	e.waitReadyz(200, "ready")
	c.Advance(e.cfg.Revocations.Lifetime - 10*time.Second) // 10 s left, three rebuilds missed
	if r := e.waitReadyz(503, "revocation list"); r.errorCode() != "not_ready" {
		t.Fatalf("/readyz with the list about to expire: %s", r.body)
	}
	c.Advance(time.Minute)
	e.waitReadyz(503, "revocation list")
	if err := e.app.Revocations.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.waitReadyz(200, "ready")
}

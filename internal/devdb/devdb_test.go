package devdb

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// The development cluster is created once, reused while it runs, and started again on
// the same port (same URL) after a stop, with its data kept.
func TestStartReuseStopStart(t *testing.T) {
	cache, err := os.MkdirTemp("", "edgeauth-devdb-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(cache, 0o755) // the postgres OS user must reach it when we are root
	t.Cleanup(func() { os.RemoveAll(cache) })
	t.Setenv("EDGEAUTH_CACHE", cache)
	ctx := context.Background()

	var log strings.Builder
	first, err := Start(ctx, &log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { first.Stop(context.Background(), "immediate") })
	if !strings.Contains(log.String(), "creating a private PostgreSQL cluster in "+cache) {
		t.Errorf("first start did not say where it created the cluster:\n%s", log.String())
	}
	mustExec(t, first.URL("postgres"), `CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)`)

	log.Reset()
	again, err := Start(ctx, &log)
	if err != nil {
		t.Fatal(err)
	}
	if again.Port != first.Port || log.Len() != 0 {
		t.Fatalf("a running cluster was not reused: port %d then %d, log %q", first.Port, again.Port, log.String())
	}

	existing, err := Existing()
	if err != nil {
		t.Fatal(err)
	}
	if err := existing.Stop(ctx, "fast"); err != nil {
		t.Fatal(err)
	}
	if existing.Running(ctx) {
		t.Fatal("still running after Stop")
	}
	restarted, err := Start(ctx, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if restarted.Port != first.Port {
		t.Errorf("restarted on port %d, want the same port %d (same URL)", restarted.Port, first.Port)
	}
	var v int
	query(t, restarted.URL("postgres"), `SELECT v FROM kept`, &v)
	if v != 7 {
		t.Errorf("data not kept across a stop: got %d", v)
	}
}

func TestExistingWithoutCluster(t *testing.T) {
	t.Setenv("EDGEAUTH_CACHE", t.TempDir())
	if _, err := Existing(); err == nil || !strings.Contains(err.Error(), "no development cluster") {
		t.Fatalf("Existing() = %v, want an error saying there is no cluster", err)
	}
}

func mustExec(t *testing.T, url, sql string) {
	t.Helper()
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(context.Background(), sql); err != nil {
		t.Fatal(err)
	}
}

func query(t *testing.T, url, sql string, dst any) {
	t.Helper()
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if err := c.QueryRow(context.Background(), sql).Scan(dst); err != nil {
		t.Fatal(err)
	}
}

package pgtest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// A private server keeps committed data across an immediate (crash-like) restart.
func TestPrivateServerRestart(t *testing.T) {
	s := StartServer(t)
	url := s.NewDatabase(t)
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, `CREATE TABLE t (v int); INSERT INTO t VALUES (42)`); err != nil {
		t.Fatal(err)
	}
	s.Restart(t)
	if err := c.Ping(ctx); err == nil {
		t.Fatal("connection survived an immediate restart")
	}
	c.Close(ctx)
	ctx2, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err = pgx.Connect(ctx2, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var v int
	if err := c.QueryRow(ctx, `SELECT v FROM t`).Scan(&v); err != nil || v != 42 {
		t.Fatalf("after restart: v=%d err=%v", v, err)
	}
}

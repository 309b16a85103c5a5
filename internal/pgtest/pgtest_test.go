package pgtest

import (
	"context"
	"os"
	"testing"

	"github.com/edgeauth/edgeauth/migrations"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

func TestNewDatabaseIsEmptyAndUsable(t *testing.T) {
	url := NewDatabase(t)
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var db string
	var tables int
	if err := c.QueryRow(ctx, `SELECT current_database(), (SELECT count(*) FROM pg_tables WHERE schemaname = 'public')`).Scan(&db, &tables); err != nil {
		t.Fatal(err)
	}
	if db == "postgres" || tables != 0 {
		t.Fatalf("got database %q with %d tables, want a fresh one", db, tables)
	}
}

func TestWithDatabase(t *testing.T) {
	for _, c := range []struct{ in, from, want string }{
		{"postgres://u@h:5432/postgres?sslmode=disable", "postgres", "postgres://u@h:5432/x?sslmode=disable"},
		{"postgres://u@h:5432", "", "postgres://u@h:5432/x"},
	} {
		if got := withDatabase(c.in, c.from, "x"); got != c.want {
			t.Errorf("withDatabase(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// Copies of the migrated template are current and independent of each other.
func TestNewMigratedDatabase(t *testing.T) {
	ctx := context.Background()
	a, b := NewPool(t), NewPool(t)
	for _, p := range []*pgxpool.Pool{a, b} {
		cur, latest, err := migrations.Status(ctx, p)
		if err != nil || cur != latest || latest == 0 {
			t.Fatalf("schema version %d of %d: %v", cur, latest, err)
		}
	}
	if _, err := a.Exec(ctx, `INSERT INTO login_failures (account_key, client_key, at) VALUES ('\x00', 'x', now())`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := b.QueryRow(ctx, `SELECT count(*) FROM login_failures`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("a write to one copy shows in another: %d %v", n, err)
	}
}

package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
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

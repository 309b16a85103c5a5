package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

// keysTable is every row of signing_keys, every column (private keys included), in
// one comparable string.
func keysTable(t *testing.T, db string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var s string
	if err := conn.QueryRow(ctx, `SELECT coalesce(string_agg(row_to_json(k)::text, E'\n' ORDER BY kid), '') FROM signing_keys k`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func execSQL(t *testing.T, db, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatal(err)
	}
}

// runCmd runs one command line in process and returns its output; it fails the test
// unless the command exits 0.
func runCmd(t *testing.T, env []string, args ...string) (stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(context.Background(), args, strings.NewReader(""), &out, &errb, env); code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, errb.String())
	}
	return out.String(), errb.String()
}

// `keys list` only reads: on a database where the lifecycle would act (no key yet, a
// pending key due to sign), the keys table is the same after the listing, and the
// listing shows the keys as they are stored.
func TestKeysListChangesNothing(t *testing.T) {
	t.Parallel()
	db := pgtest.NewMigratedDatabase(t)
	env := []string{"EDGEAUTH_DATABASE_URL=" + db, "EDGEAUTH_KEYS__KEK=" + testKEK, "EDGEAUTH_PUBLIC_URL=https://auth.example.test"}

	out, _ := runCmd(t, env, "keys", "list")
	if got := keysTable(t, db); got != "" {
		t.Errorf("keys list on a database without keys created some:\n%s", got)
	}
	if strings.Contains(out, "EdDSA") {
		t.Errorf("keys list shows a key the database did not have:\n%s", out)
	}

	runCmd(t, env, "keys", "rotate") // the first key (active) and its successor (pending)
	execSQL(t, db, `UPDATE signing_keys SET activate_at = now() - interval '1 hour' WHERE state = 'pending'`)
	before := keysTable(t, db)
	out, _ = runCmd(t, env, "keys", "list")
	if after := keysTable(t, db); after != before {
		t.Fatalf("keys list changed the keys table:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if !strings.Contains(out, "pending") || !strings.Contains(out, "active") {
		t.Fatalf("keys list does not show the stored states:\n%s", out)
	}
	// Listing opens no private key, so it needs no KEK.
	if out, _ := runCmd(t, env[:1], "keys", "list"); strings.Count(out, "EdDSA") != 2 {
		t.Fatalf("keys list without a KEK:\n%s", out)
	}
}

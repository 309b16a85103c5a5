package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/pgtest"
	"github.com/edgeauth/edgeauth/migrations"
	"github.com/jackc/pgx/v5/pgxpool"
)

// A binary of an older release started against a database that a newer one migrated
// refuses, whatever it was asked to do, and says why: its statements may name what the
// newer schema dropped, and migrations are forward-only, so nothing it can do helps.
// `migrate --status` only reports.
func TestOlderBinaryRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	db := pgtest.NewMigratedDatabase(t)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	_, latest, err := migrations.Status(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE `+migrations.VersionTable+` SET version = $1`, latest+1); err != nil {
		t.Fatal(err)
	}
	env := []string{"EDGEAUTH_DATABASE_URL=" + db, "EDGEAUTH_KEYS__KEK=" + testKEK, "EDGEAUTH_PUBLIC_URL=https://auth.example.test"}
	for _, args := range [][]string{
		{"migrate"},
		{"serve", "--listen", freeAddr(t)},
		{"serve", "--migrate=false", "--listen", freeAddr(t)},
		{"users", "create", "--email", "late@example.test"},
		{"users", "set-password", "--email", "late@example.test"},
		{"users", "logout", "--email", "late@example.test"},
		{"users", "disable", "--email", "late@example.test"},
		{"users", "enable", "--email", "late@example.test"},
		{"users", "delete", "--email", "late@example.test"},
		{"users", "mfa-reset", "--email", "late@example.test"},
		{"users", "list"},  // reads users: an unknown schema may not have the columns it reads
		{"keys", "rotate"}, // writes: keys.NewManager advances the lifecycle first
		{"keys", "list"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			// A serve that does not refuse runs until this context ends.
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			var out, errb bytes.Buffer
			code := run(ctx, args, strings.NewReader("a long password\n"), &out, &errb, env)
			if code == 0 || !strings.Contains(errb.String(), "newer than this binary") || !strings.Contains(errb.String(), "upgrade") {
				t.Fatalf("exit %d, stderr: %s", code, errb.String())
			}
		})
	}
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"migrate", "--status"}, nil, &out, &errb, env); code != 0 || !strings.Contains(out.String(), "newer than this binary") {
		t.Fatalf("migrate --status: exit %d: %s %s", code, out.String(), errb.String())
	}
}

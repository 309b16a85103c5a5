package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
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

// A second KEK for the rotation tests (testKEK is the first).
const testKEK2 = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="

// keys.previous_keks drives the KEK rotation keys.Config.PreviousKEKs describes: keys
// sealed under the old KEK are refused under the new one alone; with the old one as a
// previous KEK they open and are re-sealed under the new one, which then suffices.
// Neither KEK appears in any output.
func TestKEKRotationThroughConfiguration(t *testing.T) {
	t.Parallel()
	db := pgtest.NewMigratedDatabase(t)
	base := []string{"EDGEAUTH_DATABASE_URL=" + db, "EDGEAUTH_PUBLIC_URL=https://auth.example.test"}
	with := func(vars ...string) []string { return append(append([]string(nil), base...), vars...) }
	noSecrets := func(outs ...string) {
		t.Helper()
		for _, o := range outs {
			if strings.Contains(o, testKEK) || strings.Contains(o, testKEK2) {
				t.Fatalf("a KEK in the output:\n%s", o)
			}
		}
	}

	noSecrets(runCmd(t, with("EDGEAUTH_KEYS__KEK="+testKEK), "keys", "rotate")) // active + pending, sealed under testKEK
	sealedOld := keysTable(t, db)

	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"keys", "rotate"}, strings.NewReader(""), &out, &errb, with("EDGEAUTH_KEYS__KEK="+testKEK2))
	if code != 1 || !strings.Contains(errb.String(), "different key-encryption key") {
		t.Fatalf("new KEK alone: exit %d: %s", code, errb.String())
	}
	noSecrets(out.String(), errb.String())
	if keysTable(t, db) != sealedOld {
		t.Fatal("a refused KEK changed the keys table")
	}

	// Step 2 of the rotation: the new KEK current, the old one previous (the
	// single-underscore spelling of the variable works too).
	for _, name := range []string{"EDGEAUTH_KEYS__PREVIOUS_KEKS", "EDGEAUTH_KEYS_PREVIOUS_KEKS"} {
		noSecrets(runCmd(t, with("EDGEAUTH_KEYS__KEK="+testKEK2, name+"="+testKEK), "keys", "rotate"))
	}
	if keysTable(t, db) == sealedOld {
		t.Fatal("the keys were not re-sealed under the new KEK")
	}
	// Step 3: the old KEK dropped; every stored key opens under the new one.
	noSecrets(runCmd(t, with("EDGEAUTH_KEYS__KEK="+testKEK2), "keys", "rotate"))

	// The same setting from the configuration file, as a YAML list.
	file := filepath.Join(t.TempDir(), "edgeauth.yaml")
	if err := os.WriteFile(file, []byte("keys:\n  kek: "+testKEK+"\n  previous_keks:\n    - "+testKEK2+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	noSecrets(runCmd(t, with(), "keys", "rotate", "--config", file))
}

// A previous KEK that is not one is refused with the entry it is and why, never its
// value.
func TestPreviousKEKsRefusedWithoutTheirValues(t *testing.T) {
	t.Parallel()
	short := "c2hvcnQgc2VjcmV0"
	var out, errb bytes.Buffer
	env := []string{"EDGEAUTH_DATABASE_URL=postgres://nobody@127.0.0.1:1/none", "EDGEAUTH_KEYS__KEK=" + testKEK,
		"EDGEAUTH_KEYS__PREVIOUS_KEKS=" + testKEK2 + ",not*base64," + short}
	code := run(context.Background(), []string{"keys", "rotate"}, nil, &out, &errb, env)
	msg := errb.String()
	if code != 1 || !strings.Contains(msg, "keys.previous_keks: entry 2 of 3 is not base64") ||
		!strings.Contains(msg, "keys.previous_keks: entry 3 of 3 must decode to 32 bytes") {
		t.Fatalf("exit %d: %s", code, msg)
	}
	for _, secret := range []string{testKEK, testKEK2, "not*base64", short} {
		if strings.Contains(msg+out.String(), secret) {
			t.Fatalf("%q in the output:\n%s", secret, msg)
		}
	}
}

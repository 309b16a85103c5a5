package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/pgtest"
	"github.com/jackc/pgx/v5/pgxpool"
)

// `users delete` deletes a disabled account once its sessions have left the revocation
// list (the access-token lifetime plus the leeway after they ended): the user row, its
// sessions and its login name's throttling records go, the deletion is audited, and
// the name can be taken again. Before that, or for an account that is not disabled, or
// an unknown name, it exits 1 and changes nothing.
func TestBinaryUsersDelete(t *testing.T) {
	t.Parallel()
	s := startServer(t, false)
	s.createUser(ownerEmail, ownerPassword)
	s.createUser("bob@example.test", ownerPassword)
	var in struct {
		SessionID string `json:"session_id"`
	}
	if err := json.Unmarshal([]byte(s.signIn().body), &in); err != nil {
		t.Fatal(err)
	}
	s.signInAs("bob@example.test")
	env := []string{"EDGEAUTH_DATABASE_URL=" + s.db}
	state := func() string {
		return strings.Join([]string{
			s.sqlText(`SELECT count(*)::text FROM users`),
			s.sqlText(`SELECT count(*)::text FROM sessions`),
			s.sqlText(`SELECT count(*)::text FROM login_clients`),
			s.sqlText(`SELECT count(*)::text FROM audit_events`),
		}, " ")
	}
	refused := func(name, email, stderr string) {
		t.Helper()
		before := state()
		out, errs, code := runBinary(t, env, "", "users", "delete", "--email", email)
		if code != 1 || !strings.Contains(errs, stderr) || strings.Contains(out+errs, "secret") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", name, code, out, errs)
		}
		if after := state(); after != before {
			t.Errorf("%s changed the database: %s -> %s", name, before, after)
		}
	}

	refused("an unknown user", "my secret passphrase", "no user has that login name")
	refused("an enabled account", ownerEmail, "the account is not disabled")
	if out, errs, code := runBinary(t, env, "", "users", "disable", "--email", ownerEmail); code != 0 {
		t.Fatalf("disable: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	refused("an account disabled just now", ownerEmail, "disabled less than 11m0s ago")
	// Disabled long ago, but a session ended recently (it cannot happen through
	// edgeauth, which ends them all when it disables): the list may name it still.
	if _, err := s.exec(`UPDATE users SET disabled_at = disabled_at - interval '11 minutes' WHERE email = $1`, ownerEmail); err != nil {
		t.Fatal(err)
	}
	refused("an account whose session ended just now", ownerEmail, "disabled less than 11m0s ago")

	if _, err := s.exec(`UPDATE sessions SET revoked_at = revoked_at - interval '11 minutes' WHERE id = $1`, in.SessionID); err != nil {
		t.Fatal(err)
	}
	id := s.sqlText(`SELECT id::text FROM users WHERE email = $1`, ownerEmail)
	out, errs, code := runBinary(t, env, "", "users", "delete", "--email", "OWNER@example.test")
	if code != 0 || !strings.Contains(out, "user "+id+" ("+ownerEmail+") deleted") {
		t.Fatalf("delete: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	for what, sql := range map[string]string{
		"the user":                 `SELECT count(*)::text FROM users WHERE id = $1::uuid`,
		"its sessions":             `SELECT count(*)::text FROM sessions WHERE user_id = $1::uuid`,
		"the deletion's audit":     `SELECT (1 - count(*))::text FROM audit_events WHERE kind = 'account_deleted' AND user_id = $1::uuid`,
		"addresses it signed from": `SELECT (count(*) - 1)::text FROM login_clients WHERE $1 <> ''`, // bob's only
	} {
		if n := s.sqlText(sql, id); n != "0" {
			t.Errorf("after the deletion, %s: %s left", what, n)
		}
	}
	s.signInAs("bob@example.test")

	// The name is free again: a new account, with a new id.
	s.createUser(ownerEmail, ownerPassword)
	s.signIn()
	if again := s.sqlText(`SELECT id::text FROM users WHERE email = $1`, ownerEmail); again == id {
		t.Errorf("the new account has the deleted one's id %s", id)
	}
}

// `users delete` waits as long as sessions.access_ttl says, so that setting is checked
// as `serve` checks it: one out of its range (here negative, which would have made the
// wait negative) is refused with the problem named, and nothing is deleted.
func TestUsersDeleteChecksTheAccessTokenLifetime(t *testing.T) {
	t.Parallel()
	db := pgtest.NewMigratedDatabase(t)
	ctx := context.Background()
	env := []string{"EDGEAUTH_DATABASE_URL=" + db}
	do := func(env []string, stdin string, args ...string) (string, int) {
		var out, errb bytes.Buffer
		code := run(ctx, args, strings.NewReader(stdin), &out, &errb, env)
		return out.String() + errb.String(), code
	}
	if out, code := do(env, ownerPassword+"\n", "users", "create", "--email", ownerEmail); code != 0 {
		t.Fatalf("create: exit %d: %s", code, out)
	}
	if out, code := do(env, "", "users", "disable", "--email", ownerEmail); code != 0 {
		t.Fatalf("disable: exit %d: %s", code, out)
	}
	for _, ttl := range []string{"-20m", "1s"} {
		out, code := do(append(env, "EDGEAUTH_SESSIONS__ACCESS_TTL="+ttl), "", "users", "delete", "--email", ownerEmail)
		if code != 1 || !strings.Contains(out, "sessions.access_ttl") {
			t.Errorf("delete with sessions.access_ttl %s: exit %d: %s", ttl, code, out)
		}
	}
	pool, err := pgxpool.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("users left: %d %v", n, err)
	}
}

// A refusal says from when the account can be deleted, in whole seconds: never a
// second at which it would still be refused.
func TestUsersDeleteSaysWhenItCan(t *testing.T) {
	t.Parallel()
	db := pgtest.NewMigratedDatabase(t)
	ctx := context.Background()
	env := []string{"EDGEAUTH_DATABASE_URL=" + db}
	do := func(stdin string, args ...string) (string, int) {
		var out, errb bytes.Buffer
		code := run(ctx, args, strings.NewReader(stdin), &out, &errb, env)
		return out.String() + errb.String(), code
	}
	if out, code := do(ownerPassword+"\n", "users", "create", "--email", ownerEmail); code != 0 {
		t.Fatalf("create: exit %d: %s", code, out)
	}
	if out, code := do("", "users", "disable", "--email", ownerEmail); code != 0 {
		t.Fatalf("disable: exit %d: %s", code, out)
	}
	out, code := do("", "users", "delete", "--email", ownerEmail)
	_, from, _ := strings.Cut(out, "delete it from ")
	from, _, _ = strings.Cut(from, ";")
	said, err := time.Parse(time.RFC3339, from)
	if code != 1 || err != nil {
		t.Fatalf("delete just after disabling: exit %d: %s (%v)", code, out, err)
	}
	pool, err := pgxpool.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var disabled time.Time
	if err := pool.QueryRow(ctx, `SELECT disabled_at FROM users`).Scan(&disabled); err != nil {
		t.Fatal(err)
	}
	if can := disabled.Add(10*time.Minute + time.Minute); said.Before(can) {
		t.Errorf("said %s; it can be deleted from %s", said.Format(time.RFC3339), can.Format(time.RFC3339Nano))
	}
}

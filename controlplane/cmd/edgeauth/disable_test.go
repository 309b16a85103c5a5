package main

import (
	"strings"
	"testing"
)

// `users disable` disables an account and ends every session of the user in one
// transaction (a disabling whose revocations fail, injected with a trigger, leaves the
// account enabled and its sessions live); the running server then refuses its login as
// a wrong password, and its old cookies. Disabling again, or enabling an enabled
// account, says so and changes nothing. `users enable` lets it sign in again. An
// unknown login name exits 1, changes nothing and is not repeated.
func TestBinaryUsersDisableEnable(t *testing.T) {
	t.Parallel()
	s := startServer(t, false)
	s.createUser(ownerEmail, ownerPassword)
	a := s.signIn()
	env := []string{"EDGEAUTH_DATABASE_URL=" + s.db}
	state := func() string {
		return strings.Join([]string{
			s.sqlText(`SELECT count(*)::text FROM users WHERE disabled_at IS NOT NULL`),
			s.sqlText(`SELECT count(*)::text FROM sessions WHERE revoked_at IS NULL`),
			s.sqlText(`SELECT count(*)::text FROM audit_events`),
		}, " ")
	}
	before := state()
	for _, cmd := range []string{"disable", "enable"} {
		out, errs, code := runBinary(t, env, "", "users", cmd, "--email", "my secret passphrase")
		if code != 1 || !strings.Contains(errs, "no user has that login name") || strings.Contains(out+errs, "secret") {
			t.Errorf("%s of an unknown user: exit %d, stdout %q, stderr %q", cmd, code, out, errs)
		}
	}
	if out, errs, code := runBinary(t, env, "", "users", "enable", "--email", ownerEmail); code != 0 || !strings.Contains(out, "is not disabled; nothing changed") {
		t.Errorf("enable of an enabled user: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if after := state(); after != before {
		t.Errorf("changed the database: %s -> %s", before, after)
	}

	restore := s.refuseRevocations("account_disabled")
	if out, errs, code := runBinary(t, env, "", "users", "disable", "--email", ownerEmail); code != 1 {
		t.Errorf("disable while sessions cannot end: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if after := state(); after != before {
		t.Errorf("a failed disabling changed the database: %s -> %s", before, after)
	}
	if me := s.do("GET", "/auth/me", "", nil, a.cookie...); me.status != 200 {
		t.Errorf("the session after a failed disabling: me %d", me.status)
	}
	s.signIn() // still enabled
	restore()

	out, errs, code := runBinary(t, env, "", "users", "disable", "--email", "OWNER@example.test")
	if code != 0 || !strings.Contains(out, "disabled; 2 session(s) ended") {
		t.Fatalf("disable: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if me := s.do("GET", "/auth/me", "", nil, a.cookie...); me.status != 401 {
		t.Errorf("me after the disabling: %d %s", me.status, me.body)
	}
	if ref := s.do("POST", "/auth/refresh", "", nil, a.cookie...); ref.status != 401 {
		t.Errorf("refresh after the disabling: %d %s", ref.status, ref.body)
	}
	right := s.do("POST", "/auth/login", loginBody(ownerEmail, ownerPassword), nil)
	wrong := s.do("POST", "/auth/login", loginBody(ownerEmail, "a wrong password"), nil)
	if right.status != 401 || right.code() != "invalid_credentials" || right.body != wrong.body {
		t.Errorf("login of a disabled account: %d %s; a wrong password: %d %s", right.status, right.body, wrong.status, wrong.body)
	}
	if n := s.count(`SELECT count(*) FROM audit_events WHERE kind = 'account_disabled' AND detail->>'by' = 'operator'`); n != 1 {
		t.Errorf("%d audit events of the disabling, want 1", n)
	}

	disabled := state()
	if out, errs, code := runBinary(t, env, "", "users", "disable", "--email", ownerEmail); code != 0 || !strings.Contains(out, "is already disabled; nothing changed") {
		t.Errorf("second disable: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if after := state(); after != disabled {
		t.Errorf("a second disabling changed the database: %s -> %s", disabled, after)
	}

	if out, errs, code := runBinary(t, env, "", "users", "enable", "--email", ownerEmail); code != 0 || !strings.Contains(out, "enabled") {
		t.Fatalf("enable: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if me := s.do("GET", "/auth/me", "", nil, a.cookie...); me.status != 401 {
		t.Errorf("an ended session after the enabling: me %d", me.status)
	}
	s.signIn()
	if n := s.count(`SELECT count(*) FROM audit_events WHERE kind = 'account_enabled' AND detail->>'by' = 'operator'`); n != 1 {
		t.Errorf("%d audit events of the enabling, want 1", n)
	}
}

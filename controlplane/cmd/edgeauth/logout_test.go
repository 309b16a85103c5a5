package main

import (
	"net/http"
	"strings"
	"testing"
)

// `users logout` is an operator's sign-out of one user: every session of the user ends
// (also for the running server: refresh and /auth/me refuse them), with reason
// ended_by_operator, audited as the operator's. The password stays. An unknown login
// name exits 1, changes nothing and is not repeated; a sign-out whose revocations fail
// (a trigger refuses them) changes nothing either.
func TestBinaryUsersLogout(t *testing.T) {
	t.Parallel()
	s := startServer(t, false)
	s.createUser(ownerEmail, ownerPassword)
	s.createUser("bob@example.test", ownerPassword)
	a, b := s.signIn(), s.signIn()
	bob := s.signInAs("bob@example.test")
	env := []string{"EDGEAUTH_DATABASE_URL=" + s.db}
	state := func() string {
		return strings.Join([]string{
			s.sqlText(`SELECT count(*)::text FROM sessions WHERE revoked_at IS NULL`),
			s.sqlText(`SELECT count(*)::text FROM audit_events`),
		}, " ")
	}

	before := state()
	const typo = "my secret passphrase"
	out, errs, code := runBinary(t, env, "", "users", "logout", "--email", typo)
	if code != 1 || !strings.Contains(errs, "no user has that login name") {
		t.Errorf("unknown user: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if strings.Contains(out+errs, "secret") {
		t.Errorf("the name was echoed: %q %q", out, errs)
	}
	if after := state(); after != before {
		t.Errorf("an unknown user changed the database: %s -> %s", before, after)
	}

	restore := s.refuseRevocations("ended_by_operator")
	if out, errs, code := runBinary(t, env, "", "users", "logout", "--email", ownerEmail); code != 1 {
		t.Errorf("logout while sessions cannot end: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if after := state(); after != before {
		t.Errorf("a failed logout changed the database: %s -> %s", before, after)
	}
	restore()

	out, errs, code = runBinary(t, env, "", "users", "logout", "--email", "OWNER@example.test")
	if code != 0 || !strings.Contains(out, "2 session(s) ended") {
		t.Fatalf("logout: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	for i, r := range []reply{a, b} {
		if me := s.do("GET", "/auth/me", "", nil, r.cookie...); me.status != 401 {
			t.Errorf("session %d after the logout: me %d %s", i+1, me.status, me.body)
		}
		if ref := s.do("POST", "/auth/refresh", "", nil, r.cookie...); ref.status != 401 {
			t.Errorf("session %d after the logout: refresh %d %s", i+1, ref.status, ref.body)
		}
	}
	if me := s.do("GET", "/auth/me", "", nil, bob.cookie...); me.status != 200 {
		t.Errorf("another user's session after the logout: me %d", me.status)
	}
	if n := s.count(`SELECT count(*) FROM sessions WHERE revoke_reason = 'ended_by_operator'`); n != 2 {
		t.Errorf("%d sessions revoked for ended_by_operator, want 2", n)
	}
	if n := s.count(`SELECT count(*) FROM audit_events WHERE kind = 'ended_by_operator' AND detail->>'by' = 'operator' AND detail->>'sessions' = '2'`); n != 1 {
		t.Errorf("%d audit events of the logout, want 1", n)
	}
	// The password stays; a second logout ends what the new login opened, and no more.
	c := s.signIn()
	if out, errs, code := runBinary(t, env, "", "users", "logout", "--email", ownerEmail); code != 0 || !strings.Contains(out, "1 session(s) ended") {
		t.Errorf("second logout: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if me := s.do("GET", "/auth/me", "", nil, c.cookie...); me.status != http.StatusUnauthorized {
		t.Errorf("the new session after the second logout: me %d", me.status)
	}
	if out, _, code := runBinary(t, env, "", "users", "logout", "--email", ownerEmail); code != 0 || !strings.Contains(out, "0 session(s) ended") {
		t.Errorf("logout of a user without sessions: exit %d, stdout %q", code, out)
	}
}

// `users logout --all` ends every live session of every user in one transaction,
// audited once; a failure changes nothing, and --all with --email is a usage error.
func TestBinaryUsersLogoutAll(t *testing.T) {
	t.Parallel()
	s := startServer(t, false)
	s.createUser(ownerEmail, ownerPassword)
	s.createUser("bob@example.test", ownerPassword)
	signedIn := []reply{s.signIn(), s.signIn(), s.signInAs("bob@example.test")}
	env := []string{"EDGEAUTH_DATABASE_URL=" + s.db}
	live := func() int { return s.count(`SELECT count(*) FROM sessions WHERE revoked_at IS NULL`) }

	if out, errs, code := runBinary(t, env, "", "users", "logout", "--all", "--email", ownerEmail); code != 2 || !strings.Contains(errs, "exclude each other") {
		t.Errorf("--all with --email: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	restore := s.refuseRevocations("ended_by_operator")
	if out, errs, code := runBinary(t, env, "", "users", "logout", "--all"); code != 1 {
		t.Errorf("logout --all while sessions cannot end: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	restore()
	if n := live(); n != 3 {
		t.Fatalf("refused commands left %d live sessions, want 3", n)
	}

	out, errs, code := runBinary(t, env, "", "users", "logout", "--all")
	if code != 0 || !strings.Contains(out, "every user: 3 session(s) ended") {
		t.Fatalf("logout --all: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	for i, r := range signedIn {
		if me := s.do("GET", "/auth/me", "", nil, r.cookie...); me.status != 401 {
			t.Errorf("session %d after logout --all: me %d %s", i+1, me.status, me.body)
		}
		if ref := s.do("POST", "/auth/refresh", "", nil, r.cookie...); ref.status != 401 {
			t.Errorf("session %d after logout --all: refresh %d %s", i+1, ref.status, ref.body)
		}
	}
	if n := s.count(`SELECT count(*) FROM sessions WHERE revoke_reason = 'ended_by_operator'`); n != 3 || live() != 0 {
		t.Errorf("%d sessions ended by the operator and %d live, want 3 and 0", n, live())
	}
	if n := s.count(`SELECT count(*) FROM audit_events WHERE kind = 'ended_by_operator' AND user_id IS NULL AND detail->>'users' = 'all' AND detail->>'sessions' = '3'`); n != 1 {
		t.Errorf("%d audit events of logout --all, want 1", n)
	}
	// Everyone may sign in again.
	if me := s.do("GET", "/auth/me", "", nil, s.signIn().cookie...); me.status != 200 {
		t.Errorf("a new sign-in after logout --all: me %d", me.status)
	}
	if out, _, code := runBinary(t, env, "", "users", "logout", "--all"); code != 0 || !strings.Contains(out, "every user: 1 session(s) ended") {
		t.Errorf("second logout --all: exit %d, stdout %q", code, out)
	}
}

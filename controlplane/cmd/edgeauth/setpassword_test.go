package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/internal/pgtest"
	"github.com/edgeauth/edgeauth/internal/pwnedtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// `users set-password` is an operator's reset: the password read from stdin replaces
// the old one, and every session of the user ends with it (also those of the running
// server: refresh and /auth/me refuse them). An unknown login name, or a password
// signup would refuse, exits 1 and changes nothing. No password reaches the output.
func TestBinaryUsersSetPassword(t *testing.T) {
	t.Parallel()
	s := startServer(t, false)
	s.createUser(ownerEmail, ownerPassword)
	s.createUser("bob@example.test", ownerPassword)
	a, b := s.signIn(), s.signIn()
	bob := s.signInAs("bob@example.test")
	env := []string{"EDGEAUTH_DATABASE_URL=" + s.db}
	state := func() string {
		return strings.Join([]string{
			s.sqlText(`SELECT password_hash FROM users WHERE email = $1`, ownerEmail),
			s.sqlText(`SELECT count(*)::text FROM sessions WHERE revoked_at IS NULL`),
			s.sqlText(`SELECT count(*)::text FROM audit_events`),
		}, " ")
	}

	before := state()
	siteEnv := append([]string{"EDGEAUTH_PUBLIC_URL=https://northwindz.example"}, env...)
	for _, tc := range []struct {
		name, email, password, stderr string
		env                           []string
	}{
		{"unknown user", "nobody@example.test", "a long new password", "no user has that login name", env},
		{"password too short", ownerEmail, "short", "at least 8 characters", env},
		{"a common password", ownerEmail, "Password1!", "too easy to guess: it is a common password", env},
		{"the login name", ownerEmail, ownerEmail, "too easy to guess: it contains the login name", env},
		{"the configured public URL's name", ownerEmail, "Northwindz2024", "too easy to guess: it contains the login name or the service's name", siteEnv},
	} {
		out, errs, code := runBinary(t, tc.env, tc.password+"\n", "users", "set-password", "--email", tc.email)
		if code != 1 || !strings.Contains(errs, tc.stderr) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", tc.name, code, out, errs)
		}
		if strings.Contains(out+errs, tc.password) || strings.Contains(out+errs, "nobody@") {
			t.Errorf("%s: the password or the name was echoed: %q %q", tc.name, out, errs)
		}
		if after := state(); after != before {
			t.Errorf("%s changed the database: %s -> %s", tc.name, before, after)
		}
	}

	// A reset that fails before its revocations commit (injected: a trigger refuses them)
	// leaves the old password too.
	restore := s.refuseRevocations("password_changed")
	if out, errs, code := runBinary(t, env, "a long new password\n", "users", "set-password", "--email", ownerEmail); code != 1 {
		t.Errorf("set-password while sessions cannot end: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if after := state(); after != before {
		t.Errorf("a failed reset changed the database: %s -> %s", before, after)
	}
	restore()

	const newPassword = "the operator's new password"
	out, errs, code := runBinary(t, env, newPassword+"\n", "users", "set-password", "--email", "OWNER@example.test")
	if code != 0 || !strings.Contains(out, "password set for user") || !strings.Contains(out, "2 session(s) ended") {
		t.Fatalf("set-password: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if strings.Contains(out+errs, newPassword) {
		t.Fatalf("the password is in the output: %q %q", out, errs)
	}
	for i, r := range []reply{a, b} {
		if me := s.do("GET", "/auth/me", "", nil, r.cookie...); me.status != 401 {
			t.Errorf("session %d after the reset: me %d %s", i+1, me.status, me.body)
		}
		if ref := s.do("POST", "/auth/refresh", "", nil, r.cookie...); ref.status != 401 {
			t.Errorf("session %d after the reset: refresh %d %s", i+1, ref.status, ref.body)
		}
	}
	if me := s.do("GET", "/auth/me", "", nil, bob.cookie...); me.status != 200 {
		t.Errorf("another user's session after the reset: me %d", me.status)
	}
	if r := s.do("POST", "/auth/login", loginBody(ownerEmail, ownerPassword), nil); r.status != http.StatusUnauthorized {
		t.Errorf("the old password after the reset: %d %s", r.status, r.body)
	}
	if r := s.do("POST", "/auth/login", loginBody(ownerEmail, newPassword), nil); r.status != 200 {
		t.Errorf("the new password: %d %s", r.status, r.body)
	}
	if n := s.count(`SELECT count(*) FROM sessions WHERE revoke_reason = 'password_changed'`); n != 2 {
		t.Errorf("%d sessions revoked for password_changed, want 2", n)
	}
	if n := s.count(`SELECT count(*) FROM audit_events WHERE kind = 'password_changed' AND detail->>'by' = 'operator'`); n != 1 {
		t.Errorf("%d audit events of the reset, want 1", n)
	}
}

// refuseRevocations makes every revocation with reason fail, as a database failure in
// the middle of the command's transaction would (an injected trigger), until restore.
func (s *server) refuseRevocations(reason string) (restore func()) {
	s.t.Helper()
	if _, err := s.exec(`
		CREATE OR REPLACE FUNCTION fail_revocation() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'injected failure' USING ERRCODE = '57P01'; END $$;
		CREATE TRIGGER fail_revocation BEFORE UPDATE OF revoked_at ON sessions
			FOR EACH ROW WHEN (NEW.revoke_reason = ` + quoteLiteral(reason) + `) EXECUTE FUNCTION fail_revocation();`); err != nil {
		s.t.Fatal(err)
	}
	return func() {
		s.t.Helper()
		if _, err := s.exec(`DROP TRIGGER fail_revocation ON sessions`); err != nil {
			s.t.Fatal(err)
		}
	}
}

// quoteLiteral is s as an SQL string literal.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// exec runs statements on the server's database (one, when it has arguments).
func (s *server) exec(sql string, args ...any) (pgconn.CommandTag, error) {
	ctx := context.Background()
	c, err := pgx.Connect(ctx, s.db)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	defer c.Close(ctx)
	return c.Exec(ctx, sql, args...)
}

// The users commands ask the breached-password service that passwords.* names about
// the passwords they set, as the server does; a bad service URL is a configuration
// error that changes nothing.
func TestUsersCommandsCheckBreachedPasswords(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDatabase(t)
	pwned := pwnedtest.Start(t, map[string]int{"tranquil meadow otter 1904": 23})
	env := []string{"EDGEAUTH_DATABASE_URL=" + db, "EDGEAUTH_PASSWORDS__BREACH_CHECK_URL=" + pwned.URL}
	ctx := context.Background()
	cmd := func(env []string, stdin string, args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := run(ctx, args, strings.NewReader(stdin), &out, &errb, env)
		return out.String(), errb.String(), code
	}
	if _, errs, code := cmd(env, "", "migrate"); code != 0 {
		t.Fatalf("migrate: %d %s", code, errs)
	}
	out, errs, code := cmd(env, "tranquil meadow otter 1904\n", "users", "create", "--email", "ops@example.test")
	if code != 1 || !strings.Contains(errs, "known data breaches") || strings.Contains(out+errs, "otter") {
		t.Fatalf("a breached password: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	bad := []string{"EDGEAUTH_DATABASE_URL=" + db, "EDGEAUTH_PASSWORDS__BREACH_CHECK_URL=http://pwned.example"}
	if out, errs, code := cmd(bad, "kvzqpwtj sailboat lantern\n", "users", "create", "--email", "ops@example.test"); code != 1 || !strings.Contains(errs, "passwords.breach_check_url") {
		t.Fatalf("a plain-http service: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if out, errs, code := cmd(env, "kvzqpwtj sailboat lantern\n", "users", "create", "--email", "ops@example.test"); code != 0 || !strings.Contains(out, "created user") {
		t.Fatalf("a password in no breach: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if n := len(pwned.Asked()); n != 2 {
		t.Errorf("the service was asked %d times, want 2 (the plain-http one was never used)", n)
	}
	// Commands that set no password do not read passwords.*: a broken setting does
	// not stop an operator from signing everyone out.
	if out, errs, code := cmd(bad, "", "users", "logout", "--all"); code != 0 || !strings.Contains(out, "session(s) ended") {
		t.Fatalf("logout --all with a broken passwords.breach_check_url: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

// `users mfa-reset` removes a user's second factor: the user then signs in with the
// password alone. An unknown login name exits 1; a user without one is told so.
func TestBinaryUsersMFAReset(t *testing.T) {
	t.Parallel()
	s := startServer(t, false)
	s.createUser(ownerEmail, ownerPassword)
	env := []string{"EDGEAUTH_DATABASE_URL=" + s.db}
	if out, errs, code := runBinary(t, env, "", "users", "mfa-reset", "--email", ownerEmail); code != 0 || !strings.Contains(out, "has no second factor; nothing changed") {
		t.Fatalf("a user without a second factor: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	// A second factor as the API leaves it (sealed bytes the binary never opens here).
	s.sqlText(`UPDATE users SET totp_secret = '\x01', totp_last_step = 1 WHERE email = '` + ownerEmail + `' RETURNING ''`)
	s.sqlText(`INSERT INTO recovery_codes (user_id, hash) SELECT id, sha256('x') FROM users WHERE email = '` + ownerEmail + `' RETURNING ''`)
	if r := s.do("POST", "/auth/login", `{"email":"`+ownerEmail+`","password":"`+ownerPassword+`"}`, nil); r.status != 401 || !strings.Contains(r.body, "mfa_required") {
		t.Fatalf("login with a second factor on: %d %s", r.status, r.body)
	}
	out, errs, code := runBinary(t, env, "", "users", "mfa-reset", "--email", strings.ToUpper(ownerEmail))
	if code != 0 || !strings.Contains(out, "second factor removed") {
		t.Fatalf("mfa-reset: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if r := s.do("POST", "/auth/login", `{"email":"`+ownerEmail+`","password":"`+ownerPassword+`"}`, nil); r.status != 200 {
		t.Fatalf("login after the reset: %d %s", r.status, r.body)
	}
	if n := s.count(`SELECT count(*) FROM recovery_codes`); n != 0 {
		t.Errorf("%d recovery codes left", n)
	}
	if n := s.count(`SELECT count(*) FROM audit_events WHERE kind = 'mfa_disabled' AND detail->>'by' = 'operator'`); n != 1 {
		t.Errorf("%d audit events of the reset, want 1", n)
	}
	if _, errs, code := runBinary(t, env, "", "users", "mfa-reset", "--email", "nobody@example.test"); code != 1 || !strings.Contains(errs, "no user has that login name") {
		t.Errorf("unknown user: exit %d, stderr %q", code, errs)
	}
}

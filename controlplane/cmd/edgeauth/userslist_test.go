package main

import (
	"strings"
	"testing"
)

// `users list` shows every account with its roles, its second factor, whether
// second_factor.required_for covers it (the same configuration serve reads) and
// whether it is disabled; --needs-second-factor keeps the covered accounts without a
// factor on, the ones that get no session until they enroll.
func TestBinaryUsersList(t *testing.T) {
	t.Parallel()
	s := startServer(t, false)
	env := []string{"EDGEAUTH_DATABASE_URL=" + s.db}
	for _, u := range []struct{ email, role string }{
		{"ada@example.test", "admin"}, {"bob@example.test", "admin"}, {"carol@example.test", "reader"}, {"dan@example.test", "admin"},
	} {
		if _, errs, code := runBinary(t, env, ownerPassword+"\n", "users", "create", "--email", u.email, "--role", u.role); code != 0 {
			t.Fatalf("users create %s: exit %d: %s", u.email, code, errs)
		}
	}
	// Factors as the API leaves them (sealed bytes the binary never opens).
	s.sqlText(`UPDATE users SET totp_secret = '\x01', totp_last_step = 1 WHERE email = 'ada@example.test' RETURNING ''`)
	s.sqlText(`UPDATE users SET totp_pending = '\x01' WHERE email = 'dan@example.test' RETURNING ''`)
	if _, errs, code := runBinary(t, env, "", "users", "disable", "--email", "carol@example.test"); code != 0 {
		t.Fatalf("users disable: exit %d: %s", code, errs)
	}

	policy := append(env, "EDGEAUTH_SECOND_FACTOR__REQUIRED_FOR=admin")
	out, errs, code := runBinary(t, policy, "", "users", "list")
	if code != 0 {
		t.Fatalf("users list: exit %d, stderr %q", code, errs)
	}
	want := map[string][]string{ // email -> roles, second factor, required, disabled
		"ada@example.test":   {"admin", "on", "yes", "-"},
		"bob@example.test":   {"admin", "none", "yes", "-"},
		"carol@example.test": {"reader", "none", "-", "yes"},
		"dan@example.test":   {"admin", "pending", "yes", "-"},
	}
	rows := listRows(t, out)
	if len(rows) != len(want) {
		t.Fatalf("users list printed %d accounts, want %d:\n%s", len(rows), len(want), out)
	}
	for email, cols := range want {
		if got := rows[email]; strings.Join(got[1:5], " ") != strings.Join(cols, " ") {
			t.Errorf("%s: %v, want %v", email, got[1:5], cols)
		}
	}

	out, errs, code = runBinary(t, policy, "", "users", "list", "--needs-second-factor")
	if code != 0 {
		t.Fatalf("users list --needs-second-factor: exit %d, stderr %q", code, errs)
	}
	rows = listRows(t, out)
	if len(rows) != 2 || rows["bob@example.test"] == nil || rows["dan@example.test"] == nil {
		t.Fatalf("--needs-second-factor:\n%s", out)
	}
	// Without the policy nobody needs one.
	if out, _, code := runBinary(t, env, "", "users", "list", "--needs-second-factor"); code != 0 || len(listRows(t, out)) != 0 {
		t.Fatalf("--needs-second-factor without a policy: exit %d\n%s", code, out)
	}
}

// listRows reads users list's table: email -> the row's columns (ID, EMAIL, ROLES,
// SECOND FACTOR, REQUIRED, DISABLED, CREATED), the email dropped.
func listRows(t *testing.T, out string) map[string][]string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.HasPrefix(lines[0], "ID ") || !strings.Contains(lines[0], "SECOND FACTOR") {
		t.Fatalf("no header: %q", out)
	}
	rows := map[string][]string{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != 7 {
			t.Fatalf("row %q has %d columns", l, len(f))
		}
		rows[f[1]] = append([]string{f[0]}, f[2:]...)
	}
	return rows
}

package httpapi_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/config"
	"github.com/edgeauth/edgeauth/controlplane/revocation"
	"github.com/edgeauth/edgeauth/internal/pwnedtest"
)

const newPassword = "a brand new passphrase"

func passwordBody(current, next string) string {
	return `{"current_password":` + jsonString(current) + `,"new_password":` + jsonString(next) + `}`
}

// passwordHash returns the stored hash of the account, to show whether a request
// changed it.
func (e *env) passwordHash(email string) string {
	e.t.Helper()
	var h string
	if err := e.pool.QueryRow(context.Background(), `SELECT password_hash FROM users WHERE email = $1`, email).Scan(&h); err != nil {
		e.t.Fatal(err)
	}
	return h
}

// A password change ends every other session of the user (ASVS 5.0 7.4.3) as
// logout-others does: refused at refresh, named by the revocation list and streamed
// with reason password_changed. It replaces the caller's session (7.2.4): the old one is
// revoked (session_replaced) and the answer sets the cookies of a new one on the same
// device. Another user's sessions are untouched; the old password no longer logs in, the
// new one does.
func TestChangePassword(t *testing.T) {
	e := newEnv(t, envOptions{start: true})
	e.createUser(testEmail, testPassword)
	e.createUser("bob@example.test", testPassword)
	here, hereRefresh := e.login(testEmail, testPassword)
	other1, other1Refresh := e.login(testEmail, testPassword)
	other2, other2Refresh := e.login(testEmail, testPassword)
	bob, _ := e.login("bob@example.test", testPassword)
	hereSID := e.sessionID(here)
	s := e.openStream("")
	s.next() // the list

	r := e.do(req{method: "POST", path: "/auth/password", cookies: []*http.Cookie{here, hereRefresh}, body: passwordBody(testPassword, newPassword),
		header: map[string]string{"User-Agent": "the laptop"}})
	var out struct {
		Revoked   int
		SessionID string `json:"session_id"`
		User      struct{ Email string }
	}
	r.decode(t, &out)
	next, nextRefresh := r.cookie(e.cfg.AccessCookie().Name), r.cookie(e.cfg.RefreshCookie().Name)
	if r.StatusCode != http.StatusOK || out.Revoked != 2 || out.User.Email != testEmail || next == nil || nextRefresh == nil {
		t.Fatalf("change password: %d %s %v", r.StatusCode, r.body, r.Header.Values("Set-Cookie"))
	}
	if out.SessionID == hereSID || e.sessionID(next) != out.SessionID {
		t.Fatalf("the new session %q (cookie: %q) does not replace %q", out.SessionID, e.sessionID(next), hereSID)
	}
	ended := map[string]string{} // session id -> reason
	for len(ended) < 3 {
		if ev := s.next(); ev.event == revocation.KindRevoked {
			p := e.payload(ev.data, revocation.EventType)
			ended[p["sid"].(string)] = p["reason"].(string)
		}
	}
	if ended[hereSID] != "session_replaced" {
		t.Errorf("streamed %v: the caller's session %s is not session_replaced", ended, hereSID)
	}
	for sid, reason := range ended {
		if sid != hereSID && reason != "password_changed" {
			t.Errorf("streamed %s for %s", reason, sid)
		}
	}
	for c, want := range map[*http.Cookie]int{next: 200, here: 401, other1: 401, other2: 401, bob: 200} {
		if r := e.do(req{method: "GET", path: "/auth/me", cookies: []*http.Cookie{c}}); r.StatusCode != want {
			t.Errorf("after the change: me %d, want %d", r.StatusCode, want)
		}
	}
	for i, c := range []*http.Cookie{hereRefresh, other1Refresh, other2Refresh} {
		if r := e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{c}}); r.StatusCode != 401 {
			t.Errorf("old session %d still refreshes: %d %s", i, r.StatusCode, r.body)
		}
	}
	waitUntil(t, 10*time.Second, func() bool {
		listed := revokedSIDs(t, e.do(req{method: "GET", path: "/.well-known/edgeauth/revocations"}).body)
		return !slices.ContainsFunc(slices.Collect(maps.Keys(ended)), func(sid string) bool { return !slices.Contains(listed, sid) })
	})
	if r := e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{nextRefresh}}); r.StatusCode != 200 {
		t.Errorf("the new session does not refresh: %d %s", r.StatusCode, r.body)
	}
	var agent string
	if err := e.pool.QueryRow(context.Background(), `SELECT user_agent FROM sessions WHERE id = $1`, out.SessionID).Scan(&agent); err != nil || agent != "the laptop" {
		t.Errorf("the new session's device: %q, %v", agent, err)
	}
	if r := e.do(req{method: "POST", path: "/auth/login", body: `{"email":` + jsonString(testEmail) + `,"password":` + jsonString(testPassword) + `}`}); r.StatusCode != 401 || r.errorCode() != "invalid_credentials" {
		t.Errorf("the old password: %d %s", r.StatusCode, r.body)
	}
	e.login(testEmail, newPassword)
	var by, replaced, sid string
	if err := e.pool.QueryRow(context.Background(), `SELECT detail->>'by', detail->>'replaced_session', session_id FROM audit_events WHERE kind = 'password_changed'`).Scan(&by, &replaced, &sid); err != nil || by != "user" || replaced != hereSID || sid != out.SessionID {
		t.Errorf("audit event: by %q, replaced %q, session %q: %v", by, replaced, sid, err)
	}
	for metric, want := range map[string]string{
		`edgeauth_session_revocations_total{reason="password_changed"}`: "2",
		`edgeauth_session_revocations_total{reason="relogin"}`:          "1",
		`edgeauth_password_changes_total{result="ok"}`:                  "1",
	} {
		if got := metricValue(t, e, metric); got != want {
			t.Errorf("%s = %q, want %s", metric, got, want)
		}
	}
}

// A refused password change changes nothing: not the password, not a session. Only a
// wrong current password leaves a trace, as a failed login does: one failure counted
// for throttling and one audit event.
func TestChangePasswordRefusalsChangeNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.createUser(testEmail, testPassword)
	access, refresh := e.login(testEmail, testPassword)
	other, _ := e.login(testEmail, testPassword)
	ended, _ := e.login(testEmail, testPassword)
	if r := e.do(req{method: "POST", path: "/auth/logout", cookies: []*http.Cookie{ended}}); r.StatusCode != 204 {
		t.Fatalf("logout: %d", r.StatusCode)
	}
	jar := []*http.Cookie{access, refresh}
	good := passwordBody(testPassword, newPassword)
	hash := e.passwordHash(testEmail)
	tables := []string{"users", "sessions", "live_sessions", "rotations", "audit_events", "login_failures"}

	for _, tc := range []struct {
		name   string
		q      req
		status int
		code   string
		// counted: a wrong current password, recorded as a failed login and audited.
		counted bool
	}{
		{name: "wrong current password", q: req{body: passwordBody("not the password", newPassword)}, status: 403, code: "current_password_invalid", counted: true},
		{name: "over-long current password", q: req{body: passwordBody(strings.Repeat("x", 257), newPassword)}, status: 403, code: "current_password_invalid", counted: true},
		{name: "new password too short", q: req{body: passwordBody(testPassword, "short")}, status: 422, code: "password_policy"},
		{name: "new password too short after NFKC", q: req{body: passwordBody(testPassword, "ｶﾞｶﾞｶﾞｶﾞ")}, status: 422, code: "password_policy"},
		{name: "new password too long", q: req{body: passwordBody(testPassword, strings.Repeat("y", 257))}, status: 422, code: "password_policy"},
		{name: "a common new password", q: req{body: passwordBody(testPassword, "iloveyou2024")}, status: 422, code: "password_policy"},
		{name: "the login name as the new password", q: req{body: passwordBody(testPassword, "Ada@Example.test")}, status: 422, code: "password_policy"},
		{name: "no current password", q: req{body: `{"new_password":` + jsonString(newPassword) + `}`}, status: 400, code: "invalid_field"},
		{name: "no new password", q: req{body: `{"current_password":` + jsonString(testPassword) + `}`}, status: 400, code: "invalid_field"},
		{name: "unknown field", q: req{body: `{"current_password":"a","new_password":"b","password":"c"}`}, status: 400, code: "unknown_field"},
		{name: "field in another case", q: req{body: `{"Current_Password":"a","new_password":"b"}`}, status: 400, code: "unknown_field"},
		{name: "trailing data", q: req{body: good + `{}`}, status: 400, code: "trailing_data"},
		{name: "form content type", q: req{body: "current_password=a&new_password=b", contentType: "application/x-www-form-urlencoded"}, status: 415, code: "unsupported_media_type"},
		{name: "oversize body", q: req{body: `{"current_password":"` + strings.Repeat("a", 70<<10) + `","new_password":"b"}`}, status: 413, code: "body_too_large"},
		{name: "no Origin nor Sec-Fetch-Site", q: req{body: good, noOrigin: true}, status: 403, code: "cross_site_request"},
		{name: "foreign Origin", q: req{body: good, header: map[string]string{"Origin": "https://evil.example"}}, status: 403, code: "cross_site_request"},
		{name: "Sec-Fetch-Site cross-site", q: req{body: good, noOrigin: true, header: map[string]string{"Sec-Fetch-Site": "cross-site"}}, status: 403, code: "cross_site_request"},
		{name: "unauthenticated", q: req{body: good, cookies: []*http.Cookie{}}, status: 401, code: "unauthenticated"},
		{name: "refresh cookie only", q: req{body: good, cookies: []*http.Cookie{refresh}}, status: 401, code: "unauthenticated"},
		{name: "an ended session", q: req{body: good, cookies: []*http.Cookie{ended}}, status: 401, code: "session_inactive"},
		{name: "GET", q: req{method: "GET"}, status: 405, code: "method_not_allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.path = "/auth/password"
			if q.method == "" {
				q.method = "POST"
			}
			if q.cookies == nil {
				q.cookies = jar
			}
			before := e.counts(tables...)
			r := e.do(q)
			if r.StatusCode != tc.status || r.errorCode() != tc.code {
				t.Fatalf("got %d %s, want %d %s", r.StatusCode, r.body, tc.status, tc.code)
			}
			after := e.counts(tables...)
			if tc.counted {
				before["login_failures"]++
				before["audit_events"]++
			}
			if !maps.Equal(before, after) {
				t.Errorf("database changed: %v -> %v", before, after)
			}
			if e.passwordHash(testEmail) != hash {
				t.Error("the password changed")
			}
			if r.Header.Values("Set-Cookie") != nil {
				t.Errorf("cookies changed: %v", r.Header.Values("Set-Cookie"))
			}
		})
	}
	for _, c := range []*http.Cookie{access, other} {
		if r := e.do(req{method: "GET", path: "/auth/me", cookies: []*http.Cookie{c}}); r.StatusCode != 200 {
			t.Errorf("a session ended: me %d %s", r.StatusCode, r.body)
		}
	}
	e.login(testEmail, testPassword)
}

// The current password is guessed no faster here than at login: both spend the same
// throttling budget (the account from this address), so failures at either refuse
// both with 429, even with the right password.
func TestChangePasswordIsThrottledWithLogins(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{mod: func(c *config.Config) { c.Throttle.AccountAddressFailures = 3 }})
	e.createUser(testEmail, testPassword)
	access, _ := e.login(testEmail, testPassword)
	jar := []*http.Cookie{access}
	for i := range 2 {
		r := e.do(req{method: "POST", path: "/auth/password", cookies: jar, body: passwordBody("wrong password "+strconv.Itoa(i), newPassword)})
		if r.StatusCode != 403 || r.errorCode() != "current_password_invalid" {
			t.Fatalf("wrong password %d: %d %s", i, r.StatusCode, r.body)
		}
	}
	if r := e.do(req{method: "POST", path: "/auth/login", body: `{"email":` + jsonString(testEmail) + `,"password":"wrong password 2"}`}); r.StatusCode != 401 {
		t.Fatalf("a wrong login: %d %s", r.StatusCode, r.body)
	}
	r := e.do(req{method: "POST", path: "/auth/password", cookies: jar, body: passwordBody(testPassword, newPassword)})
	if r.StatusCode != 429 || r.errorCode() != "too_many_attempts" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("change with the right password after 3 failures: %d %s", r.StatusCode, r.body)
	}
	if r := e.do(req{method: "POST", path: "/auth/login", body: `{"email":` + jsonString(testEmail) + `,"password":` + jsonString(testPassword) + `}`}); r.StatusCode != 429 {
		t.Fatalf("login with the right password after failed changes: %d %s", r.StatusCode, r.body)
	}
	if r := e.do(req{method: "GET", path: "/auth/me", cookies: jar}); r.StatusCode != 200 {
		t.Fatalf("throttling ended the session: %d", r.StatusCode)
	}
	if r := e.do(req{method: "POST", path: "/auth/password", cookies: jar, body: passwordBody(testPassword, "short")}); r.StatusCode != 422 {
		t.Fatalf("a new password that signup refuses: %d %s", r.StatusCode, r.body)
	}
	// An operator sees the guessing: failed changes by result, as failed logins.
	for result, want := range map[string]string{"invalid_credentials": "2", "throttled": "1", "invalid": "1"} {
		if got := metricValue(t, e, `edgeauth_password_changes_total{result="`+result+`"}`); got != want {
			t.Errorf("edgeauth_password_changes_total{result=%q} = %q, want %s", result, got, want)
		}
	}
}

// A change that fails after the new hash is written (the process dying, or the
// database failing, before the other sessions end or the caller's is replaced) leaves
// everything as it was: the old password, every session, no new one, no cookies. The
// failure is injected by a trigger refusing a revocation or the new session.
func TestChangePasswordAndTheSessionsItEndsHappenTogether(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.createUser(testEmail, testPassword)
	ctx := context.Background()
	here, _ := e.login(testEmail, testPassword)
	_, otherRefresh := e.login(testEmail, testPassword)
	hash := e.passwordHash(testEmail)
	before := e.counts("sessions", "live_sessions", "audit_events")

	if _, err := e.pool.Exec(ctx, `
		CREATE FUNCTION fail_password_change() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'injected failure' USING ERRCODE = '57P01'; END $$;`); err != nil {
		t.Fatal(err)
	}
	body := passwordBody(testPassword, newPassword)
	for _, failing := range []string{
		// the other sessions cannot end
		`BEFORE UPDATE OF revoked_at ON sessions FOR EACH ROW WHEN (NEW.revoke_reason = 'password_changed')`,
		// the caller's session cannot be replaced: it cannot end, or its successor cannot start
		`BEFORE UPDATE OF revoked_at ON sessions FOR EACH ROW WHEN (NEW.revoke_reason = 'session_replaced')`,
		`BEFORE INSERT ON sessions FOR EACH ROW`,
	} {
		if _, err := e.pool.Exec(ctx, `CREATE TRIGGER fail_password_change `+failing+` EXECUTE FUNCTION fail_password_change()`); err != nil {
			t.Fatal(err)
		}
		if r := e.do(req{method: "POST", path: "/auth/password", cookies: []*http.Cookie{here}, body: body}); r.StatusCode != 503 || r.Header.Values("Set-Cookie") != nil {
			t.Fatalf("change while %s fails: %d %s %v, want 503 without cookies", failing, r.StatusCode, r.body, r.Header.Values("Set-Cookie"))
		}
		if e.passwordHash(testEmail) != hash {
			t.Errorf("%s: the password changed although the change failed", failing)
		}
		if after := e.counts("sessions", "live_sessions", "audit_events"); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("%s: a failed change left writes behind: before %v, after %v", failing, before, after)
		}
		if r := e.do(req{method: "GET", path: "/auth/me", cookies: []*http.Cookie{here}}); r.StatusCode != 200 {
			t.Errorf("%s: the caller's session ended: %d", failing, r.StatusCode)
		}
		if _, err := e.pool.Exec(ctx, `DROP TRIGGER fail_password_change ON sessions`); err != nil {
			t.Fatal(err)
		}
	}
	e.login(testEmail, testPassword)

	if r := e.do(req{method: "POST", path: "/auth/password", cookies: []*http.Cookie{here}, body: body}); r.StatusCode != 200 {
		t.Fatalf("change again: %d %s", r.StatusCode, r.body)
	}
	if r := e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{otherRefresh}}); r.StatusCode != 401 {
		t.Errorf("the other session still refreshes: %d %s", r.StatusCode, r.body)
	}
}

// No password reaches the log or the audit trail: not from a body the decoder refuses
// (jsontext quotes what follows a bad escape), nor from a wrong or a right change.
func TestPasswordChangeLeavesNoPasswordInLogs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.createUser(testEmail, testPassword)
	access, _ := e.login(testEmail, testPassword)
	jar := []*http.Cookie{access}
	for _, tc := range []struct{ name, body, secret string }{
		{"invalid escape in the current password", `{"current_password":"C:\users\Kp4Mn8","new_password":"x"}`, "sers"},
		{"invalid escape in the new password", `{"current_password":"x","new_password":"D:\unix\Rt5Gh3"}`, "nix"},
		{"lone surrogate in the new password", `{"current_password":"x","new_password":"\ud83dZq7Wx9"}`, "Zq7Wx"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(req{method: "POST", path: "/auth/password", cookies: jar, body: tc.body})
			if r.StatusCode != 400 {
				t.Fatalf("got %d %s", r.StatusCode, r.body)
			}
			line := e.requestLog(t, r)
			if strings.Contains(line, tc.secret) {
				t.Fatalf("the password's bytes %q are in the log:\n%s", tc.secret, line)
			}
			if !strings.Contains(line, `_password`) {
				t.Fatalf("the log does not say where the body broke:\n%s", line)
			}
		})
	}
	const typo = "Typo-In-Current-Passw0rd"
	if r := e.do(req{method: "POST", path: "/auth/password", cookies: jar, body: passwordBody(typo, newPassword)}); r.StatusCode != 403 {
		t.Fatalf("wrong current password: %d %s", r.StatusCode, r.body)
	}
	if r := e.do(req{method: "POST", path: "/auth/password", cookies: jar, body: passwordBody(testPassword, newPassword)}); r.StatusCode != 200 {
		t.Fatalf("change: %d %s", r.StatusCode, r.body)
	}
	var stored string
	if err := e.pool.QueryRow(context.Background(), `SELECT (SELECT coalesce(string_agg(a::text, ' '), '') FROM audit_events a) ||
		(SELECT coalesce(string_agg(f::text, ' '), '') FROM login_failures f)`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stored, "password_change_failed") || !strings.Contains(stored, "password_changed") {
		t.Fatalf("audit trail lacks the change: %s", stored)
	}
	out := e.logs.String() + stored
	for _, secret := range []string{testPassword, newPassword, typo} {
		if strings.Contains(out, secret) {
			t.Fatalf("a password reached the log or the audit trail:\n%s", out)
		}
	}
}

// TestPasswordPolicyAnswerNamesTheRule: a refused password's answer says which rule it
// broke, so a signup form can show it; it never quotes the password.
func TestPasswordPolicyAnswerNamesTheRule(t *testing.T) {
	t.Parallel()
	// A breached-password service as passwords.breach_check_url names one.
	pwned := pwnedtest.Start(t, map[string]int{"tranquil meadow otter 1904": 23})
	e := newEnv(t, envOptions{mod: func(c *config.Config) { c.Signup, c.Passwords.BreachCheckURL = true, pwned.URL }})
	for pw, want := range map[string]string{
		"tranquil meadow otter 1904": "the password appears in known data breaches: choose another",
		"short":                      "the password must have at least 8 characters",
		"Password1":                  "the password is too easy to guess: it is a common password, or close to one",
		"zanzibarq1999":              "the password is too easy to guess: it contains the login name or the service's name",
		"aaaaaaaaaaaaaa":             "the password is too easy to guess: it is made of common words, names, dates, repeats or keyboard patterns",
	} {
		r := e.do(req{method: "POST", path: "/auth/signup", body: `{"email":"zanzibarq@example.test","password":` + jsonString(pw) + `}`})
		var b struct {
			Error struct{ Code, Message string }
		}
		r.decode(t, &b)
		if r.StatusCode != 422 || b.Error.Code != "password_policy" || b.Error.Message != want {
			t.Errorf("signup with %q: %d %s, want 422 password_policy %q", pw, r.StatusCode, r.body, want)
		}
	}
	if n := e.counts("users")["users"]; n != 0 {
		t.Errorf("refused signups created %d users", n)
	}
	if r := e.do(req{method: "POST", path: "/auth/signup", body: `{"email":"zanzibarq@example.test","password":"kvzqpwtj sailboat lantern"}`}); r.StatusCode != 201 {
		t.Errorf("signup with a password in no breach: %d %s", r.StatusCode, r.body)
	}
}

// The service's names a new password must not be built from are its issuer, audience
// and public URL (RATIONALE.md, "Refusing guessable passwords"), all three, also
// when the issuer and audience are set apart from the public URL.
func TestPasswordPolicyKnowsThePublicURL(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{mod: func(c *config.Config) {
		c.Signup, c.PublicURL = true, "https://zephyrkite.example.test"
		c.Issuer, c.Audience = "https://id.example.test", "https://app.example.test"
	}})
	r := e.do(req{method: "POST", path: "/auth/signup", body: `{"email":"ada@example.test","password":"zephyrkite!"}`})
	if r.StatusCode != 422 || !strings.Contains(string(r.body), "the service's name") {
		t.Errorf("signup with the public URL's name and a character: %d %s, want 422 password_policy", r.StatusCode, r.body)
	}
}

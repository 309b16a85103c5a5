package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/config"
	"github.com/edgeauth/edgeauth/verifier"
)

// Regression tests for the control-plane findings of the black-box test (issue 7,
// items 5 to 14), each through the compiled binary.

const (
	ownerEmail    = "owner@example.test"
	ownerPassword = "the owner's long password"
)

// Item 5: a burst of concurrent wrong passwords for one account from one address gets
// exactly the budget (5): every other attempt is refused before its password is
// checked, and a right password inside the burst signs in only if it took a slot.
func TestBinaryBurstIsThrottledAtomically(t *testing.T) {
	t.Parallel()
	s := startServer(t, false, "EDGEAUTH_THROTTLE__TRUST_FORWARDED_FOR=true")
	s.createUser(ownerEmail, ownerPassword)

	got := s.statuses(100, func(i int) (string, http.Header) {
		return loginBody(ownerEmail, "wrong guess "+strconv.Itoa(i)), from("198.51.100.1")
	})
	if got[401] != 5 || got[429] != 95 {
		t.Fatalf("100 concurrent wrong passwords: %v, want 5 checked (401) and 95 refused (429)", got)
	}
	if n := s.count(`SELECT count(*) FROM login_failures`); n != 5 {
		t.Fatalf("%d failures recorded, want 5", n)
	}
	if r := s.do("POST", "/auth/login", loginBody(ownerEmail, ownerPassword), from("198.51.100.1")); r.status != 429 {
		t.Fatalf("right password over the limit: %d %s", r.status, r.body)
	}

	// Another address, one slot left, then a burst with the right password in it.
	for i := range 4 {
		if r := s.do("POST", "/auth/login", loginBody(ownerEmail, "wrong "+strconv.Itoa(i)), from("198.51.100.2")); r.status != 401 {
			t.Fatalf("wrong password %d: %d", i, r.status)
		}
	}
	got = s.statuses(100, func(i int) (string, http.Header) {
		if i == 50 {
			return loginBody(ownerEmail, ownerPassword), from("198.51.100.2")
		}
		return loginBody(ownerEmail, "wrong guess "+strconv.Itoa(i)), from("198.51.100.2")
	})
	// Either a wrong guess took the last slot (the right one is then refused), or the
	// right one did (it signs in and clears this address's failures, so the guesses that
	// follow get a fresh budget of 5).
	if !(got[200] == 0 && got[401] == 1 && got[429] == 99) && !(got[200] == 1 && got[401] <= 5) {
		t.Fatalf("burst with the right password after 4 failures: %v", got)
	}
}

// Item 6: wrong passwords from one address do not lock the owner out elsewhere; a
// distributed attack hits the account-wide ceiling, which refuses new addresses but not
// the one the owner signed in from.
func TestBinaryAttackerCannotLockOwnerOut(t *testing.T) {
	t.Parallel()
	s := startServer(t, false, "EDGEAUTH_THROTTLE__TRUST_FORWARDED_FOR=true", "EDGEAUTH_THROTTLE__ACCOUNT_FAILURES=12")
	s.createUser(ownerEmail, ownerPassword)
	if r := s.do("POST", "/auth/login", loginBody(ownerEmail, ownerPassword), from("192.0.2.10")); r.status != 200 {
		t.Fatalf("owner's first login: %d %s", r.status, r.body)
	}

	for i := range 8 {
		r := s.do("POST", "/auth/login", loginBody(ownerEmail, "guess "+strconv.Itoa(i)), from("198.51.100.1"))
		if want := map[bool]int{true: 401, false: 429}[i < 5]; r.status != want {
			t.Fatalf("attacker attempt %d: %d, want %d", i, r.status, want)
		}
	}
	// The owner, from an address never used before, is not affected.
	if r := s.do("POST", "/auth/login", loginBody(ownerEmail, ownerPassword), from("203.0.113.7")); r.status != 200 {
		t.Fatalf("owner elsewhere after the attack: %d %s", r.status, r.body)
	}

	// Two more attackers: 5 + 4 + 3 failures reach the ceiling of 12 ...
	for i := range 4 {
		s.do("POST", "/auth/login", loginBody(ownerEmail, "guess"), from("198.51.100.2"))
		if i < 3 {
			s.do("POST", "/auth/login", loginBody(ownerEmail, "guess"), from("198.51.100.3"))
		}
	}
	// ... so new addresses are refused, even with the right password ...
	for _, addr := range []string{"198.51.100.4", "198.51.100.77"} {
		if r := s.do("POST", "/auth/login", loginBody(ownerEmail, ownerPassword), from(addr)); r.status != 429 {
			t.Fatalf("new address %s at the ceiling: %d %s", addr, r.status, r.body)
		}
	}
	// ... but not the addresses the owner signed in from.
	for _, addr := range []string{"192.0.2.10", "203.0.113.7"} {
		if r := s.do("POST", "/auth/login", loginBody(ownerEmail, ownerPassword), from(addr)); r.status != 200 {
			t.Fatalf("owner at %s: %d %s", addr, r.status, r.body)
		}
	}
}

var seriesLine = regexp.MustCompile(`^edgeauth_http_request_duration_seconds_count\{code="[^"]*",method="([^"]*)",route="([^"]*)"\} `)

// Item 7: made-up methods (short and 10 KB long) and paths add no series; /metrics is
// served on the operations listener only.
func TestBinaryMetricsAreBoundedAndOffThePublicListener(t *testing.T) {
	t.Parallel()
	s := startServer(t, true)
	long := strings.Repeat("M", 10<<10)
	for i := range 300 {
		method := "X" + strconv.Itoa(i)
		if i%50 == 0 {
			method = long + strconv.Itoa(i)
		}
		s.do(method, "/auth/login/"+strconv.Itoa(i), "", http.Header{"Origin": {"https://x" + strconv.Itoa(i) + ".example"}})
		s.do(strings.ToLower(method), "/.well-known/jwks.json", "", nil)
	}
	if r := s.do("GET", "/metrics", "", nil); r.status != 404 {
		t.Fatalf("/metrics on the public listener: %d", r.status)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if r := s.do("GET", p, "", nil); r.status != 200 {
			t.Fatalf("%s on the public listener: %d", p, r.status)
		}
	}
	m := s.request(s.ops, "GET", "/metrics", "", nil)
	if m.status != 200 {
		t.Fatalf("/metrics on the operations listener: %d", m.status)
	}
	if len(m.body) > 64<<10 {
		t.Fatalf("metrics grew to %d bytes", len(m.body))
	}
	series := 0
	for _, line := range strings.Split(m.body, "\n") {
		sm := seriesLine.FindStringSubmatch(line)
		if sm == nil {
			continue
		}
		series++
		switch sm[1] {
		case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE", "other":
		default:
			t.Errorf("method label %.40q", sm[1])
		}
		if !strings.HasPrefix(sm[2], "GET /") && !strings.HasPrefix(sm[2], "POST /") && !strings.HasPrefix(sm[2], "DELETE /") && sm[2] != "unmatched" {
			t.Errorf("route label %.40q", sm[2])
		}
	}
	if series == 0 || series > 10 {
		t.Fatalf("%d request series after 600 made-up requests:\n%s", series, m.body)
	}
}

// Item 8: a refresh cookie path that does not cover /auth/logout is refused at start.
func TestBinaryRefusesRefreshPathThatMissesLogout(t *testing.T) {
	t.Parallel()
	db := "postgres://postgres@127.0.0.1:1/never_reached" // validation fails before any connection
	for _, rp := range []string{"/auth/refresh", "/auth/ref", "/authx"} {
		_, errs, code := runBinary(t, append(baseEnv(db), "EDGEAUTH_COOKIES__REFRESH_PATH="+rp), "", "serve", "--listen", freeAddr(t))
		if code != 1 || !strings.Contains(errs, "cookies.refresh_path") || !strings.Contains(errs, "/auth/logout") {
			t.Fatalf("refresh_path %s: exit %d\n%s", rp, code, errs)
		}
	}
}

// Item 8: a browser whose refresh cookie is not sent to /auth/logout (the finding had
// cookies.refresh_path=/auth/refresh, now refused at start) logs out with its access
// cookie alone, after the JWT in it has expired. With the shortest access TTL the
// configuration accepts (1m), the test waits for real until the control plane itself
// refuses the token (exp plus the verifiers' leeway) while the session is still live;
// then logout with only that cookie answers 204 and ends the session: its refresh token
// is refused, it is revoked in the database and no longer listed.
func TestBinaryLogoutWithOnlyAnExpiredAccessCookieEndsTheSession(t *testing.T) {
	t.Parallel()
	s := startServer(t, false, "EDGEAUTH_SESSIONS__ACCESS_TTL=1m")
	s.createUser(ownerEmail, ownerPassword)
	login := s.signIn()
	var issued struct {
		SessionID     string `json:"session_id"`
		AccessExpires int64  `json:"access_expires_at"`
	}
	if err := json.Unmarshal([]byte(login.body), &issued); err != nil || issued.SessionID == "" || issued.AccessExpires == 0 {
		t.Fatalf("login answer %s: %v", login.body, err)
	}
	var access, refresh *http.Cookie
	for _, c := range login.cookie {
		switch c.Name {
		case "__Host-edgeauth_at":
			access = c
		case "__Secure-edgeauth_rt":
			refresh = c
		}
	}
	if access == nil || refresh == nil {
		t.Fatalf("login set %v", login.header.Values("Set-Cookie"))
	}
	live := func() bool {
		return s.count(`SELECT count(*) FROM sessions WHERE id = $1 AND revoked_at IS NULL`, issued.SessionID) == 1
	}
	if r := s.do("GET", "/auth/session", "", nil, access); r.status != 200 {
		t.Fatalf("fresh access cookie: %d %s", r.status, r.body)
	}

	// Let the token expire for real: wait out exp and the leeway, then until the control
	// plane refuses it (bounded generously; nothing is timed).
	refusedBy := time.Unix(issued.AccessExpires, 0).Add(config.Leeway)
	time.Sleep(time.Until(refusedBy))
	for {
		r := s.do("GET", "/auth/session", "", nil, access)
		if r.status == 401 && r.code() == "unauthenticated" {
			break
		}
		if r.status != 200 || time.Now().After(refusedBy.Add(time.Minute)) {
			t.Fatalf("access cookie past its exp and the leeway: %d %s", r.status, r.body)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if !live() {
		t.Fatal("the session ended before logout: only its access token was to expire")
	}

	if r := s.do("POST", "/auth/logout", "", nil, access); r.status != 204 {
		t.Fatalf("logout with only the expired access cookie: %d %s", r.status, r.body)
	}
	if r := s.do("POST", "/auth/refresh", "", nil, refresh); r.status != 401 || r.code() != "refresh_token_invalid" {
		t.Errorf("refresh after logout: %d %s, want 401 refresh_token_invalid", r.status, r.body)
	}
	if live() || s.count(`SELECT count(*) FROM sessions WHERE id = $1 AND revoke_reason = 'logout'`, issued.SessionID) != 1 {
		t.Errorf("session %s not revoked by the logout in the database", issued.SessionID)
	}
	// Signed in again on another device: the ended session is not among the user's.
	again := s.signIn()
	list := s.do("GET", "/auth/sessions", "", nil, again.cookie...)
	var listed struct{ Sessions []struct{ ID string } }
	if err := json.Unmarshal([]byte(list.body), &listed); list.status != 200 || err != nil {
		t.Fatalf("sessions: %d %s", list.status, list.body)
	}
	if len(listed.Sessions) != 1 || listed.Sessions[0].ID == issued.SessionID {
		t.Errorf("sessions after logout: %s, want only the new one (ended: %s)", list.body, issued.SessionID)
	}
}

// Item 9: a NUL byte or invalid UTF-8 where the control plane expects text is a 400 with
// a stable code: nothing stored, nothing counted, no ERROR log. A failed login still
// counts.
func TestBinaryNonTextInputIsBadRequest(t *testing.T) {
	t.Parallel()
	s := startServer(t, false, "EDGEAUTH_SIGNUP=true")
	s.createUser(ownerEmail, ownerPassword)
	login := s.signIn()
	failures := func() int { return s.count(`SELECT count(*) FROM login_failures`) }
	for _, tc := range []struct {
		name, method, path, body, code string
	}{
		{"NUL in a login name", "POST", "/auth/login", `{"email":"owner@example.test\u0000","password":"x"}`, "invalid_field"},
		{"NUL alone", "POST", "/auth/login", `{"email":"\u0000","password":"x"}`, "invalid_field"},
		{"control character", "POST", "/auth/login", `{"email":"a\u0007b","password":"x"}`, "invalid_field"},
		{"invalid UTF-8", "POST", "/auth/login", "{\"email\":\"a\xffb\",\"password\":\"x\"}", "invalid_json"},
		{"lone surrogate", "POST", "/auth/login", `{"email":"a\ud800b","password":"x"}`, "invalid_json"},
		{"NUL in a signup name", "POST", "/auth/signup", `{"email":"new\u0000@example.test","password":"long enough password"}`, "invalid_field"},
		{"NUL in a session id", "DELETE", "/auth/sessions/abc%00", "", "invalid_field"},
		{"invalid UTF-8 in a session id", "DELETE", "/auth/sessions/abc%FF", "", "invalid_field"},
	} {
		before := failures()
		r := s.do(tc.method, tc.path, tc.body, nil, login.cookie...)
		if r.status != 400 || r.code() != tc.code {
			t.Errorf("%s: %d %s, want 400 %s", tc.name, r.status, r.body, tc.code)
		}
		if after := failures(); after != before {
			t.Errorf("%s: failures %d -> %d", tc.name, before, after)
		}
	}
	if r := s.do("POST", "/auth/login", loginBody(ownerEmail, "a wrong password"), nil); r.status != 401 || failures() != 1 {
		t.Fatalf("a failed login: %d, %d failures recorded", r.status, failures())
	}
	if n := s.count(`SELECT count(*) FROM users`); n != 1 {
		t.Fatalf("%d users", n)
	}
	if strings.Contains(s.logs.String(), `"level":"ERROR"`) {
		t.Fatalf("ERROR logged:\n%s", s.logs)
	}
}

// Item 10: JSON bodies have one meaning: a repeated name or a name in another letter
// case is refused, not resolved.
func TestBinaryStrictJSON(t *testing.T) {
	t.Parallel()
	s := startServer(t, false)
	s.createUser(ownerEmail, ownerPassword)
	for _, tc := range []struct{ name, body, code string }{
		{"duplicate name, last wins elsewhere", `{"email":"nobody@example.test","email":"` + ownerEmail + `","password":"` + ownerPassword + `"}`, "invalid_json"},
		{"duplicate password", `{"email":"` + ownerEmail + `","password":"x","password":"` + ownerPassword + `"}`, "invalid_json"},
		{"name in another case", `{"EMAIL":"` + ownerEmail + `","password":"` + ownerPassword + `"}`, "unknown_field"},
		{"Title case", `{"Email":"` + ownerEmail + `","Password":"` + ownerPassword + `"}`, "unknown_field"},
		{"not an object", `null`, "invalid_json"},
	} {
		if r := s.do("POST", "/auth/login", tc.body, nil); r.status != 400 || r.code() != tc.code || len(r.cookie) != 0 {
			t.Errorf("%s: %d %s, want 400 %s", tc.name, r.status, r.body, tc.code)
		}
	}
	if n := s.count(`SELECT count(*) FROM sessions`); n != 0 {
		t.Fatalf("%d sessions opened", n)
	}
}

// Item 11: GET /auth/refresh keeps return_to exactly when the edge's rule
// (verifier.SafeReturnTo) does, and sends "/" otherwise.
func TestBinaryReturnToFollowsTheEdgeRule(t *testing.T) {
	t.Parallel()
	s := startServer(t, false)
	for _, in := range []string{
		"/app", "/app/x?y=1&z=%2F", "/", "/a%0D%0ASet-Cookie:%20x=y", "/a?b=%0d%0a", "/a/../admin", "/./a",
		"/a/%2e%2e/b", "/a#frag", "/a?b=1#frag", "/%2F%2Fevil.example", "//evil.example", "/\\evil.example",
		"https://evil.example/", "javascript:alert(1)", "/a\tb", "/a b", "/a%00b", "/" + strings.Repeat("a", 3000),
	} {
		want := "/"
		if verifier.SafeReturnTo(in) {
			want = in
		}
		r := s.do("GET", "/auth/refresh?return_to="+url.QueryEscape(in), "", nil) // no cookie: back to the login page
		loc, err := url.Parse(r.header.Get("Location"))
		if r.status != 302 || err != nil || loc.Path != "/login" || loc.Query().Get("return_to") != want {
			t.Errorf("return_to %.60q: %d Location %q, want return_to %.60q", in, r.status, r.header.Get("Location"), want)
		}
	}
}

// Items 12 and 13: logout clears our two cookies and nothing else of the site; a
// repeated Origin or Sec-Fetch-Site is refused; `users create` needs only a database.
func TestBinaryLogoutAndRequestChecks(t *testing.T) {
	t.Parallel()
	s := startServer(t, false)
	s.createUser(ownerEmail, ownerPassword) // only EDGEAUTH_DATABASE_URL: no --dev, no public_url
	login := s.signIn()
	for _, h := range []http.Header{
		{"Origin": {"https://auth.example.test", "https://evil.example"}},
		{"Origin": {"https://auth.example.test", "https://auth.example.test"}},
		{"Origin": {"https://auth.example.test"}, "Sec-Fetch-Site": {"same-origin", "cross-site"}},
		{"Sec-Fetch-Site": {"same-origin", "same-origin"}},
	} {
		r := s.do("POST", "/auth/login", loginBody(ownerEmail, ownerPassword), h)
		if r.status != 403 || r.code() != "cross_site_request" {
			t.Errorf("%v: %d %s", h, r.status, r.body)
		}
	}
	r := s.do("POST", "/auth/logout", "", nil, login.cookie...)
	if r.status != 204 || r.header.Get("Clear-Site-Data") != "" || len(r.header.Values("Set-Cookie")) != 2 {
		t.Fatalf("logout: %d %v", r.status, r.header)
	}
	for _, c := range r.header.Values("Set-Cookie") {
		if !strings.Contains(c, "Max-Age=0") || !(strings.HasPrefix(c, "__Host-edgeauth_at=;") || strings.HasPrefix(c, "__Secure-edgeauth_rt=;")) {
			t.Errorf("logout set %q", c)
		}
	}
}

// Item 14: signup meeting an existing account costs a failure like a wrong password: an
// address probing for accounts is throttled after the budget; other addresses are not.
func TestBinarySignupIsThrottled(t *testing.T) {
	t.Parallel()
	s := startServer(t, false, "EDGEAUTH_SIGNUP=true", "EDGEAUTH_THROTTLE__TRUST_FORWARDED_FOR=true")
	s.createUser(ownerEmail, ownerPassword)
	probe := loginBody(ownerEmail, "some long password")
	for i := range 5 {
		if r := s.do("POST", "/auth/signup", probe, from("198.51.100.9")); r.status != 409 || r.code() != "user_exists" {
			t.Fatalf("probe %d: %d %s", i, r.status, r.body)
		}
	}
	r := s.do("POST", "/auth/signup", probe, from("198.51.100.9"))
	if r.status != 429 || r.code() != "too_many_attempts" || r.header.Get("Retry-After") == "" {
		t.Fatalf("probe over the budget: %d %s", r.status, r.body)
	}
	// A probe of other accounts from that address counts against the address too.
	for i := range 15 {
		s.do("POST", "/auth/signup", loginBody("someone"+strconv.Itoa(i)+"@example.test", "x"), from("198.51.100.9")) // 422: not counted
		s.do("POST", "/auth/login", loginBody("someone"+strconv.Itoa(i)+"@example.test", "wrong password"), from("198.51.100.9"))
	}
	if r := s.do("POST", "/auth/signup", loginBody("fresh@example.test", "a long new password"), from("198.51.100.9")); r.status != 429 {
		t.Fatalf("signup from an address over its budget: %d %s", r.status, r.body)
	}
	if r := s.do("POST", "/auth/signup", loginBody("fresh@example.test", "a long new password"), from("192.0.2.50")); r.status != 201 {
		t.Fatalf("signup from another address: %d %s", r.status, r.body)
	}
	if r := s.do("POST", "/auth/login", loginBody(ownerEmail, ownerPassword), from("192.0.2.51")); r.status != 200 {
		t.Fatalf("the owner after the probes: %d %s", r.status, r.body)
	}
}

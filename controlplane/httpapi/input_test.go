package httpapi_test

import (
	"maps"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/config"
)

// Bad input of every kind gets a clear 4xx with a stable code and changes nothing in
// the database. (A failed login attempt is recorded for throttling and audit: those two
// tables are left out of the comparison for the login cases, and only those.)
func TestBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{mod: func(c *config.Config) { c.Signup = true }})
	e.createUser(testEmail, testPassword)
	access, refresh := e.login(testEmail, testPassword)
	an, rn := e.cfg.AccessCookie().Name, e.cfg.RefreshCookie().Name

	core := []string{"users", "sessions", "live_sessions", "rotations", "signing_keys"}
	all := append(append([]string{}, core...), "audit_events", "login_failures")
	big := `{"email":"` + strings.Repeat("a", 70<<10) + `","password":"x"}`

	for _, tc := range []struct {
		name   string
		q      req
		status int
		code   string
		// attempt: a well-formed login attempt that is recorded as a failure.
		attempt bool
	}{
		{name: "malformed JSON", q: req{method: "POST", path: "/auth/login", body: `{"email":`}, status: 400, code: "invalid_json"},
		{name: "not an object", q: req{method: "POST", path: "/auth/login", body: `["a","b"]`}, status: 400, code: "invalid_json"},
		{name: "wrong field type", q: req{method: "POST", path: "/auth/login", body: `{"email":1,"password":"x"}`}, status: 400, code: "invalid_json"},
		{name: "unknown field", q: req{method: "POST", path: "/auth/login", body: `{"email":"a@b.c","password":"x","admin":true}`}, status: 400, code: "unknown_field"},
		{name: "trailing data", q: req{method: "POST", path: "/auth/login", body: `{"email":"a@b.c","password":"x"} {}`}, status: 400, code: "trailing_data"},
		{name: "missing password", q: req{method: "POST", path: "/auth/login", body: `{"email":"a@b.c"}`}, status: 400, code: "invalid_field"},
		{name: "empty body", q: req{method: "POST", path: "/auth/login", contentType: "application/json"}, status: 400, code: "invalid_json"},
		{name: "no content type", q: req{method: "POST", path: "/auth/login", body: `{"email":"a@b.c","password":"x"}`, contentType: " "}, status: 415, code: "unsupported_media_type"},
		{name: "form content type", q: req{method: "POST", path: "/auth/login", body: `email=a&password=b`, contentType: "application/x-www-form-urlencoded"}, status: 415, code: "unsupported_media_type"},
		{name: "multipart content type", q: req{method: "POST", path: "/auth/login", body: `--x--`, contentType: "multipart/form-data; boundary=x"}, status: 415, code: "unsupported_media_type"},
		{name: "text/plain content type", q: req{method: "POST", path: "/auth/signup", body: `{"email":"n@b.c","password":"longenough"}`, contentType: "text/plain"}, status: 415, code: "unsupported_media_type"},
		{name: "json with another charset", q: req{method: "POST", path: "/auth/login", body: `{}`, contentType: "application/json; charset=latin1"}, status: 415, code: "unsupported_media_type"},
		{name: "oversize body", q: req{method: "POST", path: "/auth/login", body: big}, status: 413, code: "body_too_large"},
		{name: "oversize body on signup", q: req{method: "POST", path: "/auth/signup", body: big}, status: 413, code: "body_too_large"},
		{name: "oversize body on refresh", q: req{method: "POST", path: "/auth/refresh", body: big, cookies: []*http.Cookie{refresh}}, status: 413, code: "body_too_large"},
		{name: "body on refresh", q: req{method: "POST", path: "/auth/refresh", body: `{"token":"x"}`, cookies: []*http.Cookie{refresh}}, status: 400, code: "unexpected_body"},
		{name: "form post to logout", q: req{method: "POST", path: "/auth/logout", body: `a=b`, contentType: "application/x-www-form-urlencoded", cookies: []*http.Cookie{access, refresh}}, status: 415, code: "unsupported_media_type"},
		{name: "refresh without cookie", q: req{method: "POST", path: "/auth/refresh"}, status: 401, code: "refresh_token_missing"},
		{name: "garbage refresh cookie", q: req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{{Name: rn, Value: "garbage"}}}, status: 401, code: "refresh_token_invalid"},
		{name: "SQL-looking refresh cookie", q: req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{{Name: rn, Value: "x'OR'1'='1"}}}, status: 401, code: "refresh_token_invalid"},
		{name: "well-formed unknown refresh token", q: req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{{Name: rn, Value: strings.Repeat("A", 43)}}}, status: 401, code: "refresh_token_invalid"},
		{name: "duplicated refresh cookie", q: req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{refresh, {Name: rn, Value: "other"}}}, status: 401, code: "refresh_token_missing"},
		{name: "me without cookie", q: req{method: "GET", path: "/auth/me"}, status: 401, code: "unauthenticated"},
		{name: "garbage access cookie", q: req{method: "GET", path: "/auth/me", cookies: []*http.Cookie{{Name: an, Value: "garbage"}}}, status: 401, code: "unauthenticated"},
		{name: "garbage bearer", q: req{method: "GET", path: "/auth/session", header: map[string]string{"Authorization": "Bearer a.b.c"}}, status: 401, code: "unauthenticated"},
		{name: "alg none token", q: req{method: "GET", path: "/auth/session", header: map[string]string{"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."}}, status: 401, code: "unauthenticated"},
		{name: "SQL-looking session id", q: req{method: "DELETE", path: "/auth/sessions/'%3B%20DROP%20TABLE%20users%3B--", cookies: []*http.Cookie{access}}, status: 404, code: "session_not_found"},
		{name: "signup with short password", q: req{method: "POST", path: "/auth/signup", body: `{"email":"new@example.test","password":"short"}`}, status: 422, code: "password_policy"},
		{name: "signup with a common password", q: req{method: "POST", path: "/auth/signup", body: `{"email":"new@example.test","password":"Password1"}`}, status: 422, code: "password_policy"},
		{name: "signup with the login name in the password", q: req{method: "POST", path: "/auth/signup", body: `{"email":"zanzibarq@example.test","password":"zanzibarq2024"}`}, status: 422, code: "password_policy"},
		{name: "signup with existing email", q: req{method: "POST", path: "/auth/signup", body: `{"email":"ADA@example.test","password":"long enough password"}`}, status: 409, code: "user_exists", attempt: true},
		{name: "signup with SQL-looking email", q: req{method: "POST", path: "/auth/signup", body: `{"email":"x' OR 1=1; --","password":"long enough password"}`}, status: 400, code: "invalid_field"},
		{name: "unknown endpoint", q: req{method: "GET", path: "/auth/nope"}, status: 404, code: "not_found"},
		{name: "wrong method", q: req{method: "PUT", path: "/auth/login", body: `{}`}, status: 405, code: "method_not_allowed"},
		{name: "SQL-looking login", q: req{method: "POST", path: "/auth/login", body: `{"email":"' OR '1'='1' --","password":"' OR '1'='1"}`}, status: 401, code: "invalid_credentials", attempt: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tables := all
			if tc.attempt {
				tables = core
			}
			before := e.counts(tables...)
			r := e.do(tc.q)
			if r.StatusCode != tc.status || r.errorCode() != tc.code {
				t.Fatalf("got %d %s, want %d %s", r.StatusCode, r.body, tc.status, tc.code)
			}
			if r.Header.Get("Content-Type") != "application/json" || !strings.Contains(string(r.body), `"message":"`) {
				t.Fatalf("not a JSON error: %v %s", r.Header, r.body)
			}
			if after := e.counts(tables...); !maps.Equal(before, after) {
				t.Fatalf("database changed: %v -> %v", before, after)
			}
		})
	}
	// The session used above survived all of it.
	if r := e.do(req{method: "GET", path: "/auth/me", cookies: []*http.Cookie{access}}); r.StatusCode != 200 {
		t.Fatalf("me: %d %s", r.StatusCode, r.body)
	}
}

// An unknown account and a wrong password get the same status and body, byte for byte.
func TestNoUserEnumeration(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.createUser(testEmail, testPassword)
	unknown := e.do(req{method: "POST", path: "/auth/login", body: `{"email":"nobody@example.test","password":"whatever it is"}`})
	wrong := e.do(req{method: "POST", path: "/auth/login", body: `{"email":"` + testEmail + `","password":"whatever it is"}`})
	if unknown.StatusCode != 401 || wrong.StatusCode != 401 || string(unknown.body) != string(wrong.body) {
		t.Fatalf("unknown user: %d %s\nwrong password: %d %s", unknown.StatusCode, unknown.body, wrong.StatusCode, wrong.body)
	}
	if unknown.Header.Values("Set-Cookie") != nil || wrong.Header.Values("Set-Cookie") != nil {
		t.Fatal("cookies set on a failed login")
	}
}

// Failed logins for one account from one address are throttled with 429 and
// Retry-After, even when the password finally is right; another account is not affected.
func TestLoginThrottling(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{mod: func(c *config.Config) { c.Throttle.AccountAddressFailures = 3 }})
	e.createUser(testEmail, testPassword)
	e.createUser("bob@example.test", testPassword)
	for i := range 3 {
		if r := e.do(req{method: "POST", path: "/auth/login", body: `{"email":"` + testEmail + `","password":"wrong password ` + strconv.Itoa(i) + `"}`}); r.StatusCode != 401 {
			t.Fatalf("attempt %d: %d %s", i, r.StatusCode, r.body)
		}
	}
	r := e.do(req{method: "POST", path: "/auth/login", body: `{"email":"` + testEmail + `","password":"` + testPassword + `"}`})
	if r.StatusCode != 429 || r.errorCode() != "too_many_attempts" {
		t.Fatalf("throttled login: %d %s", r.StatusCode, r.body)
	}
	if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 15*60 {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	if r.Header.Values("Set-Cookie") != nil {
		t.Fatal("cookies on a throttled login")
	}
	if r := e.do(req{method: "POST", path: "/auth/login", body: `{"email":"bob@example.test","password":"` + testPassword + `"}`, header: map[string]string{}}); r.StatusCode != 200 {
		t.Fatalf("another account: %d %s", r.StatusCode, r.body)
	}
	if got := metricValue(t, e, `edgeauth_logins_total{result="throttled"}`); got != "1" {
		t.Fatalf("throttled logins metric = %q", got)
	}
}

// Cross-site requests are refused on every state-changing endpoint, login included.
func TestCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{mod: func(c *config.Config) { c.AllowedOrigins = []string{"https://app.example.test"} }})
	e.createUser(testEmail, testPassword)
	access, refresh := e.login(testEmail, testPassword)
	login := `{"email":"` + testEmail + `","password":"` + testPassword + `"}`
	jar := []*http.Cookie{access, refresh}

	for _, tc := range []struct {
		name   string
		q      req
		status int
		code   string
	}{
		{"login from a foreign Origin", req{method: "POST", path: "/auth/login", body: login, header: map[string]string{"Origin": "https://evil.example"}}, 403, "cross_site_request"},
		{"login with Sec-Fetch-Site cross-site", req{method: "POST", path: "/auth/login", body: login, noOrigin: true, header: map[string]string{"Sec-Fetch-Site": "cross-site"}}, 403, "cross_site_request"},
		{"cross-site even with an allowed Origin", req{method: "POST", path: "/auth/login", body: login, header: map[string]string{"Sec-Fetch-Site": "cross-site"}}, 403, "cross_site_request"},
		{"login with neither header", req{method: "POST", path: "/auth/login", body: login, noOrigin: true}, 403, "cross_site_request"},
		{"login with Origin null", req{method: "POST", path: "/auth/login", body: login, header: map[string]string{"Origin": "null"}}, 403, "cross_site_request"},
		{"same-site Fetch but foreign Origin", req{method: "POST", path: "/auth/login", body: login, header: map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "same-site"}}, 403, "cross_site_request"},
		{"logout from a foreign Origin", req{method: "POST", path: "/auth/logout", cookies: jar, header: map[string]string{"Origin": "https://evil.example"}}, 403, "cross_site_request"},
		{"logout-all cross-site", req{method: "POST", path: "/auth/logout-all", cookies: jar, noOrigin: true, header: map[string]string{"Sec-Fetch-Site": "cross-site"}}, 403, "cross_site_request"},
		{"refresh cross-site", req{method: "POST", path: "/auth/refresh", cookies: jar, header: map[string]string{"Origin": "https://evil.example"}}, 403, "cross_site_request"},
		{"enrollment from a foreign Origin", req{method: "POST", path: "/auth/mfa/enroll", body: login, header: map[string]string{"Origin": "https://evil.example"}}, 403, "cross_site_request"},
		{"enrollment's confirmation cross-site", req{method: "POST", path: "/auth/mfa/enroll/confirm", body: login, noOrigin: true, header: map[string]string{"Sec-Fetch-Site": "cross-site"}}, 403, "cross_site_request"},
		{"delete session cross-site", req{method: "DELETE", path: "/auth/sessions/x", cookies: jar, header: map[string]string{"Origin": "http://auth.example.test"}}, 403, "cross_site_request"},
		{"form post with the right Origin", req{method: "POST", path: "/auth/login", body: "email=a&password=b", contentType: "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"},
		{"login from an allowed app origin", req{method: "POST", path: "/auth/login", body: login, header: map[string]string{"Origin": "https://app.example.test", "Sec-Fetch-Site": "same-site"}}, 200, ""},
		{"login with Sec-Fetch-Site same-origin only", req{method: "POST", path: "/auth/login", body: login, noOrigin: true, header: map[string]string{"Sec-Fetch-Site": "same-origin"}}, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.counts("sessions", "live_sessions", "rotations")
			r := e.do(tc.q)
			if r.StatusCode != tc.status || r.errorCode() != tc.code {
				t.Fatalf("got %d %s, want %d %s", r.StatusCode, r.body, tc.status, tc.code)
			}
			if tc.status >= 400 && !maps.Equal(before, e.counts("sessions", "live_sessions", "rotations")) {
				t.Fatal("a refused request changed the database")
			}
		})
	}
	if r := e.do(req{method: "GET", path: "/auth/me", cookies: jar}); r.StatusCode != 200 {
		t.Fatalf("session was ended by a refused request: %d", r.StatusCode)
	}
}

// A body the JSON decoder refuses is logged by where it broke, never by what was there:
// jsontext quotes the offending input (an invalid escape and the bytes after it), and
// inside "password" that input is part of someone's password, as when a client builds
// its JSON by concatenation and the password holds a backslash.
func TestMalformedBodyLeavesNoPasswordInLogs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	for _, tc := range []struct{ name, body, secret string }{
		{"invalid escape", `{"email":"` + testEmail + `","password":"C:\users\Kp4Mn8"}`, "sers"},
		{"lone surrogate", `{"email":"` + testEmail + `","password":"\ud83dZq7Wx9"}`, "Zq7Wx"},
		{"invalid escape after the object", `{"email":"` + testEmail + `","password":"x"}"\ud83dHv2Jc5"`, "Hv2Jc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(req{method: "POST", path: "/auth/login", body: tc.body})
			if r.StatusCode != 400 {
				t.Fatalf("got %d %s", r.StatusCode, r.body)
			}
			line := e.requestLog(t, r)
			if strings.Contains(line, tc.secret) {
				t.Fatalf("the password's bytes %q are in the log:\n%s", tc.secret, line)
			}
			if !strings.Contains(line, `"/password`) && tc.name != "invalid escape after the object" {
				t.Fatalf("the log does not say where the body broke:\n%s", line)
			}
		})
	}
}

// A body has one meaning or is refused: a request with two Content-Type headers is
// refused whichever comes first, on endpoints with a body and without.
func TestTwoContentTypesAreRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.createUser(testEmail, testPassword)
	body := `{"email":` + jsonString(testEmail) + `,"password":` + jsonString(testPassword) + `}`
	for _, second := range []string{"text/plain", "application/json"} {
		login := e.do(req{method: "POST", path: "/auth/login", body: body, added: http.Header{"Content-Type": {second}}})
		if login.StatusCode != 415 || login.errorCode() != "unsupported_media_type" {
			t.Errorf("login with Content-Type application/json and %s: %d %s", second, login.StatusCode, login.body)
		}
	}
	a, r := e.login(testEmail, testPassword)
	logout := e.do(req{method: "POST", path: "/auth/logout", cookies: []*http.Cookie{a, r},
		added: http.Header{"Content-Type": {"application/json", "application/x-www-form-urlencoded"}}})
	if logout.StatusCode != 415 {
		t.Errorf("logout with two Content-Types: %d %s", logout.StatusCode, logout.body)
	}
}

// A Last-Event-ID that is not a number is refused without reaching the log: whatever a
// client put there (a token, say) is not ours to keep.
func TestBadLastEventIDStaysOutOfTheLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	const secret = "Rt9vQx2LmN7"
	for _, v := range []string{"tok." + secret, "+" + secret, "99999999999999999999" + secret} {
		r := e.do(req{method: "GET", path: "/.well-known/edgeauth/revocations/stream", header: map[string]string{"Last-Event-ID": v}})
		if r.StatusCode != 400 || r.errorCode() != "invalid_field" {
			t.Fatalf("%q: %d %s", v, r.StatusCode, r.body)
		}
		id := r.Header.Get("X-Request-Id")
		waitUntil(t, 5*time.Second, func() bool { return strings.Contains(e.logs.String(), `"request_id":"`+id+`"`) })
	}
	if strings.Contains(e.logs.String(), secret) {
		t.Fatalf("the header's value is in the log:\n%s", e.logs.String())
	}
}

// The endpoints that take no body refuse one before looking at anything else (the
// credentials included): a JSON body other than {} is 400 unexpected_body, an oversize
// one 413 body_too_large, a form 415 unsupported_media_type.
func TestBodylessEndpointsRefuseABody(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	big := `{"x":"` + strings.Repeat("a", 70<<10) + `"}`
	for _, target := range []struct{ method, path string }{
		{"POST", "/auth/refresh"}, {"POST", "/auth/logout"}, {"POST", "/auth/logout-all"},
		{"POST", "/auth/logout-others"}, {"DELETE", "/auth/sessions/x"},
	} {
		for _, tc := range []struct {
			name, body, contentType string
			status                  int
			code                    string
		}{
			{"a body", `{"token":"x"}`, "", 400, "unexpected_body"},
			{"an oversize body", big, "", 413, "body_too_large"},
			{"a form", "a=b", "application/x-www-form-urlencoded", 415, "unsupported_media_type"},
		} {
			t.Run(target.method+" "+target.path+" with "+tc.name, func(t *testing.T) {
				r := e.do(req{method: target.method, path: target.path, body: tc.body, contentType: tc.contentType})
				if r.StatusCode != tc.status || r.errorCode() != tc.code {
					t.Fatalf("got %d %s, want %d %s", r.StatusCode, r.body, tc.status, tc.code)
				}
			})
		}
	}
}

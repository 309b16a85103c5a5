package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/controlplane/config"
)

// An app on a sibling subdomain (allowed_origins) calls the API with credentials: the
// preflight is answered for routes that exist, answers carry the CORS headers for
// that origin only, and every other origin gets none.
func TestCORSForAllowedOrigins(t *testing.T) {
	const app = "https://app.example.test"
	e := newEnv(t, envOptions{mod: func(c *config.Config) { c.AllowedOrigins = []string{app} }})
	e.createUser("cors@example.com", "correct horse battery staple")

	pre := e.do(req{method: http.MethodOptions, path: "/auth/login", noOrigin: true, header: map[string]string{
		"Origin": app, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type",
	}})
	if pre.StatusCode != http.StatusNoContent {
		t.Fatalf("preflight: %d %s", pre.StatusCode, pre.body)
	}
	for k, want := range map[string]string{
		"Access-Control-Allow-Origin":      app,
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Allow-Methods":     "GET, POST, DELETE",
		"Access-Control-Allow-Headers":     "Content-Type, X-Request-Id",
		"Access-Control-Max-Age":           "600",
	} {
		if got := pre.Header.Get(k); got != want {
			t.Errorf("preflight %s = %q, want %q", k, got, want)
		}
	}
	if v := strings.Join(pre.Header.Values("Vary"), ", "); !strings.Contains(v, "Origin") || !strings.Contains(v, "Access-Control-Request-Method") {
		t.Errorf("preflight Vary = %q", v)
	}

	login := e.do(req{method: http.MethodPost, path: "/auth/login", noOrigin: true, contentType: "application/json",
		body:   `{"email":"cors@example.com","password":"correct horse battery staple"}`,
		header: map[string]string{"Origin": app, "Sec-Fetch-Site": "same-site"}})
	if login.StatusCode != http.StatusOK {
		t.Fatalf("login: %d %s", login.StatusCode, login.body)
	}
	if login.Header.Get("Access-Control-Allow-Origin") != app || login.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("login answer lacks CORS headers: %v", login.Header)
	}
	const exposed = "Retry-After, WWW-Authenticate, X-Request-Id"
	if got := login.Header.Get("Access-Control-Expose-Headers"); got != exposed {
		t.Errorf("Expose-Headers = %q, want %q", got, exposed)
	}
	// Errors carry them too, so the app can read why (401 from /auth/me without a
	// session), the 401's challenge included (no token, a token refused, or expired).
	me := e.do(req{method: http.MethodGet, path: "/auth/me", header: map[string]string{"Origin": app}})
	if me.StatusCode != http.StatusUnauthorized || me.Header.Get("Access-Control-Allow-Origin") != app {
		t.Errorf("/auth/me: %d, Allow-Origin %q", me.StatusCode, me.Header.Get("Access-Control-Allow-Origin"))
	}
	if got := me.Header.Get("Access-Control-Expose-Headers"); got != exposed || me.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("/auth/me 401: Expose-Headers %q, want %q (WWW-Authenticate %q)", got, exposed, me.Header.Get("WWW-Authenticate"))
	}

	// Another origin: no CORS headers on answers, preflight refused.
	other := e.do(req{method: http.MethodGet, path: "/auth/me", header: map[string]string{"Origin": "https://evil.example"}})
	if other.Header.Get("Access-Control-Allow-Origin") != "" || other.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("CORS headers for an origin not allowed: %v", other.Header)
	}
	bad := e.do(req{method: http.MethodOptions, path: "/auth/login", noOrigin: true, header: map[string]string{
		"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}})
	if bad.StatusCode != http.StatusForbidden || bad.errorCode() != "cross_site_request" || bad.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another origin: %d %s %v", bad.StatusCode, bad.body, bad.Header)
	}
	// A method the path does not have.
	none := e.do(req{method: http.MethodOptions, path: "/auth/login", noOrigin: true, header: map[string]string{
		"Origin": app, "Access-Control-Request-Method": "PUT"}})
	if none.StatusCode != http.StatusMethodNotAllowed || none.Header.Get("Access-Control-Allow-Methods") != "" {
		t.Errorf("preflight for PUT: %d %v", none.StatusCode, none.Header)
	}
}

// The public documents answer every origin with "*", and never with
// Allow-Credentials: a browser refuses "*" together with credentials, so the pair
// would break the allowed origins' fetches of what anyone may read.
func TestPublicDocumentsAnswerAnyOriginWithoutCredentials(t *testing.T) {
	const app = "https://app.example.test"
	e := newEnv(t, envOptions{mod: func(c *config.Config) { c.AllowedOrigins = []string{app} }})
	for _, path := range []string{
		"/.well-known/jwks.json",
		"/.well-known/edgeauth/revocations",
		"/.well-known/edgeauth/edge-config",
		"/.well-known/edgeauth/revocations/stream",
	} {
		for _, origin := range []string{app, "https://other.example"} {
			method := http.MethodGet
			if strings.HasSuffix(path, "/stream") {
				method = http.MethodHead // the headers only: a GET would hold the stream open
			}
			res := e.do(req{method: method, path: path, noOrigin: true, header: map[string]string{"Origin": origin}})
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s %s from %s: %d %s", method, path, origin, res.StatusCode, res.body)
			}
			if got := res.Header.Get("Access-Control-Allow-Origin"); got != "*" {
				t.Errorf("%s from %s: Allow-Origin %q, want *", path, origin, got)
			}
			if got := res.Header.Get("Access-Control-Allow-Credentials"); got != "" {
				t.Errorf("%s from %s: Allow-Credentials %q beside Allow-Origin *", path, origin, got)
			}
		}
	}
}

// Methods are case-sensitive (RFC 9110, 9.1): a browser upper-cases only DELETE, GET,
// HEAD, OPTIONS, POST and PUT before sending, so a preflight naming "delete" or "post"
// asks for a method no route has, and the request would be 405: so is the preflight.
func TestPreflightMethodIsCaseSensitive(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{mod: func(c *config.Config) { c.AllowedOrigins = []string{testApp} }})
	for _, tc := range []struct {
		path, method string
		want         int
	}{
		{"/auth/login", "POST", http.StatusNoContent},
		{"/auth/login", "post", http.StatusMethodNotAllowed},
		{"/auth/sessions/x", "DELETE", http.StatusNoContent},
		{"/auth/sessions/x", "delete", http.StatusMethodNotAllowed},
		{"/auth/sessions/x", "Delete", http.StatusMethodNotAllowed},
	} {
		pre := e.do(req{method: http.MethodOptions, path: tc.path, noOrigin: true, header: map[string]string{
			"Origin": testApp, "Access-Control-Request-Method": tc.method}})
		if pre.StatusCode != tc.want {
			t.Errorf("preflight %s %s: %d %s, want %d", tc.method, tc.path, pre.StatusCode, pre.body, tc.want)
		}
		// The request itself agrees with its preflight.
		if tc.want != http.StatusNoContent {
			r := e.do(req{method: tc.method, path: tc.path, header: map[string]string{"Origin": testApp}, body: `{}`})
			if r.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: %d %s, want 405", tc.method, tc.path, r.StatusCode, r.body)
			}
		}
	}
}

package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/controlplane/config"
	"github.com/edgeauth/edgeauth/controlplane/httpapi"
	"github.com/edgeauth/edgeauth/controlplane/store"
	"github.com/edgeauth/edgeauth/internal/pgtest"
	"github.com/edgeauth/edgeauth/migrations"
	"github.com/jackc/pgx/v5/pgxpool"
	"net/http/httptest"
)

// /readyz is 503 while the schema is behind, 200 once migrations ran, 503 again once a
// newer release migrated further; /healthz only says the process is up.
func TestReadyzFollowsMigrations(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.NewDatabase(t)) // a fresh, unmigrated database
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	h, err := httpapi.New(httpapi.Deps{Auth: e.app.Auth, Keys: e.app.Keys, Revocations: e.app.Revocations, Database: store.New(pool)}, e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		return w
	}
	if w := get("/healthz"); w.Code != 200 {
		t.Fatalf("healthz %d", w.Code)
	}
	if w := get("/readyz"); w.Code != 503 || !strings.Contains(w.Body.String(), `"not_ready"`) || !strings.Contains(w.Body.String(), "edgeauth migrate") {
		t.Fatalf("readyz before migrations: %d %s", w.Code, w.Body)
	}
	if err := migrations.Apply(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if w := get("/readyz"); w.Code != 200 {
		t.Fatalf("readyz after migrations: %d %s", w.Code, w.Body)
	}
	// A newer release migrated further (a rolling upgrade): this replica is the one to
	// upgrade; `edgeauth migrate` would not help.
	if _, err := pool.Exec(ctx, `UPDATE `+migrations.VersionTable+` SET version = version + 1`); err != nil {
		t.Fatal(err)
	}
	if w := get("/readyz"); w.Code != 503 || !strings.Contains(w.Body.String(), "newer than this binary") || strings.Contains(w.Body.String(), "edgeauth migrate") {
		t.Fatalf("readyz on a newer schema: %d %s", w.Code, w.Body)
	}
	pool.Close()
	if w := get("/readyz"); w.Code != 503 {
		t.Fatalf("readyz with the database gone: %d %s", w.Code, w.Body)
	}
}

// The JWKS and the revocation list carry Cache-Control and an ETag, and answer 304
// to a matching If-None-Match.
func TestPublishedDocumentsETag(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	for _, tc := range []struct {
		path, maxAge, contentType string
	}{
		{"/.well-known/jwks.json", "max-age=600", "application/jwk-set+json"},
		{"/.well-known/edgeauth/revocations", "max-age=30", "application/jwt"},
		{"/.well-known/edgeauth/edge-config", "max-age=600", "application/json"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			r := e.do(req{method: "GET", path: tc.path})
			etag := r.Header.Get("ETag")
			if r.StatusCode != 200 || etag == "" || r.Header.Get("Cache-Control") != "public, "+tc.maxAge || r.Header.Get("Content-Type") != tc.contentType || len(r.body) == 0 {
				t.Fatalf("%d %v", r.StatusCode, r.Header)
			}
			for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
				r := e.do(req{method: "GET", path: tc.path, header: map[string]string{"If-None-Match": inm}})
				if r.StatusCode != http.StatusNotModified || len(r.body) != 0 || r.Header.Get("ETag") != etag {
					t.Fatalf("If-None-Match %s: %d", inm, r.StatusCode)
				}
			}
			if r := e.do(req{method: "GET", path: tc.path, header: map[string]string{"If-None-Match": `"stale"`}}); r.StatusCode != 200 {
				t.Fatalf("stale ETag: %d", r.StatusCode)
			}
		})
	}
}

func TestSignup(t *testing.T) {
	t.Parallel()
	t.Run("disabled by default", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, envOptions{})
		r := e.do(req{method: "POST", path: "/auth/signup", body: `{"email":"new@example.test","password":"long enough password"}`})
		if r.StatusCode != 404 || r.errorCode() != "signup_disabled" {
			t.Fatalf("%d %s", r.StatusCode, r.body)
		}
		if c := e.counts("users"); c["users"] != 0 {
			t.Fatal(c)
		}
	})
	t.Run("enabled: account created and logged in", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, envOptions{mod: func(c *config.Config) { c.Signup = true }})
		r := e.do(req{method: "POST", path: "/auth/signup", body: `{"email":"new@example.test","password":"long enough password"}`})
		if r.StatusCode != 201 || r.cookie(e.cfg.AccessCookie().Name) == nil || !strings.Contains(string(r.body), "new@example.test") {
			t.Fatalf("%d %s", r.StatusCode, r.body)
		}
		if r := e.do(req{method: "GET", path: "/auth/me", cookies: []*http.Cookie{r.cookie(e.cfg.AccessCookie().Name)}}); r.StatusCode != 200 {
			t.Fatalf("me: %d", r.StatusCode)
		}
	})
}

// Token-in-body mode returns the tokens for server-to-server clients; the default
// never does (checked in TestFullFlowCookieAttributes).
func TestTokenInBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{mod: func(c *config.Config) { c.TokenInBody = true }})
	e.createUser(testEmail, testPassword)
	r := e.do(req{method: "POST", path: "/auth/login", body: `{"email":"` + testEmail + `","password":"` + testPassword + `"}`})
	var b struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		TokenType    string `json:"token_type"`
	}
	r.decode(t, &b)
	if r.StatusCode != 200 || b.AccessToken != r.cookie(e.cfg.AccessCookie().Name).Value || b.RefreshToken == "" || b.TokenType != "Bearer" {
		t.Fatalf("%d %s", r.StatusCode, r.body)
	}
	if r := e.do(req{method: "GET", path: "/auth/me", header: map[string]string{"Authorization": "Bearer " + b.AccessToken}}); r.StatusCode != 200 {
		t.Fatalf("bearer: %d", r.StatusCode)
	}
}

// Every response carries the security headers; token responses are never cached.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	r := e.do(req{method: "GET", path: "/auth/me"})
	for k, v := range map[string]string{
		"X-Content-Type-Options":    "nosniff",
		"X-Frame-Options":           "DENY",
		"Referrer-Policy":           "no-referrer",
		"Cache-Control":             "no-store",
		"Strict-Transport-Security": "max-age=63072000",
		"Content-Security-Policy":   "default-src 'none'; frame-ancestors 'none'",
	} {
		if got := r.Header.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	if r.Header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id")
	}
	if !strings.Contains(e.logs.String(), `"request_id":"`+r.Header.Get("X-Request-Id")+`"`) {
		t.Error("request id not logged")
	}
	// The latency histogram is labelled by route pattern, not by raw path.
	e.do(req{method: "GET", path: "/auth/sessions/abc"})
	m := e.scrape()
	for _, want := range []string{
		`edgeauth_http_request_duration_seconds_count{code="4xx",method="GET",route="GET /auth/me"} 1`,
		`edgeauth_http_request_duration_seconds_count{code="4xx",method="GET",route="unmatched"} 1`,
		"\nedgeauth_refresh_groups_total ", // the store's groups, read at scrape (counted in store's tests)
		"\nedgeauth_refresh_grouped_total ",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// edgeauth_session_revocations_total counts sessions revoked, each once, under the
// reason that revoked it: a logout of a session that a logout-all had already ended
// (another device signed out everywhere, then this one clicks "log out") revokes
// nothing and adds nothing.
func TestRevocationMetricCountsEachSessionOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.createUser(testEmail, testPassword)
	accessA, _ := e.login(testEmail, testPassword)
	accessB, refreshB := e.login(testEmail, testPassword)
	if r := e.do(req{method: "POST", path: "/auth/logout-all", cookies: []*http.Cookie{accessA}}); r.StatusCode != 200 {
		t.Fatalf("logout-all: %d %s", r.StatusCode, r.body)
	}
	if r := e.do(req{method: "POST", path: "/auth/logout", cookies: []*http.Cookie{accessB, refreshB}}); r.StatusCode != 204 {
		t.Fatalf("logout of a session already ended: %d %s", r.StatusCode, r.body)
	}
	m := e.scrape()
	if !strings.Contains(m, `edgeauth_session_revocations_total{reason="logout_all"} 2`) ||
		strings.Contains(m, `edgeauth_session_revocations_total{reason="logout"}`) {
		t.Fatalf("two sessions, both ended by the logout-all; the metrics say:\n%s", grepLines(m, "edgeauth_session_revocations_total"))
	}
	_, refreshC := e.login(testEmail, testPassword)
	if r := e.do(req{method: "POST", path: "/auth/logout", cookies: []*http.Cookie{refreshC}}); r.StatusCode != 204 {
		t.Fatalf("logout: %d %s", r.StatusCode, r.body)
	}
	if m := e.scrape(); !strings.Contains(m, `edgeauth_session_revocations_total{reason="logout"} 1`) {
		t.Fatalf("a logout that revoked its session; the metrics say:\n%s", grepLines(m, "edgeauth_session_revocations_total"))
	}
}

// grepLines returns the lines of s that start with prefix.
func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Package cptest starts a real control plane for tests: app.New on its own PostgreSQL
// database (internal/pgtest), with its background loops (key lifecycle, the revocation
// list's LISTEN), served over HTTP on 127.0.0.1, and signs users in through its HTTP
// API as a browser or an API client would.
package cptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/app"
	"github.com/edgeauth/edgeauth/controlplane/auth"
	"github.com/edgeauth/edgeauth/controlplane/config"
	"github.com/edgeauth/edgeauth/internal/pgtest"
	"github.com/edgeauth/edgeauth/migrations"
	"github.com/jackc/pgx/v5/pgxpool"
)

// KEK is the key-encryption key test control planes seal their signing keys with.
const KEK = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

// Options tune Start. The zero value is a development-mode control plane (plain
// HTTP, cookies without prefixes) whose public URL is its own address.
type Options struct {
	// PublicURL is the control plane's public URL (issuer, audience, cookie origin);
	// default its own http://127.0.0.1:port.
	PublicURL string
	// DatabaseURL is an empty or migrated database to use; default a fresh one.
	DatabaseURL string
	// Configure changes the configuration before it is validated.
	Configure func(*config.Config)
	Now       func() time.Time
	Logger    *slog.Logger // default: discard
	// RevocationListBytes bounds the session ids its revocation list names
	// (app.Options); the default when 0.
	RevocationListBytes int
}

// ControlPlane is one running control plane.
type ControlPlane struct {
	URL    string // where it listens
	Config config.Config
	App    *app.App
	Server *httptest.Server
}

// Start starts a control plane; everything is stopped when the test ends.
func Start(t testing.TB, o Options) *ControlPlane {
	t.Helper()
	ctx := context.Background()
	if o.DatabaseURL == "" {
		o.DatabaseURL = pgtest.NewDatabase(t)
	}
	srv := httptest.NewUnstartedServer(nil)
	cp := &ControlPlane{URL: "http://" + srv.Listener.Addr().String(), Server: srv}
	cfg := config.Default()
	cfg.Dev = true
	cfg.PublicURL = cp.URL
	if o.PublicURL != "" {
		cfg.PublicURL = o.PublicURL
	}
	cfg.Keys.KEK = KEK
	cfg.DatabaseURL = o.DatabaseURL
	if o.Configure != nil {
		o.Configure(&cfg)
	}
	// The pool the binary makes (config.PoolConfig: its size, and statements cancelled
	// in PostgreSQL when a request gives up), so that what these tests see is what runs.
	pc, err := cfg.PoolConfig()
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := migrations.Apply(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	cp.App, err = app.New(ctx, cfg, app.Options{Pool: pool, Logger: o.Logger, Now: o.Now, RevocationListBytes: o.RevocationListBytes})
	if err != nil {
		t.Fatal(err)
	}
	cp.Config = cp.App.Config
	cp.App.Start(ctx)
	t.Cleanup(cp.App.Close)
	srv.Config.Handler = cp.App.Handler
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(cp.App.Revocations.EndStreams) // before srv.Close, which waits for every request
	return cp
}

// CreateUser makes a user with the given password (and roles).
func (cp *ControlPlane) CreateUser(t testing.TB, email, password string, roles ...string) auth.User {
	t.Helper()
	u, err := cp.App.Auth.CreateUser(context.Background(), auth.NewUser{Email: email, Password: password, Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Login is one signed-in device: the cookies the control plane set.
type Login struct {
	SessionID string
	Access    *http.Cookie
	Refresh   *http.Cookie
}

// Cookies returns both cookies, for a Cookie header or a jar.
func (l Login) Cookies() []*http.Cookie { return []*http.Cookie{l.Access, l.Refresh} }

// Header is a Cookie header carrying both cookies.
func (l Login) Header() string {
	return l.Access.Name + "=" + l.Access.Value + "; " + l.Refresh.Name + "=" + l.Refresh.Value
}

// Login signs in through POST /auth/login with the given User-Agent.
func (cp *ControlPlane) Login(t testing.TB, email, password, userAgent string) Login {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	resp := cp.Do(t, http.MethodPost, "/auth/login", body, http.Header{"User-Agent": {userAgent}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("cptest: login %s: %s", email, resp.Status)
	}
	return cp.signedIn(t, resp)
}

// ChangePassword changes the password through POST /auth/password from the device l,
// and returns the session that replaces l's.
func (cp *ControlPlane) ChangePassword(t testing.TB, l Login, current, next string) Login {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"current_password": current, "new_password": next})
	resp := cp.Do(t, http.MethodPost, "/auth/password", body, http.Header{"Cookie": {l.Header()}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("cptest: password change: %s", resp.Status)
	}
	return cp.signedIn(t, resp)
}

// signedIn reads the session a successful answer started: its id and cookies.
func (cp *ControlPlane) signedIn(t testing.TB, resp *http.Response) Login {
	t.Helper()
	var out struct {
		SessionID string `json:"session_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	l := Login{SessionID: out.SessionID}
	for _, c := range resp.Cookies() {
		switch c.Name {
		case cp.Config.AccessCookie().Name:
			l.Access = c
		case cp.Config.RefreshCookie().Name:
			l.Refresh = c
		}
	}
	if l.Access == nil || l.Refresh == nil || l.SessionID == "" {
		t.Fatal("cptest: cookies or session id missing from the answer")
	}
	return l
}

// Do sends a request to the control plane as a same-origin browser would (Origin set
// on state-changing methods, JSON content type when there is a body). The body is
// read into memory, so the caller need not close it.
func (cp *ControlPlane) Do(t testing.TB, method, path string, body []byte, h http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, cp.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if method != http.MethodGet && method != http.MethodHead {
		req.Header.Set("Origin", cp.Config.PublicOrigin())
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp
}

// As sends a request with a login's cookies.
func (cp *ControlPlane) As(t testing.TB, l Login, method, path string) *http.Response {
	t.Helper()
	return cp.Do(t, method, path, nil, http.Header{"Cookie": {l.Header()}})
}

// noRedirects shows the control plane's redirects (GET /auth/refresh) instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

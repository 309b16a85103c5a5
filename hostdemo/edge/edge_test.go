package edge_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/app"
	"github.com/edgeauth/edgeauth/controlplane/auth"
	"github.com/edgeauth/edgeauth/controlplane/config"
	"github.com/edgeauth/edgeauth/hostdemo/edge"
	"github.com/edgeauth/edgeauth/internal/pgtest"
	"github.com/edgeauth/edgeauth/keys"
	"github.com/edgeauth/edgeauth/migrations"
	"github.com/edgeauth/edgeauth/sessionauth"
	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/wasmhost"
	"github.com/jackc/pgx/v5/pgxpool"
)

// world is a browser's view of one site: an edge (the gate in front of a small app,
// forwarding /auth/ and /.well-known/ to the control plane) and a real control plane
// on its own PostgreSQL database.
type world struct {
	t       *testing.T
	edgeURL string
	cp      *app.App
	cpSrv   *httptest.Server
	source  *sessionauth.Source
	clock   atomic.Int64 // offset added to the edge's clock, in seconds
	browser *http.Client
	seen    atomic.Value // headers the app last received
}

func newWorld(t *testing.T, engine verifier.Engine) *world {
	t.Helper()
	w := &world{t: t}
	return setupWorld(w, engine, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.seen.Store(r.Header.Clone())
		io.WriteString(rw, "app: "+r.URL.Path)
	}))
}

func setupWorld(w *world, engine verifier.Engine, appHandler http.Handler) *world {
	t := w.t
	t.Helper()
	ctx := context.Background()

	pool, err := pgxpool.New(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := migrations.Apply(ctx, pool); err != nil {
		t.Fatal(err)
	}

	front := httptest.NewUnstartedServer(nil)
	w.edgeURL = "http://" + front.Listener.Addr().String()

	cfg := config.Default()
	cfg.Dev = true // plain HTTP on 127.0.0.1: cookies without Secure and without prefixes
	cfg.PublicURL = w.edgeURL
	cfg.Keys.KEK = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	w.cp, err = app.New(ctx, cfg, app.Options{Pool: pool, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	w.cp.Start(ctx) // key lifecycle and the revocation list's LISTEN loop
	t.Cleanup(w.cp.Close)
	w.cpSrv = httptest.NewServer(w.cp.Handler)
	t.Cleanup(w.cpSrv.Close)

	// The gate starts from the control plane's published edge configuration and adds
	// this edge's routes.
	configurator := &edge.Configurator{URL: w.cpSrv.URL + edge.EdgeConfigPath, Engine: engine, Local: verifier.LocalConfig{
		AfterLoginPath: "/app/",
		PublicPaths:    []string{"/", "/auth/", "/.well-known/"},
		Protected:      []verifier.ProtectedRoute{{Prefix: "/app/"}, {Prefix: "/admin/", Roles: []string{"admin"}}},
		CacheEntries:   64,
	}}
	if changed, err := configurator.Sync(ctx); err != nil || !changed {
		t.Fatalf("edge configuration: changed %v, %v", changed, err)
	}
	if changed, err := configurator.Sync(ctx); err != nil || changed {
		t.Fatalf("edge configuration again (ETag): changed %v, %v", changed, err)
	}
	edgeNow := func() time.Time { return time.Now().Add(time.Duration(w.clock.Load()) * time.Second) }
	w.source, err = sessionauth.NewSource(sessionauth.SourceConfig{
		ControlPlane: w.cpSrv.URL, Issuer: cfg.Issuer, Algorithms: []string{"EdDSA"},
		Engine: engine, MaxStale: 5 * time.Minute, RefetchCooldown: time.Second,
		Now: edgeNow, Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.source.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	cpURL, _ := url.Parse(w.cpSrv.URL)
	toControlPlane := httputil.NewSingleHostReverseProxy(cpURL)
	gate := &edge.Gate{Engine: engine, Source: w.source, Upstream: appHandler, Now: edgeNow, Logger: quiet}
	mux := http.NewServeMux()
	mux.Handle("/auth/", toControlPlane)
	mux.Handle("/.well-known/", toControlPlane)
	mux.Handle("/", gate)
	front.Config.Handler = mux
	front.Start()
	t.Cleanup(front.Close)

	jar, _ := cookiejar.New(nil)
	w.browser = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return w
}

func (w *world) do(method, path, body string, header http.Header) *http.Response {
	w.t.Helper()
	req, err := http.NewRequest(method, w.edgeURL+path, strings.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if method != http.MethodGet {
		req.Header.Set("Origin", w.edgeURL)
	}
	resp, err := w.browser.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func (w *world) login(email, password string) {
	w.t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	if resp := w.do(http.MethodPost, "/auth/login", string(body), nil); resp.StatusCode != http.StatusOK {
		w.t.Fatalf("login: %s", resp.Status)
	}
}

func (w *world) accessCookie() *http.Cookie {
	u, _ := url.Parse(w.edgeURL + "/")
	for _, c := range w.browser.Jar.Cookies(u) {
		if c.Name == w.cp.Config.AccessCookie().Name {
			return c
		}
	}
	return nil
}

func eachEngine(t *testing.T, fn func(t *testing.T, e verifier.Engine)) {
	t.Run("go", func(t *testing.T) {
		e := verifier.NewNative()
		t.Cleanup(func() { e.Close(context.Background()) })
		fn(t, e)
	})
	t.Run("wasm", func(t *testing.T) {
		e, err := wasmhost.NewEmbedded(context.Background(), wasmhost.Options{PoolSize: 2})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close(context.Background()) })
		fn(t, e)
	})
}

// The whole product from a browser's side: the gate sends an anonymous visitor to
// the login page, lets the signed-in user through with identity headers the client
// cannot forge, refuses a missing role, picks up a rotated key by itself, refuses the
// old cookie once the logout reaches it through the revocation list, and fails
// closed when the control plane has been unreachable for too long.
func TestEdgeInFrontOfControlPlane(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine verifier.Engine) {
		w := newWorld(t, engine)
		ctx := context.Background()
		user, err := w.cp.Auth.CreateUser(ctx, auth.NewUser{Email: "ada@example.test", Password: "correct horse battery staple"})
		if err != nil {
			t.Fatal(err)
		}

		resp := w.do(http.MethodGet, "/app/report?year=2026", "", nil)
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/login?return_to=%2Fapp%2Freport%3Fyear%3D2026" {
			t.Fatalf("anonymous: %s to %q", resp.Status, resp.Header.Get("Location"))
		}
		if resp := w.do(http.MethodGet, "/", "", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("public page: %s", resp.Status)
		}

		w.login("ada@example.test", "correct horse battery staple")
		resp = w.do(http.MethodGet, "/app/report", "", http.Header{"X-Edgeauth-Roles": {"admin"}, "X-Edgeauth-Subject": {"mallory"}})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("signed in: %s", resp.Status)
		}
		seen := w.seen.Load().(http.Header)
		if seen.Get(verifier.HeaderSubject) != user.ID || seen.Get(verifier.HeaderRoles) != "" || seen.Get(verifier.HeaderSession) == "" {
			t.Fatalf("identity headers at the app: %v", seen)
		}
		if resp := w.do(http.MethodGet, "/admin/", "", nil); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("missing role: %s", resp.Status)
		}

		// An immediate rotation: the next login's token names a kid this edge has not
		// polled; the gate refetches once and lets it through.
		if _, err := w.cp.Keys.Rotate(ctx, keys.RotateOptions{Immediate: true}); err != nil {
			t.Fatal(err)
		}
		w.login("ada@example.test", "correct horse battery staple")
		if resp := w.do(http.MethodGet, "/app/after-rotation", "", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("token from a rotated key: %s", resp.Status)
		}

		stolen := w.accessCookie()
		if stolen == nil {
			t.Fatal("no access cookie after login")
		}
		if resp := w.do(http.MethodPost, "/auth/logout", "", nil); resp.StatusCode/100 != 2 {
			t.Fatalf("logout: %s", resp.Status)
		}
		// The edge's next polls: the control plane rebuilds its list when PostgreSQL
		// notifies it of the revocation, so allow it a moment.
		for deadline := time.Now().Add(10 * time.Second); ; {
			if err := w.source.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			resp = w.do(http.MethodGet, "/app/report", "", http.Header{"Cookie": {stolen.Name + "=" + stolen.Value}})
			if resp.StatusCode != http.StatusOK || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "/login?") {
			t.Fatalf("revoked session's cookie: %s to %q", resp.Status, resp.Header.Get("Location"))
		}
		cleared := false
		for _, sc := range resp.Header.Values("Set-Cookie") {
			cleared = cleared || (strings.HasPrefix(sc, stolen.Name+"=;") && strings.Contains(sc, "Max-Age=0") && strings.Contains(sc, "Path=/"))
		}
		if !cleared {
			t.Fatalf("revoked cookie not cleared: %q", resp.Header.Values("Set-Cookie"))
		}

		// Control plane gone: the last good keys serve until MaxStale, then the gate
		// refuses everything rather than trusting keys and revocations of unknown age.
		w.cpSrv.Close()
		if err := w.source.Sync(ctx); err == nil {
			t.Fatal("sync with the control plane down succeeded")
		}
		if resp := w.do(http.MethodGet, "/", "", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("within MaxStale: %s", resp.Status)
		}
		w.clock.Store(int64((6 * time.Minute).Seconds()))
		if resp := w.do(http.MethodGet, "/", "", nil); resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("past MaxStale: %s, want 503", resp.Status)
		}
	})
}

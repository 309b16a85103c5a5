package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/app"
	"github.com/edgeauth/edgeauth/controlplane/auth"
	"github.com/edgeauth/edgeauth/controlplane/config"
	"github.com/edgeauth/edgeauth/internal/pgtest"
	"github.com/edgeauth/edgeauth/internal/syncbuf"
	"github.com/edgeauth/edgeauth/migrations"
	"github.com/jackc/pgx/v5/pgxpool"
)

const (
	testPublicURL = "https://auth.example.test"
	testEmail     = "ada@example.test"
	testPassword  = "correct horse battery staple"
)

// clock is a settable test clock shared by every component.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// env is one control plane on its own database, served over HTTP on 127.0.0.1. Every
// exchange through hc is checked against openapi.yaml (contractTransport).
type env struct {
	t    testing.TB
	cfg  config.Config
	app  *app.App
	srv  *httptest.Server
	ops  *httptest.Server // the operations listener (metrics)
	pool *pgxpool.Pool
	logs *syncbuf.Buffer
	hc   *http.Client
}

type envOptions struct {
	mod   func(*config.Config)
	clock *clock
	start bool // run the background loops (revocation LISTEN, key lifecycle)
	// quiet discards logs (benchmarks).
	quiet bool
	// dbURL is an empty database to use instead of a fresh one on the shared server.
	dbURL string
	// listBytes bounds the session ids the revocation list names (0: the default).
	listBytes int
}

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	ctx := context.Background()
	var pool *pgxpool.Pool
	if o.dbURL == "" {
		pool = pgtest.NewPool(t)
	} else {
		// As the binary makes it (config.PoolConfig).
		c := config.Default()
		c.DatabaseURL = o.dbURL
		pc, err := c.PoolConfig()
		if err != nil {
			t.Fatal(err)
		}
		if pool, err = pgxpool.NewWithConfig(ctx, pc); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		if err := migrations.Apply(ctx, pool); err != nil {
			t.Fatal(err)
		}
	}
	cfg := config.Default()
	cfg.PublicURL = testPublicURL
	cfg.Keys.KEK = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	if o.mod != nil {
		o.mod(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	logs := &syncbuf.Buffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if o.quiet {
		logger = slog.New(slog.DiscardHandler)
	}
	opts := app.Options{Logger: logger, Pool: pool, RevocationListBytes: o.listBytes}
	if o.clock != nil {
		opts.Now = o.clock.Now
	}
	a, err := app.New(ctx, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if o.start {
		a.Start(ctx)
	}
	t.Cleanup(a.Close)
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	ops := httptest.NewServer(a.Handler.Ops())
	t.Cleanup(ops.Close)
	return &env{t: t, cfg: cfg, app: a, srv: srv, ops: ops, pool: pool, logs: logs, hc: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &contractTransport{t: t, next: &http.Transport{MaxIdleConnsPerHost: 128}, accessCookie: cfg.AccessCookie().Name},
	}}
}

func (e *env) createUser(email, password string) auth.User {
	e.t.Helper()
	u, err := e.app.Auth.CreateUser(context.Background(), auth.NewUser{Email: email, Password: password})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// req describes one request. Origin defaults to the public origin on state-changing
// methods (as a browser on the app would send it); set NoOrigin to leave it out.
type req struct {
	method, path string
	body         string
	contentType  string
	header       map[string]string
	cookies      []*http.Cookie
	noOrigin     bool
	added        http.Header // added after the others: a header sent more than once
}

type resp struct {
	*http.Response
	body []byte
}

// errorCode returns the "code" of an error body.
func (r resp) errorCode() string {
	var b struct {
		Error struct{ Code, Message string }
	}
	_ = json.Unmarshal(r.body, &b)
	return b.Error.Code
}

func (r resp) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

// setCookie returns the Set-Cookie header line for name, or "".
func (r resp) setCookie(name string) string {
	for _, v := range r.Header.Values("Set-Cookie") {
		if strings.HasPrefix(v, name+"=") {
			return v
		}
	}
	return ""
}

func (r resp) cookie(name string) *http.Cookie {
	for _, c := range r.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (e *env) do(q req) resp {
	e.t.Helper()
	return e.doAt(e.srv.URL, q)
}

// scrape returns the metrics served on the operations listener.
func (e *env) scrape() string {
	e.t.Helper()
	r := e.doAt(e.ops.URL, req{method: "GET", path: "/metrics"})
	if r.StatusCode != 200 {
		e.t.Fatalf("metrics: %d %s", r.StatusCode, r.body)
	}
	return string(r.body)
}

func (e *env) doAt(base string, q req) resp {
	e.t.Helper()
	var body io.Reader
	if q.body != "" {
		body = strings.NewReader(q.body)
	}
	r, err := http.NewRequest(q.method, base+q.path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if q.contentType != "" {
		r.Header.Set("Content-Type", q.contentType)
	} else if q.body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if !q.noOrigin && q.method != http.MethodGet {
		r.Header.Set("Origin", e.cfg.PublicOrigin())
	}
	r.Header.Set("User-Agent", "edgeauth-test")
	for k, v := range q.header {
		r.Header.Set(k, v)
	}
	for _, c := range q.cookies {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	for k, vs := range q.added {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	res, err := e.hc.Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{res, b}
}

// login logs the test user in and returns the access and refresh cookies.
func (e *env) login(email, password string) (access, refresh *http.Cookie) {
	e.t.Helper()
	r := e.do(req{method: "POST", path: "/auth/login", body: `{"email":` + jsonString(email) + `,"password":` + jsonString(password) + `}`})
	if r.StatusCode != 200 {
		e.t.Fatalf("login: %d %s", r.StatusCode, r.body)
	}
	access, refresh = r.cookie(e.cfg.AccessCookie().Name), r.cookie(e.cfg.RefreshCookie().Name)
	if access == nil || refresh == nil {
		e.t.Fatalf("login set %v", r.Header.Values("Set-Cookie"))
	}
	return access, refresh
}

// sessionID returns the session of a live access cookie (from GET /auth/session).
func (e *env) sessionID(access *http.Cookie) string {
	e.t.Helper()
	var in struct{ Sid string }
	r := e.do(req{method: "GET", path: "/auth/session", cookies: []*http.Cookie{access}})
	if r.StatusCode != 200 {
		e.t.Fatalf("introspection: %d %s", r.StatusCode, r.body)
	}
	if err := json.Unmarshal(r.body, &in); err != nil {
		e.t.Fatal(err)
	}
	return in.Sid
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// waitUntil polls cond until it holds, failing the test after timeout: for events of
// other goroutines or processes (a NOTIFY, a server coming up), never for time to pass.
// requestLog waits for the access-log line of the request r answered (by its
// X-Request-Id) and returns it.
func (e *env) requestLog(t testing.TB, r resp) string {
	t.Helper()
	id := r.Header.Get("X-Request-Id")
	var line string
	waitUntil(t, 5*time.Second, func() bool {
		for l := range strings.Lines(e.logs.String()) {
			if strings.Contains(l, `"request_id":"`+id+`"`) {
				line = l
				return true
			}
		}
		return false
	})
	return line
}

func waitUntil(t testing.TB, timeout time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("condition not reached within %v", timeout)
		}
	}
}

// counts returns the number of rows of each table (and the pseudo-tables live_sessions
// and rotations), to show a request changed nothing.
func (e *env) counts(tables ...string) map[string]int {
	e.t.Helper()
	out := map[string]int{}
	for _, tb := range tables {
		var n int
		q := "SELECT count(*) FROM " + tb
		if tb == "live_sessions" {
			q = "SELECT count(*) FROM sessions WHERE revoked_at IS NULL"
		}
		if tb == "rotations" { // refreshes that rotated, over every session
			q = "SELECT coalesce(sum(generation - 1), 0) FROM sessions"
		}
		if err := e.pool.QueryRow(context.Background(), q).Scan(&n); err != nil {
			e.t.Fatal(err)
		}
		out[tb] = n
	}
	return out
}

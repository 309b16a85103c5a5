package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/app"
	"github.com/edgeauth/edgeauth/controlplane/auth"
	"github.com/edgeauth/edgeauth/controlplane/config"
	"github.com/edgeauth/edgeauth/internal/pgtest"
	"github.com/edgeauth/edgeauth/internal/syncbuf"
	"github.com/edgeauth/edgeauth/migrations"
	"github.com/edgeauth/edgeauth/verifier"
	"github.com/jackc/pgx/v5/pgxpool"
)

// binary is the hostdemo executable, built from this package once per test run: the
// tests here drive the real binary, flags and all, as a user runs it.
var binary string

func TestMain(m *testing.M) {
	if os.Getenv("HOSTDEMO_TEST_CGI") == "1" {
		cgiEcho()
		return
	}
	dir, err := os.MkdirTemp("", "hostdemo-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "hostdemo")
	build := exec.Command("go", "build", "-o", binary, ".") // go test puts its own go first on PATH
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building hostdemo:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := pgtest.Main(m) // drops the migrated template database the tests clone
	os.RemoveAll(dir)
	os.Exit(code)
}

// cgiEcho is a CGI program (this test binary, run by net/http/cgi): it answers with
// every environment variable whose name mentions EDGEAUTH, the way a CGI, WSGI or PHP
// app reads request headers (HTTP_ + name upper-cased, '-' as '_').
func cgiEcho() {
	seen := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, _ := strings.Cut(kv, "="); strings.Contains(k, "EDGEAUTH") {
			seen[k] = v
		}
	}
	body, _ := json.Marshal(seen)
	fmt.Printf("Content-Type: application/json\r\n\r\n%s", body)
}

// cgiApp serves cgiEcho through net/http/cgi.
func cgiApp(t *testing.T) string {
	srv := httptest.NewServer(&cgi.Handler{Path: os.Args[0], Env: []string{"HOSTDEMO_TEST_CGI=1"}})
	t.Cleanup(srv.Close)
	return srv.URL
}

// demo is a running hostdemo binary in front of a real control plane (in process, on
// its own PostgreSQL database), seen from a client with a cookie jar.
type demo struct {
	t       *testing.T
	url     string // the edge's origin, also the control plane's public URL
	cp      *app.App
	pool    *pgxpool.Pool // the control plane's database
	browser *http.Client
	logs    *syncbuf.Buffer // the binary's stderr
}

type demoOptions struct {
	// cp adjusts the control plane's configuration (development mode, public URL = the
	// edge's origin, are set before).
	cp func(*config.Config)
	// args are extra hostdemo flags (--upstream, --routes, timeouts).
	args []string
	// cpHandler, when set, wraps the control plane's handler (to see what the edge
	// forwards to it).
	cpHandler func(http.Handler) http.Handler
	// listBytes bounds the session ids the control plane's revocation list names.
	listBytes int
}

func startDemo(t *testing.T, o demoOptions) *demo {
	t.Helper()
	ctx := context.Background()
	d := &demo{t: t, logs: &syncbuf.Buffer{}}

	// The edge's address must be known before the control plane starts: it is the
	// public URL cookies, CSRF checks and tokens are issued for.
	addr := freeAddr(t)
	d.url = "http://" + addr

	pool, err := pgxpool.New(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	d.pool = pool
	if err := migrations.Apply(ctx, pool); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Dev, cfg.PublicURL = true, d.url
	if o.cp != nil {
		o.cp(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	d.cp, err = app.New(ctx, cfg, app.Options{Pool: pool, Logger: slog.New(slog.DiscardHandler), RevocationListBytes: o.listBytes})
	if err != nil {
		t.Fatal(err)
	}
	d.cp.Start(ctx)
	t.Cleanup(d.cp.Close)
	var cpHandler http.Handler = d.cp.Handler
	if o.cpHandler != nil {
		cpHandler = o.cpHandler(cpHandler)
	}
	cpSrv := httptest.NewServer(cpHandler)
	t.Cleanup(cpSrv.Close)

	args := append([]string{"--control-plane", cpSrv.URL, "--listen", addr, "--poll", "1s"}, o.args...)
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = d.logs, d.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("hostdemo output:\n%s", d.logs.String())
		}
	})

	jar, _ := cookiejar.New(nil)
	d.browser = &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// Ready once the gate answers something else than 503 (configuration and keys
	// loaded from the control plane).
	for deadline := time.Now().Add(60 * time.Second); ; {
		select {
		case <-exited:
			t.Fatalf("hostdemo exited:\n%s", d.logs.String())
		default:
		}
		resp, err := http.Get(d.url + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("hostdemo not ready (last: %v):\n%s", err, d.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return d
}

// do sends a request as the browser (cookie jar, no redirects followed) and returns the
// response with its body read.
func (d *demo) do(method, path string, body string, header http.Header) (*http.Response, string) {
	d.t.Helper()
	req, err := http.NewRequest(method, d.url+path, strings.NewReader(body))
	if err != nil {
		d.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if method == http.MethodPost && req.Header.Get("Origin") == "" {
		req.Header.Set("Origin", d.url)
	}
	resp, err := d.browser.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		d.t.Fatal(err)
	}
	return resp, string(b)
}

// demoPassword is the password of every user the tests create.
const demoPassword = "a long enough passphrase"

// createUser creates a user with roles on the control plane.
func (d *demo) createUser(email string, roles ...string) auth.User {
	d.t.Helper()
	u, err := d.cp.Auth.CreateUser(context.Background(), auth.NewUser{Email: email, Password: demoPassword, Roles: roles})
	if err != nil {
		d.t.Fatal(err)
	}
	return u
}

// signIn creates a user with roles and signs the client in through the edge.
func (d *demo) signIn(email string, roles ...string) auth.User {
	d.t.Helper()
	u := d.createUser(email, roles...)
	body, _ := json.Marshal(map[string]string{"email": email, "password": demoPassword})
	if resp, b := d.do(http.MethodPost, "/auth/login", string(body), nil); resp.StatusCode != http.StatusOK {
		d.t.Fatalf("login: %s %s", resp.Status, b)
	}
	return u
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

func (d *demo) cookieNames() []string {
	u, _ := url.Parse(d.url + "/")
	var names []string
	for _, c := range d.browser.Jar.Cookies(u) {
		names = append(names, c.Name)
	}
	return names
}

// hostdemo takes cookie names, issuer and paths from the control plane's published
// edge configuration: with cookies renamed on the control plane only, a signed-in
// browser is let through with its identity and an anonymous one sent to login.
func TestBinaryStartsFromTheControlPlanesEdgeConfig(t *testing.T) {
	d := startDemo(t, demoOptions{cp: func(c *config.Config) {
		c.Cookies.AccessName, c.Cookies.RefreshName = "shop_session", "shop_refresh"
	}})
	if resp, _ := d.do(http.MethodGet, "/app/orders", "", nil); resp.StatusCode != http.StatusFound ||
		resp.Header.Get("Location") != "/login?return_to=%2Fapp%2Forders" {
		t.Fatalf("anonymous: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	u := d.signIn("ada@example.test")
	if names := strings.Join(d.cookieNames(), ","); names != "shop_session" {
		t.Fatalf("cookies after login: %s", names)
	}
	resp, body := d.do(http.MethodGet, "/app/orders", "", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<code id="subject">`+u.ID+`</code>`) {
		t.Fatalf("signed in: %s\n%s", resp.Status, body)
	}
}

// Issue 7, item 1: identity headers forged in another spelling (X_Edgeauth_Subject, any
// case) reached a CGI-style upstream, which reads them as the edge's. Through the
// binary in front of a real CGI program: an anonymous client's forged headers are all
// gone, and a signed-in client sees exactly the edge's four values (no appended role).
func TestBinaryStripsIdentityHeadersInEverySpelling(t *testing.T) {
	d := startDemo(t, demoOptions{args: []string{"--upstream", cgiApp(t)}})
	forged := http.Header{
		"X_Edgeauth_Subject":       {"mallory"},
		"X_EDGEAUTH_ROLES":         {"admin"},
		"x-edgeauth-session":       {"c2Vzc2lvbi1vZi1tYWxsb3J5"},
		"X-Edgeauth_Expires_At":    {"2099-01-01T00:00:00Z"},
		"X.Edgeauth.Roles":         {"admin"},
		"x_edgeauth_second_factor": {"true"},
		"Connection":               {"X-Edgeauth-Subject"},
	}
	env := func(path string) map[string]string {
		t.Helper()
		resp, body := d.do(http.MethodGet, path, "", forged)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s %s", path, resp.Status, body)
		}
		var seen map[string]string
		if err := json.Unmarshal([]byte(body), &seen); err != nil {
			t.Fatalf("CGI answer %q: %v", body, err)
		}
		return seen
	}

	if seen := env("/"); len(seen) != 0 {
		t.Fatalf("anonymous request: the CGI app reads %v", seen)
	}
	u := d.signIn("ada@example.test")
	seen := env("/app/report")
	if len(seen) != 5 || seen["HTTP_X_EDGEAUTH_SUBJECT"] != u.ID || seen["HTTP_X_EDGEAUTH_ROLES"] != "" ||
		seen["HTTP_X_EDGEAUTH_SECOND_FACTOR"] != "false" ||
		seen["HTTP_X_EDGEAUTH_SESSION"] == "" || seen["HTTP_X_EDGEAUTH_SESSION"] == forged["x-edgeauth-session"][0] ||
		seen["HTTP_X_EDGEAUTH_EXPIRES_AT"] == forged["X-Edgeauth_Expires_At"][0] {
		t.Fatalf("signed in as %s (no roles): the CGI app reads %v", u.ID, seen)
	}
}

// ABI.md, "Identity headers": an edge removes every client-sent spelling of them from
// every request it forwards. hostdemo forwarded /auth/ and /.well-known/ to the control
// plane past the gate, with whatever X-Edgeauth-* headers the client sent. Through the
// binary: the control plane receives none, on either route, and still answers.
func TestBinaryStripsIdentityHeadersOnTheWayToTheControlPlane(t *testing.T) {
	var mu sync.Mutex
	var reserved []string
	d := startDemo(t, demoOptions{cpHandler: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			for name, v := range r.Header {
				if verifier.IsReservedHeader(name) {
					reserved = append(reserved, r.URL.Path+" "+name+"="+strings.Join(v, ","))
				}
			}
			mu.Unlock()
			next.ServeHTTP(w, r)
		})
	}})
	forged := http.Header{"X-Edgeauth-Subject": {"mallory"}, "X_Edgeauth_Roles": {"admin"}, "X.Edgeauth.Session": {"s"}}
	for _, path := range []string{"/auth/session", "/.well-known/edgeauth/edge-config"} {
		if resp, body := d.do(http.MethodGet, path, "", forged); resp.StatusCode >= 500 {
			t.Fatalf("GET %s: %s %s", path, resp.Status, body)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reserved) != 0 {
		t.Fatalf("the control plane received %q", reserved)
	}
}

// recordingApp is an upstream that answers 200 and records the paths it was asked for.
func recordingApp(t *testing.T) (string, func() []string) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.EscapedPath())
		mu.Unlock()
		io.WriteString(w, "upstream")
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

// Issue 7, item 2: with a token lacking admin, /admin/ was refused but other spellings
// of it (letter case, trailing dot, encoded space, ...) were forwarded with the user's
// identity. Through the binary: every spelling is refused (403, or 400 for the ones no
// upstream should read) and never reaches the upstream, while an admin reaches them.
func TestBinaryProtectsEverySpellingOfAProtectedPath(t *testing.T) {
	upstream, seen := recordingApp(t)
	d := startDemo(t, demoOptions{args: []string{"--upstream", upstream}})
	d.signIn("member@example.test")
	before := len(seen()) // the readiness probes
	spellings := map[string]int{
		"/admin/":                        http.StatusForbidden,
		"/ADMIN/":                        http.StatusForbidden,
		"/Admin/users":                   http.StatusForbidden,
		"/admin./":                       http.StatusForbidden,
		"/admin%20/":                     http.StatusForbidden,
		"/admin%2e/":                     http.StatusForbidden,
		"/admin;x/":                      http.StatusForbidden,
		"/admin::$DATA/":                 http.StatusForbidden,
		"/%2561dmin/":                    http.StatusForbidden,
		"/adm%C4%B1n/":                   http.StatusForbidden,
		"/%EF%BD%81dmin/":                http.StatusForbidden,
		"/ad%C2%ADmin/":                  http.StatusForbidden,
		"/app/..%2Fadmin/":               http.StatusBadRequest,
		"/app/%2e%2e/admin/":             http.StatusBadRequest,
		"/admin%09/":                     http.StatusBadRequest,
		"/admin%00/":                     http.StatusBadRequest,
		"/%C0%AE%C0%AE/admin/":           http.StatusBadRequest,
		"/app/%EF%BC%8E%EF%BC%8E/admin/": http.StatusBadRequest,
	}
	for path, want := range spellings {
		if resp, body := d.do(http.MethodGet, path, "", nil); resp.StatusCode != want {
			t.Errorf("member GET %s: %s %q, want %d", path, resp.Status, body, want)
		}
	}
	if got := seen()[before:]; len(got) != 0 {
		t.Fatalf("the upstream was reached for %q", got)
	}
	if resp, _ := d.do(http.MethodGet, "/app/x", "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("member GET /app/x: %s", resp.Status)
	}

	admin := startDemo(t, demoOptions{args: []string{"--upstream", upstream}})
	admin.signIn("root@example.test", "admin")
	for _, path := range []string{"/ADMIN/", "/admin./", "/adm%C4%B1n/"} {
		if resp, body := admin.do(http.MethodGet, path, "", nil); resp.StatusCode != http.StatusOK || body != "upstream" {
			t.Errorf("admin GET %s: %s %q", path, resp.Status, body)
		}
	}
}

// A path with dot segments or "//" is not canonical: the edge refuses it (400
// invalid_path, README "How a request is decided"; ABI.md "Paths") rather than let
// http.ServeMux redirect it to its cleaned form, as the control plane answers such a
// path 404 rather than redirecting. Nothing reaches the upstream.
func TestBinaryRefusesDotSegmentsWithoutRedirecting(t *testing.T) {
	upstream, seen := recordingApp(t)
	d := startDemo(t, demoOptions{args: []string{"--upstream", upstream}})
	d.signIn("member@example.test")
	before := len(seen())
	for _, path := range []string{"/app/./x", "/app/../admin/", "/x/../app/", "/auth/../app/", "/.well-known/../admin/"} {
		resp, body := d.do(http.MethodGet, path, "", nil)
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("GET %s: %s, Location %q, %q; want 400 and no redirect", path, resp.Status, resp.Header.Get("Location"), body)
		}
	}
	if got := seen()[before:]; len(got) != 0 {
		t.Fatalf("the upstream was reached for %q", got)
	}
}

// Issue 7, item 15: a CORS preflight (OPTIONS, Origin, Access-Control-Request-Method,
// never credentials) on a protected path was redirected to the login page, so every
// cross-origin call failed before it started. Through the binary: the preflight
// reaches the upstream, which answers it with its CORS policy, and carries no identity
// (forged identity headers stripped); an OPTIONS with credentials is decided like any
// request.
func TestBinaryLetsPreflightsThroughWithoutIdentity(t *testing.T) {
	var mu sync.Mutex
	var got http.Header
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = r.Header.Clone()
		mu.Unlock()
		if r.Method == http.MethodOptions && r.Header.Get("Origin") == "https://spa.example" {
			w.Header().Set("Access-Control-Allow-Origin", "https://spa.example")
			w.Header().Set("Access-Control-Allow-Methods", "PUT")
			w.Header().Set("Access-Control-Allow-Credentials", "true")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		io.WriteString(w, "data")
	}))
	t.Cleanup(api.Close)
	d := startDemo(t, demoOptions{args: []string{"--upstream", api.URL}})
	preflight := http.Header{
		"Origin":                         {"https://spa.example"},
		"Access-Control-Request-Method":  {"PUT"},
		"Access-Control-Request-Headers": {"content-type"},
		"X_Edgeauth_Subject":             {"mallory"},
	}
	resp, _ := d.do(http.MethodOptions, "/app/items/7", "", preflight)
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "https://spa.example" {
		t.Fatalf("preflight: %s %v", resp.Status, resp.Header)
	}
	mu.Lock()
	seen := got
	mu.Unlock()
	for name := range seen {
		if verifier.IsReservedHeader(name) {
			t.Fatalf("the preflight reached the upstream with %s: %v", name, seen)
		}
	}
	// The same OPTIONS with the session's cookie is an ordinary request: a member
	// without admin is refused /admin/, and an anonymous GET still goes to login.
	d.signIn("member@example.test")
	if resp, _ := d.do(http.MethodOptions, "/admin/x", "", preflight); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("OPTIONS with a session cookie on /admin/: %s", resp.Status)
	}
	anon := startDemo(t, demoOptions{args: []string{"--upstream", api.URL}})
	if resp, _ := anon.do(http.MethodGet, "/app/items/7", "", nil); resp.StatusCode != http.StatusFound {
		t.Fatalf("anonymous GET: %s", resp.Status)
	}
}

// Issue 7, item 3: the edge had no body, write or idle timeouts (a body sent one byte
// every few seconds held a request open for minutes, an idle keep-alive connection
// lived on). Through the binary, with short timeouts: a slow body is cut off before it
// completes and never reaches the upstream whole, and a stuck upstream costs a 502
// (idle and unread connections: TestBinaryClosesIdleAndUnreadConnections). The
// deadlines below only keep a broken edge from hanging the test; nothing is timed.
func TestBinaryBoundsSlowClientsAndUpstreams(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var bodies []int
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stuck" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, len(b))
		mu.Unlock()
		io.WriteString(w, "upstream")
	}))
	t.Cleanup(func() { close(release); app.Close() })
	d := startDemo(t, demoOptions{args: []string{"--upstream", app.URL,
		"--read-timeout", "1s", "--idle-timeout", "1s", "--upstream-timeout", "1s"}})
	addr := strings.TrimPrefix(d.url, "http://")

	t.Run("slow body", func(t *testing.T) {
		conn := dialRaw(t, addr)
		const size = 40
		fmt.Fprintf(conn, "POST /upload HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n", addr, size)
		answered := make(chan string, 1)
		go func() {
			b, _ := io.ReadAll(conn) // until the edge closes the connection
			answered <- string(b)
		}()
		cut := false // the edge answered or closed the connection before the body ended
		for sent := 0; sent < size && !cut; sent++ {
			if _, err := conn.Write([]byte("x")); err != nil {
				cut = true
				break
			}
			select {
			case <-answered:
				cut = true
			case <-time.After(250 * time.Millisecond):
			}
		}
		if !cut {
			t.Fatalf("the edge accepted a %d-byte body sent one byte per 250 ms with a 1 s read timeout", size)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, n := range bodies {
			if n == size {
				t.Fatal("the upstream received the whole slow body")
			}
		}
	})

	t.Run("stuck upstream", func(t *testing.T) {
		if resp, _ := d.do(http.MethodGet, "/stuck", "", nil); resp.StatusCode != http.StatusBadGateway {
			t.Fatalf("stuck upstream: %s, want 502", resp.Status)
		}
	})
}

// Issue 7, item 3, the idle and write timeouts on their own: the read timeout is long
// (5 minutes; it would also bound idle connections if no idle timeout were set), so
// what closes the connections below is --idle-timeout and --write-timeout. An idle
// keep-alive connection is closed by the edge; a response the client stops reading is
// given up: the edge stops taking it from the upstream and closes the connection, so
// the client gets less than the announced length, then the end of the connection. The
// deadlines only keep a broken edge from hanging the test; nothing is timed.
func TestBinaryClosesIdleAndUnreadConnections(t *testing.T) {
	const size = 1 << 30 // far more than the socket buffers between edge and client hold
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	gaveUp := make(chan error, 1) // the upstream's failed write: the edge dropped the response
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/large" {
			io.WriteString(w, "upstream")
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(size))
		for sent := 0; sent < size; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				select {
				case gaveUp <- err:
				default:
				}
				return
			}
		}
	}))
	t.Cleanup(app.Close)
	d := startDemo(t, demoOptions{args: []string{"--upstream", app.URL,
		"--read-timeout", "5m", "--idle-timeout", "1s", "--write-timeout", "2s"}})
	addr := strings.TrimPrefix(d.url, "http://")

	t.Run("idle keep-alive", func(t *testing.T) {
		conn := dialRaw(t, addr)
		fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Close {
			t.Fatalf("first request: %s, close %v", resp.Status, resp.Close)
		}
		// Idle now: the edge must close the connection (read sees EOF).
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, err := br.ReadByte(); err != io.EOF {
			t.Fatalf("idle keep-alive connection (1 s idle timeout, 5 min read timeout) not closed by the edge within 30 s: %v", err)
		}
	})

	t.Run("unread response", func(t *testing.T) {
		conn := dialRaw(t, addr)
		fmt.Fprintf(conn, "GET /large HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
		// Read nothing until the edge has given the response up.
		select {
		case err := <-gaveUp:
			t.Logf("the upstream's write failed: %v", err)
		case <-time.After(60 * time.Second):
			t.Fatal("the edge still writes, after 60 s, a response its client does not read (2 s write timeout, 5 min read timeout)")
		}
		// What the sockets held, short of the announced length, then the connection's end.
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || resp.ContentLength != size {
			t.Fatalf("large response: %s, Content-Length %d", resp.Status, resp.ContentLength)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		if n >= size || !(errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)) {
			t.Fatalf("read %d of %d bytes, then %v: want the connection closed before the end", n, size, err)
		}
		t.Logf("the client got %d of %d bytes, then %v", n, size, err)
	})
}

// dialRaw opens a TCP connection to addr for a test that writes HTTP by hand (what
// net/http's client would not send: a slow body, an unread response); it is closed when
// the test ends.
func dialRaw(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

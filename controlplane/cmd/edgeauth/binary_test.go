package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/freeport"
	"github.com/edgeauth/edgeauth/internal/pgtest"
	"github.com/edgeauth/edgeauth/internal/syncbuf"
	"github.com/jackc/pgx/v5"
)

// The tests in this file run the compiled edgeauth binary as a separate process, on a
// database of their own, and talk to it over HTTP like any client: findings of a
// black-box test of the binary are checked the same way.

var built struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// binary builds ./controlplane/cmd/edgeauth once per test process and returns its path.
func binary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "edgeauth-bin-"); built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "edgeauth")
		goTool, err := exec.LookPath("go")
		if err != nil {
			built.err = err
			return
		}
		out, err := exec.Command(goTool, "build", "-o", built.path, ".").CombinedOutput()
		if err != nil {
			built.err = &buildError{out: out, err: err}
		}
	})
	if built.err != nil {
		t.Fatalf("building edgeauth: %v", built.err)
	}
	return built.path
}

type buildError struct {
	out []byte
	err error
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + string(e.out) }

func TestMain(m *testing.M) {
	code := pgtest.Main(m)
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// server is one `edgeauth serve` process.
type server struct {
	t      *testing.T
	url    string // public listener
	ops    string // operations listener, "" if none
	db     string
	origin string
	logs   *syncbuf.Buffer
	hc     *http.Client
}

// freeAddr is an address for a process to listen on (freeport: not one the kernel may
// hand to another listener meanwhile).
func freeAddr(t *testing.T) string { return freeport.Addr(t) }

// baseEnv is a production-like configuration on a fresh database.
func baseEnv(db string) []string {
	return []string{"EDGEAUTH_DATABASE_URL=" + db, "EDGEAUTH_KEYS__KEK=" + testKEK, "EDGEAUTH_PUBLIC_URL=https://auth.example.test"}
}

// runBinary runs one edgeauth command to completion.
func runBinary(t *testing.T, env []string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), 0
}

// startServer runs `edgeauth serve` on a fresh migrated database with env added to the
// production-like base, and stops it when the test ends.
func startServer(t *testing.T, withOps bool, env ...string) *server {
	t.Helper()
	db := pgtest.NewMigratedDatabase(t)
	all := append(baseEnv(db), env...)
	s := &server{t: t, db: db, origin: "https://auth.example.test", logs: &syncbuf.Buffer{}, hc: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{MaxIdleConnsPerHost: 128},
	}}
	addr := freeAddr(t)
	s.url = "http://" + addr
	all = append(all, "EDGEAUTH_LISTEN="+addr)
	if withOps {
		ops := freeAddr(t)
		s.ops = "http://" + ops
		all = append(all, "EDGEAUTH_OPS_LISTEN="+ops)
	}
	cmd := exec.Command(binary(t), "serve", "--migrate=false")
	cmd.Env = all
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; {
		r, err := http.Get(s.url + "/readyz")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return s
			}
		}
		select {
		case <-exited:
			t.Fatalf("edgeauth serve exited:\n%s", s.logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("edgeauth serve never became ready:\n%s", s.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// createUser runs `edgeauth users create` against the server's database.
func (s *server) createUser(email, password string) {
	s.t.Helper()
	if _, errs, code := runBinary(s.t, []string{"EDGEAUTH_DATABASE_URL=" + s.db}, password+"\n", "users", "create", "--email", email); code != 0 {
		s.t.Fatalf("users create: exit %d: %s", code, errs)
	}
}

// signIn logs the owner in and fails the test unless that succeeds.
func (s *server) signIn() reply {
	s.t.Helper()
	return s.signInAs(ownerEmail)
}

// signInAs logs email in with ownerPassword.
func (s *server) signInAs(email string) reply {
	s.t.Helper()
	r := s.do("POST", "/auth/login", loginBody(email, ownerPassword), nil)
	if r.status != 200 {
		s.t.Fatalf("login of %s: %d %s", email, r.status, r.body)
	}
	return r
}

type reply struct {
	status int
	header http.Header
	body   string
	cookie []*http.Cookie
}

func (r reply) code() string {
	var b struct{ Error struct{ Code string } }
	_ = json.Unmarshal([]byte(r.body), &b)
	return b.Error.Code
}

// request sends one request to base. State-changing requests carry the public Origin
// unless header sets another.
func (s *server) request(base, method, path, body string, header http.Header, cookies ...*http.Cookie) reply {
	s.t.Helper()
	r, err := s.try(base, method, path, body, header, cookies...)
	if err != nil {
		s.t.Fatal(err)
	}
	return r
}

// try is request without failing the test (for other goroutines).
func (s *server) try(base, method, path, body string, header http.Header, cookies ...*http.Cookie) (reply, error) {
	var rb io.Reader
	if body != "" {
		rb = strings.NewReader(body)
	}
	r, err := http.NewRequest(method, base+path, rb)
	if err != nil {
		return reply{}, err
	}
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if method != http.MethodGet {
		r.Header.Set("Origin", s.origin)
	}
	for k, v := range header {
		r.Header[k] = v
	}
	for _, c := range cookies {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	res, err := s.hc.Do(r)
	if err != nil {
		return reply{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{status: res.StatusCode, header: res.Header, body: string(b), cookie: res.Cookies()}, nil
}

func (s *server) do(method, path, body string, header http.Header, cookies ...*http.Cookie) reply {
	s.t.Helper()
	return s.request(s.url, method, path, body, header, cookies...)
}

func loginBody(email, password string) string {
	b, _ := json.Marshal(map[string]string{"email": email, "password": password})
	return string(b)
}

// from makes a request appear to come from addr (the server trusts X-Forwarded-For).
func from(addr string) http.Header { return http.Header{"X-Forwarded-For": {addr}} }

// count runs a counting query on the server's database.
func (s *server) count(query string, args ...any) int {
	s.t.Helper()
	var n int
	s.queryRow(&n, query, args...)
	return n
}

// sqlText runs a query returning one text value on the server's database.
func (s *server) sqlText(query string, args ...any) string {
	s.t.Helper()
	var v string
	s.queryRow(&v, query, args...)
	return v
}

// queryRow runs a query returning one value on the server's database into dest.
func (s *server) queryRow(dest any, query string, args ...any) {
	s.t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, s.db)
	if err != nil {
		s.t.Fatal(err)
	}
	defer c.Close(ctx)
	if err := c.QueryRow(ctx, query, args...).Scan(dest); err != nil {
		s.t.Fatal(err)
	}
}

// statuses sends n concurrent requests built by mk and counts the answers by status.
func (s *server) statuses(n int, mk func(i int) (body string, header http.Header)) map[int]int {
	s.t.Helper()
	var mu sync.Mutex
	got := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, h := mk(i)
			<-start
			r, err := s.try(s.url, "POST", "/auth/login", body, h)
			if err != nil {
				s.t.Error(err)
				return
			}
			mu.Lock()
			got[r.status]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return got
}

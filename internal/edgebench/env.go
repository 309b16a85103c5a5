package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/edgeauth/edgeauth/internal/devdb"
	"github.com/jackc/pgx/v5"
)

const (
	origin = "https://app.example.test" // the control plane's public URL
	// kek seals the benchmark database's signing keys (a throwaway database).
	kek      = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	email    = "visitor@example.test"
	password = "a benchmark password, long enough"
)

// env is one run's world: the database and the processes.
type env struct {
	dir       string
	adminURL  string
	dbName    string
	binEnv    []string
	cp        string   // the control plane's base URL
	upstream  string   // the app's base URL
	bare      target   // the baseline: httputil.ReverseProxy as it comes
	pooled    target   // the same with hostdemo's buffer pool
	edges     []target // hostdemo, one per engine
	rev       string
	pgVersion string
	pprof     bool
	cleanups  []func()
}

// target is one proxy under test.
type target struct {
	name   string
	engine string // "wasm", "native"; for the baselines, "" or "pooled-bare"
	base   string
	pprof  string // with -cpuprofile: the edge's pprof address
	*child
}

// child is a process the run started.
type child struct {
	name   string
	cmd    *exec.Cmd
	exited chan struct{}
	mu     sync.Mutex
	logs   bytes.Buffer
}

func setUp(ctx context.Context, o options) (e *env, err error) {
	e = &env{rev: gitRevision(), pprof: o.cpuProfile != ""}
	if e.dir, err = os.MkdirTemp("", "edgeauth-edgebench-"); err != nil {
		return nil, err
	}
	e.cleanups = append(e.cleanups, func() { os.RemoveAll(e.dir) })
	self, err := os.Executable()
	if err != nil {
		return e, err
	}
	cpBin, edgeBin := filepath.Join(e.dir, "edgeauth"), filepath.Join(e.dir, "hostdemo")
	tags := ""
	if e.pprof {
		tags = "pprof"
	}
	for _, b := range [][]string{{cpBin, "./controlplane/cmd/edgeauth"}, {edgeBin, "./hostdemo"}} {
		if out, err := exec.CommandContext(ctx, "go", "build", "-tags", tags, "-o", b[0], b[1]).CombinedOutput(); err != nil {
			return e, fmt.Errorf("building %s (run from the repository root): %v\n%s", b[1], err, out)
		}
	}
	if err := e.createDatabase(ctx, o); err != nil {
		return e, err
	}
	if _, err := e.runBinary(ctx, cpBin, "", "migrate"); err != nil {
		return e, err
	}
	if _, err := e.runBinary(ctx, cpBin, password+"\n", "users", "create", "--email", email); err != nil {
		return e, err
	}
	addr, err := freeAddr()
	if err != nil {
		return e, err
	}
	e.cp = "http://" + addr
	c, err := e.start("control plane", append(append([]string{}, e.binEnv...), "EDGEAUTH_LISTEN="+addr), nil, cpBin, "serve", "--migrate=false")
	if err != nil {
		return e, err
	}
	if err := c.waitHTTP(ctx, e.cp+"/readyz", ""); err != nil {
		return e, err
	}

	if e.upstream, _, err = e.startPrinting(ctx, "upstream", nil, self, "-serve-upstream"); err != nil {
		return e, err
	}
	bareAddr, bare, err := e.startPrinting(ctx, "bare httputil.ReverseProxy", nil, self, "-serve-bare", "-upstream", e.upstream)
	if err != nil {
		return e, err
	}
	e.bare = target{name: "bare httputil.ReverseProxy (baseline)", base: bareAddr, child: bare}
	e.pooled = target{name: "bare httputil.ReverseProxy + hostdemo's buffer pool", engine: "pooled-bare"}
	var env []string
	if e.pprof {
		if e.pooled.pprof, err = freeAddr(); err != nil {
			return e, err
		}
		env = []string{"EDGEBENCH_PPROF=" + e.pooled.pprof}
	}
	if e.pooled.base, e.pooled.child, err = e.startPrinting(ctx, "bare httputil.ReverseProxy with a buffer pool", env, self, "-serve-bare", "-buffer-pool", "-upstream", e.upstream); err != nil {
		return e, err
	}

	cookie, err := e.login(ctx, o.path)
	if err != nil {
		return e, err
	}
	for _, engine := range []string{"wasm", "native"} {
		addr, err := freeAddr()
		if err != nil {
			return e, err
		}
		t := target{name: "hostdemo --engine " + engine, engine: engine, base: "http://" + addr}
		var env []string
		if e.pprof {
			if t.pprof, err = freeAddr(); err != nil {
				return e, err
			}
			env = []string{"HOSTDEMO_PPROF=" + t.pprof}
		}
		// Production-like: the binary's defaults (timeouts, poll interval, default
		// routes with /app/ protected and a 1,024-entry cache) and a separate app.
		if t.child, err = e.start(t.name, env, nil, edgeBin, "--control-plane", e.cp, "--listen", addr,
			"--upstream", e.upstream, "--engine", engine); err != nil {
			return e, err
		}
		if err := t.waitHTTP(ctx, t.base+o.path, cookie); err != nil {
			return e, err
		}
		e.edges = append(e.edges, t)
	}
	return e, nil
}

func (e *env) tearDown() {
	for i := len(e.cleanups) - 1; i >= 0; i-- {
		e.cleanups[i]()
	}
}

func gitRevision() string {
	out, err := exec.Command("git", "describe", "--always", "--dirty").Output()
	if err != nil {
		return "(unknown revision)"
	}
	return strings.TrimSpace(string(out))
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// createDatabase creates edgeauth_edgebench_<random> on the server and drops it at the
// end of the run.
func (e *env) createDatabase(ctx context.Context, o options) error {
	e.adminURL = o.databaseURL
	if e.adminURL == "" {
		e.adminURL = os.Getenv("EDGEAUTH_TEST_DATABASE_URL")
	}
	if e.adminURL == "" {
		e.adminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
		if !devdb.Answers(ctx, "127.0.0.1:5432") {
			// No server there: the development cluster (README, Quick start).
			c, err := devdb.Start(ctx, os.Stderr)
			if err != nil {
				return fmt.Errorf("PostgreSQL: none at 127.0.0.1:5432 and the development cluster: %w", err)
			}
			e.adminURL = c.URL("postgres")
		}
	}
	b := make([]byte, 6)
	rand.Read(b)
	e.dbName = "edgeauth_edgebench_" + hex.EncodeToString(b)
	admin, err := pgx.Connect(ctx, e.adminURL)
	if err != nil {
		return fmt.Errorf("PostgreSQL (-database-url): %w", err)
	}
	defer admin.Close(ctx)
	if err := admin.QueryRow(ctx, `SELECT current_setting('server_version')`).Scan(&e.pgVersion); err != nil {
		return err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+e.dbName); err != nil {
		return err
	}
	e.cleanups = append(e.cleanups, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if admin, err := pgx.Connect(ctx, e.adminURL); err == nil {
			_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+e.dbName+" WITH (FORCE)")
			admin.Close(ctx)
		}
	})
	u, err := url.Parse(e.adminURL)
	if err != nil {
		return err
	}
	u.Path = "/" + e.dbName
	e.binEnv = []string{"EDGEAUTH_DATABASE_URL=" + u.String(), "EDGEAUTH_KEYS__KEK=" + kek, "EDGEAUTH_PUBLIC_URL=" + origin}
	return nil
}

func (e *env) runBinary(ctx context.Context, bin, stdin string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), e.binEnv...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("edgeauth %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out, nil
}

// start starts a process that the run's tear-down stops (SIGTERM, then SIGKILL);
// stdout, when set, receives its standard output.
func (e *env) start(name string, env []string, stdout io.Writer, bin string, args ...string) (*child, error) {
	c := &child{name: name, cmd: exec.Command(bin, args...), exited: make(chan struct{})}
	c.cmd.Env = append(os.Environ(), env...)
	c.cmd.Stderr = lockedWriter{c}
	c.cmd.Stdout = stdout
	if stdout == nil {
		c.cmd.Stdout = lockedWriter{c}
	}
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { c.cmd.Wait(); close(c.exited) }()
	e.cleanups = append(e.cleanups, c.stop)
	return c, nil
}

// startPrinting starts a process that prints the address it listens on as its first
// line, and returns that address as a base URL.
func (e *env) startPrinting(ctx context.Context, name string, env []string, bin string, args ...string) (string, *child, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return "", nil, err
	}
	defer r.Close()
	c, err := e.start(name, env, w, bin, args...)
	w.Close()
	if err != nil {
		return "", nil, err
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		<-c.exited
		return "", nil, fmt.Errorf("%s: %v\n%s", name, err, c.output())
	}
	return "http://" + strings.TrimSpace(line), c, nil
}

type lockedWriter struct{ c *child }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	return w.c.logs.Write(p)
}

func (c *child) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.logs.String()
}

func (c *child) stop() {
	select {
	case <-c.exited:
		return
	default:
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(20 * time.Second):
		c.cmd.Process.Kill()
		<-c.exited
	}
}

// waitHTTP waits until u answers 200 to a GET with cookie.
func (c *child) waitHTTP(ctx context.Context, u, cookie string) error {
	var last string
	for deadline := time.Now().Add(60 * time.Second); ; {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		if resp, err := http.DefaultTransport.RoundTrip(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-c.exited:
			return fmt.Errorf("%s exited:\n%s", c.name, c.output())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond): // readiness poll
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready at %s (last: %s):\n%s", c.name, u, last, c.output())
		}
	}
}

// login signs the visitor in through the control plane as a same-origin fetch from the
// app would, and returns the Cookie header a browser then sends on path: the cookies
// whose Path covers it (the access cookie; the refresh cookie is scoped to the refresh
// endpoint).
func (e *env) login(ctx context.Context, path string) (string, error) {
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.cp+"/auth/login", bytes.NewReader(body))
	req.Header.Set("Origin", origin)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("login: %s %s", resp.Status, b)
	}
	var cookies []string
	access := false
	for _, ck := range resp.Cookies() {
		if ck.Path == "" || strings.HasPrefix(path, ck.Path) {
			cookies = append(cookies, ck.Name+"="+ck.Value)
			access = access || strings.HasSuffix(ck.Name, "edgeauth_at")
		}
	}
	if !access {
		return "", fmt.Errorf("login set no access cookie for %s: %v", path, resp.Header.Values("Set-Cookie"))
	}
	return strings.Join(cookies, "; "), nil
}

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
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	origin = "https://app.example.test" // the replicas' public URL and the pages' origin
	// kek seals the benchmark database's signing keys (a throwaway database).
	kek      = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	password = "a benchmark password, long enough"
	users    = 10 // sessions are spread over this many users
)

// env is one run's world: the database, the replicas, the WebSocket servers and the
// signed-in sessions.
type env struct {
	dir       string
	adminURL  string
	dbName    string
	bin       string // edgeauth
	self      string // this command, for -serve
	binEnv    []string
	replicas  []string // base URLs
	servers   []*server
	sessions  []session
	rev       string
	pgVersion string
	cleanups  []func()
}

// session is one signed-in device.
type session struct {
	id     string
	cookie string // Cookie header: access and refresh cookies
}

// child is a process the run started.
type child struct {
	name   string
	cmd    *exec.Cmd
	exited chan struct{}
	logs   *bytes.Buffer
	mu     sync.Mutex
}

// server is one WebSocket server process.
type server struct {
	*child
	addr string
}

func setUp(ctx context.Context, o options) (e *env, err error) {
	e = &env{rev: gitRevision()}
	if e.dir, err = os.MkdirTemp("", "edgeauth-wsbench-"); err != nil {
		return e, err
	}
	e.cleanups = append(e.cleanups, func() { os.RemoveAll(e.dir) })
	if e.self, err = os.Executable(); err != nil {
		return e, err
	}
	e.bin = filepath.Join(e.dir, "edgeauth")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", e.bin, "./controlplane/cmd/edgeauth").CombinedOutput(); err != nil {
		return e, fmt.Errorf("building edgeauth (run from the repository root): %v\n%s", err, out)
	}
	if err := e.createDatabase(ctx, o); err != nil {
		return e, err
	}
	if _, err := e.runBinary(ctx, "", "migrate"); err != nil {
		return e, err
	}
	for u := range users {
		if _, err := e.runBinary(ctx, password+"\n", "users", "create", "--email", email(u)); err != nil {
			return e, err
		}
	}
	for i := range 3 {
		addr, err := freeAddr()
		if err != nil {
			return e, err
		}
		base := "http://" + addr
		c, err := e.start(fmt.Sprintf("replica %c", 'A'+i), append(append([]string{}, e.binEnv...), "EDGEAUTH_LISTEN="+addr), nil, e.bin, "serve", "--migrate=false")
		if err != nil {
			return e, err
		}
		if err := c.waitHTTP(ctx, base+"/readyz"); err != nil {
			return e, err
		}
		e.replicas = append(e.replicas, base)
	}
	for i := range 3 {
		s, err := e.startServer(ctx, fmt.Sprintf("WebSocket server %c", 'A'+i), e.replicas[i])
		if err != nil {
			return e, err
		}
		e.servers = append(e.servers, s)
	}
	return e, e.signIn(ctx, o.sessions)
}

func (e *env) tearDown() {
	for i := len(e.cleanups) - 1; i >= 0; i-- {
		e.cleanups[i]()
	}
}

func email(u int) string { return fmt.Sprintf("user%d@example.test", u) }

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

// createDatabase creates edgeauth_wsbench_<random> on the server and drops it at the
// end of the run.
func (e *env) createDatabase(ctx context.Context, o options) error {
	e.adminURL = o.adminURL
	if e.adminURL == "" {
		e.adminURL = os.Getenv("EDGEAUTH_TEST_DATABASE_URL")
	}
	if e.adminURL == "" {
		e.adminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	b := make([]byte, 6)
	rand.Read(b)
	e.dbName = "edgeauth_wsbench_" + hex.EncodeToString(b)
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

func (e *env) runBinary(ctx context.Context, stdin string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, e.bin, args...)
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
	c := &child{name: name, cmd: exec.Command(bin, args...), exited: make(chan struct{}), logs: &bytes.Buffer{}}
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

// waitHTTP waits until url answers 200.
func (c *child) waitHTTP(ctx context.Context, u string) error {
	for deadline := time.Now().Add(60 * time.Second); ; {
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-c.exited:
			return fmt.Errorf("%s exited:\n%s", c.name, c.output())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond): // readiness poll
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready at %s:\n%s", c.name, u, c.output())
		}
	}
}

// startServer starts a WebSocket server process following the replica at cp and waits
// until it prints its address (it has keys and a list) and holds the revocation stream.
func (e *env) startServer(ctx context.Context, name, cp string) (*server, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	c, err := e.start(name, nil, w, e.self, "-serve", "-control-plane", cp, "-origin", origin)
	w.Close()
	if err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		<-c.exited
		return nil, fmt.Errorf("%s: %v\n%s", name, err, c.output())
	}
	s := &server{child: c, addr: strings.TrimSpace(line)}
	for deadline := time.Now().Add(60 * time.Second); ; {
		st, err := s.stats(ctx)
		if err != nil {
			return nil, err
		}
		if st.Streaming {
			return s, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s never held the revocation stream:\n%s", name, c.output())
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond): // readiness poll
		}
	}
}

// stats asks the server process for its counts and memory.
func (s *server) stats(ctx context.Context) (stats, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.addr+"/stats", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return stats{}, fmt.Errorf("%s: %w", s.name, err)
	}
	defer resp.Body.Close()
	var st stats
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// signIn signs n sessions in, spread over the users and the replicas.
func (e *env) signIn(ctx context.Context, n int) error {
	e.sessions = make([]session, n)
	errs := make(chan error, 4)
	next := make(chan int)
	go func() {
		defer close(next)
		for i := range n {
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	workers := max(2, runtime.NumCPU())
	for range workers {
		go func() {
			for i := range next {
				s, err := e.login(ctx, i%3, email(i%users))
				if err != nil {
					errs <- err
					for range next {
					}
					return
				}
				e.sessions[i] = s
			}
			errs <- nil
		}()
	}
	var first error
	for range workers {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// call sends a request to replica i as a same-origin fetch from the app would.
func (e *env) call(ctx context.Context, i int, method, path string, body []byte, cookie string) (*http.Response, []byte, error) {
	req, _ := http.NewRequestWithContext(ctx, method, e.replicas[i]+path, bytes.NewReader(body))
	req.Header.Set("Origin", origin)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) wsbench/1")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, b, nil
}

func (e *env) login(ctx context.Context, replica int, email string) (session, error) {
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	resp, b, err := e.call(ctx, replica, http.MethodPost, "/auth/login", body, "")
	if err != nil {
		return session{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return session{}, fmt.Errorf("login: %s %s", resp.Status, b)
	}
	var out struct {
		SessionID string `json:"session_id"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return session{}, err
	}
	var cookies []string
	for _, ck := range resp.Cookies() {
		if strings.HasSuffix(ck.Name, "edgeauth_at") || strings.HasSuffix(ck.Name, "edgeauth_rt") {
			cookies = append(cookies, ck.Name+"="+ck.Value)
		}
	}
	if len(cookies) != 2 {
		return session{}, fmt.Errorf("login set %v", resp.Header.Values("Set-Cookie"))
	}
	return session{id: out.SessionID, cookie: strings.Join(cookies, "; ")}, nil
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth/internal/benchenv"
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

// server is one WebSocket server process.
type server struct {
	*benchenv.Child
	addr string
}

func setUp(ctx context.Context, o options) (e *env, err error) {
	e = &env{rev: benchenv.Revision()}
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
		addr, err := benchenv.FreeAddr()
		if err != nil {
			return e, err
		}
		base := "http://" + addr
		c, err := benchenv.Start(fmt.Sprintf("replica %c", 'A'+i), append(append([]string{}, e.binEnv...), "EDGEAUTH_LISTEN="+addr), nil, e.bin, "serve", "--migrate=false")
		if err != nil {
			return e, err
		}
		e.cleanups = append(e.cleanups, c.Stop)
		if err := c.WaitHTTP(ctx, base+"/readyz", ""); err != nil {
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

// createDatabase creates edgeauth_wsbench_<random> (benchenv.CreateDatabase) and
// drops it at the end of the run.
func (e *env) createDatabase(ctx context.Context, o options) error {
	db, err := benchenv.CreateDatabase(ctx, o.adminURL, "edgeauth_wsbench")
	if err != nil {
		return err
	}
	e.cleanups = append(e.cleanups, db.Drop)
	e.pgVersion = db.PGVersion
	e.binEnv = []string{"EDGEAUTH_DATABASE_URL=" + db.URL, "EDGEAUTH_KEYS__KEK=" + kek, "EDGEAUTH_PUBLIC_URL=" + origin}
	return nil
}

func (e *env) runBinary(ctx context.Context, stdin string, args ...string) ([]byte, error) {
	return benchenv.RunBinary(ctx, e.bin, e.binEnv, stdin, args...)
}

// startServer starts a WebSocket server process following the replica at cp and waits
// until it prints its address (it has keys and a list) and holds the revocation stream.
func (e *env) startServer(ctx context.Context, name, cp string) (*server, error) {
	addr, c, err := benchenv.StartPrinting(name, nil, e.self, "-serve", "-control-plane", cp, "-origin", origin)
	if c != nil {
		e.cleanups = append(e.cleanups, c.Stop)
	}
	if err != nil {
		return nil, err
	}
	s := &server{Child: c, addr: addr}
	for deadline := time.Now().Add(60 * time.Second); ; {
		st, err := s.stats(ctx)
		if err != nil {
			return nil, err
		}
		if st.Streaming {
			return s, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s never held the revocation stream:\n%s", name, c.Output())
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
		return stats{}, fmt.Errorf("%s: %w", s.Name, err)
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

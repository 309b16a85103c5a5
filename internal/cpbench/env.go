package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/app"
	"github.com/edgeauth/edgeauth/controlplane/config"
	"github.com/edgeauth/edgeauth/internal/benchenv"
	"github.com/edgeauth/edgeauth/internal/pgcluster"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The binary's production settings.
const (
	publicURL = "https://auth.example.test"
	// kek seals the benchmark database's signing keys (a throwaway database).
	kek      = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	email    = "bench@example.test"
	password = "a benchmark password, long enough"
)

// env is one benchmark run's world: the server, the binary serving on it, an
// in-process service on the same database, and the signed-in clients.
type env struct {
	dir         string
	cluster     *pgcluster.Cluster // nil with -database-url
	adminURL    string             // the server's postgres database (create/drop)
	dbName      string
	dbURL       string
	db          *pgxpool.Pool // the harness's own queries
	bin         string
	serve       *exec.Cmd
	exited      chan struct{}
	base        string // the binary's public listener
	pool        int    // the binary's pool size
	pgbenchPath string // pgbench's path
	rev         string
	goVersion   string
	pgVersion   string
	cpus        int
	// pgSettings are the server settings that decide a commit's cost.
	pgSettings string

	accessCookie, refreshCookie string

	inproc     *app.App
	inprocPool *pgxpool.Pool

	mu       sync.Mutex
	sessions []session // signed-in clients, created on demand
	cleanups []func()
}

// session is one signed-in client: its cookies, advanced by every refresh.
type session struct {
	id      string
	access  string
	refresh string
}

func setUp(ctx context.Context, o options) (e *env, err error) {
	e = &env{cpus: runtime.NumCPU(), goVersion: runtime.Version()}
	defer func() {
		if err != nil {
			e.tearDown()
		}
	}()
	if e.dir, err = os.MkdirTemp("", "edgeauth-cpbench-"); err != nil {
		return e, err
	}
	e.cleanups = append(e.cleanups, func() {
		if o.keep {
			fmt.Fprintf(os.Stderr, "cpbench: kept %s\n", e.dir)
			return
		}
		os.RemoveAll(e.dir)
	})
	e.rev = benchenv.Revision()

	// The binary, built from this tree.
	e.bin = filepath.Join(e.dir, "edgeauth")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", e.bin, "./controlplane/cmd/edgeauth").CombinedOutput(); err != nil {
		return e, fmt.Errorf("building edgeauth (run from the repository root): %v\n%s", err, out)
	}

	if err := e.startServer(ctx, o); err != nil {
		return e, err
	}
	if e.db, err = pgxpool.New(ctx, e.dbURL); err != nil {
		return e, err
	}
	e.cleanups = append(e.cleanups, e.db.Close)
	var fsync, syncCommit, buffers string
	if err := e.db.QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('fsync'),
		current_setting('synchronous_commit'), current_setting('shared_buffers')`).Scan(&e.pgVersion, &fsync, &syncCommit, &buffers); err != nil {
		return e, err
	}
	e.pgSettings = "fsync " + fsync + ", synchronous_commit " + syncCommit + ", shared_buffers " + buffers

	// Schema, a user, the server.
	env := e.binaryEnv(o)
	if _, err := e.runBinary(ctx, env, "", "migrate"); err != nil {
		return e, err
	}
	if _, err := e.runBinary(ctx, env, password+"\n", "users", "create", "--email", email); err != nil {
		return e, err
	}
	if err := e.startBinary(ctx, env); err != nil {
		return e, err
	}
	if err := e.readEdgeConfig(ctx); err != nil {
		return e, err
	}
	if err := e.startInProcess(ctx); err != nil {
		return e, err
	}
	return e, e.createBaselineTable(ctx)
}

func (e *env) tearDown() {
	for i := len(e.cleanups) - 1; i >= 0; i-- {
		e.cleanups[i]()
	}
}

// startServer starts the private PostgreSQL server (or uses -database-url's) and
// creates the benchmark database on it.
func (e *env) startServer(ctx context.Context, o options) error {
	if o.databaseURL != "" {
		e.adminURL = o.databaseURL
	} else {
		bin, err := pgcluster.BinDir()
		if err != nil {
			return err
		}
		e.pgbenchPath = filepath.Join(bin, "pgbench")
		// A directory of its own: the server runs as the postgres OS user when we are
		// root, and must reach it.
		dir, err := os.MkdirTemp("", "edgeauth-cpbench-pg-")
		if err != nil {
			return err
		}
		e.cleanups = append(e.cleanups, func() { os.RemoveAll(dir) })
		if e.cluster, err = pgcluster.New(dir); err != nil {
			return err
		}
		if err := e.cluster.Init(ctx, false); err != nil {
			return err
		}
		port, err := pgcluster.FreePort()
		if err != nil {
			return err
		}
		// PostgreSQL's defaults but for room for pgbench's 64 clients beside the pools.
		if err := e.cluster.Start(ctx, port, "max_connections=300"); err != nil {
			return err
		}
		e.cleanups = append(e.cleanups, func() { _ = e.cluster.Stop(context.Background(), "fast") })
		e.adminURL = pgcluster.URL(port, "postgres")
	}
	if e.pgbenchPath == "" {
		if bin, err := pgcluster.BinDir(); err == nil {
			e.pgbenchPath = filepath.Join(bin, "pgbench")
		}
	}
	if _, err := os.Stat(e.pgbenchPath); err != nil {
		if p, lerr := exec.LookPath("pgbench"); lerr == nil {
			e.pgbenchPath = p
		} else {
			return fmt.Errorf("pgbench not found (install postgresql-contrib or the server package): %v", err)
		}
	}
	u, err := url.Parse(e.adminURL)
	if err != nil || u.Scheme == "" {
		return fmt.Errorf("-database-url: not a postgres:// URL")
	}
	e.dbName = "edgeauth_bench_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	u.Path = "/" + e.dbName
	e.dbURL = u.String()
	if err := e.admin(ctx, "CREATE DATABASE "+e.dbName); err != nil {
		return err
	}
	e.cleanups = append(e.cleanups, func() {
		_ = e.admin(context.Background(), "DROP DATABASE IF EXISTS "+e.dbName+" WITH (FORCE)")
	})
	return nil
}

func (e *env) admin(ctx context.Context, sql string) error {
	c, err := pgx.Connect(ctx, e.adminURL)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, sql)
	return err
}

// binaryEnv is the binary's production configuration (no --dev).
func (e *env) binaryEnv(o options) []string {
	env := []string{"EDGEAUTH_DATABASE_URL=" + e.dbURL, "EDGEAUTH_KEYS__KEK=" + kek, "EDGEAUTH_PUBLIC_URL=" + publicURL,
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	if o.pool > 0 {
		env = append(env, "EDGEAUTH_DATABASE_POOL_SIZE="+strconv.Itoa(o.pool))
	}
	return env
}

func (e *env) runBinary(ctx context.Context, env []string, stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, e.bin, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("edgeauth %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

var poolLine = regexp.MustCompile(`"database_pool":(\d+)`)

// startBinary runs `edgeauth serve` with its logs in a file (every request is logged,
// as in production) and metrics on an operations listener, and waits until it is ready.
func (e *env) startBinary(ctx context.Context, env []string) error {
	listen, err := benchenv.FreeAddr()
	if err != nil {
		return err
	}
	ops, err := benchenv.FreeAddr()
	if err != nil {
		return err
	}
	logPath := filepath.Join(e.dir, "edgeauth.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	e.cleanups = append(e.cleanups, func() { logFile.Close() })
	e.serve = exec.Command(e.bin, "serve", "--migrate=false")
	e.serve.Env = append(env, "EDGEAUTH_LISTEN="+listen, "EDGEAUTH_OPS_LISTEN="+ops)
	e.serve.Stdout, e.serve.Stderr = logFile, logFile
	if err := e.serve.Start(); err != nil {
		return err
	}
	e.exited = make(chan struct{})
	go func() { _ = e.serve.Wait(); close(e.exited) }()
	e.cleanups = append(e.cleanups, func() {
		_ = e.serve.Process.Signal(syscall.SIGTERM)
		select {
		case <-e.exited:
		case <-time.After(20 * time.Second):
			_ = e.serve.Process.Kill()
			<-e.exited
		}
	})
	e.base = "http://" + listen
	for deadline := time.Now().Add(60 * time.Second); ; {
		if r, err := http.Get(e.base + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-e.exited:
			out, _ := os.ReadFile(logPath)
			return fmt.Errorf("edgeauth serve exited:\n%s", out)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("edgeauth serve never became ready")
		}
	}
	out, _ := os.ReadFile(logPath)
	m := poolLine.FindSubmatch(out)
	if m == nil {
		return fmt.Errorf("edgeauth serve did not log its database pool size:\n%s", out)
	}
	e.pool, _ = strconv.Atoi(string(m[1]))
	return nil
}

// readEdgeConfig learns the cookie names from the published edge configuration.
func (e *env) readEdgeConfig(ctx context.Context) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.base+"/.well-known/edgeauth/edge-config", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var doc struct {
		Access  struct{ Name string } `json:"access_cookie"`
		Refresh struct{ Name string } `json:"refresh_cookie"`
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		return fmt.Errorf("edge-config: %w", err)
	}
	e.accessCookie, e.refreshCookie = doc.Access.Name, doc.Refresh.Name
	if e.accessCookie == "" || e.refreshCookie == "" {
		return errors.New("edge-config names no cookies")
	}
	return nil
}

// startInProcess builds the binary's service (app.New, the same configuration) in this
// process, on a pool of the binary's size.
func (e *env) startInProcess(ctx context.Context) error {
	cfg := config.Default()
	cfg.PublicURL = publicURL
	cfg.Keys.KEK = kek
	cfg.DatabaseURL = e.dbURL
	cfg.DatabasePoolSize = e.pool
	if err := cfg.Validate(); err != nil {
		return err
	}
	pc, err := cfg.PoolConfig()
	if err != nil {
		return err
	}
	if e.inprocPool, err = pgxpool.NewWithConfig(ctx, pc); err != nil {
		return err
	}
	e.cleanups = append(e.cleanups, e.inprocPool.Close)
	if e.inproc, err = app.New(ctx, cfg, app.Options{Pool: e.inprocPool, Logger: slog.New(slog.DiscardHandler)}); err != nil {
		return err
	}
	e.cleanups = append(e.cleanups, e.inproc.Close)
	return nil
}

// createBaselineTable makes the table of pgbench's single-row UPDATE.
func (e *env) createBaselineTable(ctx context.Context) error {
	_, err := e.db.Exec(ctx, `
		CREATE TABLE bench_rows (id int PRIMARY KEY, n bigint NOT NULL, at timestamptz NOT NULL);
		INSERT INTO bench_rows SELECT g, 0, now() FROM generate_series(1, 100000) g;
		ANALYZE bench_rows`)
	return err
}

// login signs a new client in through the binary.
func (e *env) login(ctx context.Context, hc *http.Client) (session, error) {
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.base+"/auth/login", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	browserHeaders(req)
	res, err := hc.Do(req)
	if err != nil {
		return session{}, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return session{}, fmt.Errorf("login: %d %s", res.StatusCode, b)
	}
	var out struct {
		SessionID string `json:"session_id"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return session{}, fmt.Errorf("login answer: %w", err)
	}
	s := session{id: out.SessionID}
	if !e.takeCookies(res, &s) {
		return s, errors.New("login did not set both cookies")
	}
	return s, nil
}

// sessionsFor returns n signed-in clients, signing more in as needed.
func (e *env) sessionsFor(ctx context.Context, n int) ([]session, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	hc := &http.Client{}
	for len(e.sessions) < n {
		s, err := e.login(ctx, hc)
		if err != nil {
			return nil, err
		}
		e.sessions = append(e.sessions, s)
	}
	return e.sessions[:n], nil
}

// browserHeaders are what a browser sends with a same-origin fetch from the app.
func browserHeaders(req *http.Request) {
	req.Header.Set("Origin", publicURL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Sec-Fetch-Mode", "cors")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) cpbench/1")
}

// takeCookies stores the access and refresh cookies a response set, and reports whether
// it set both with values and a refresh token other than s's: what a login or a
// rotation answers. Anything less (one cookie, cleared ones, the same refresh token
// back) leaves s as it was: no session was opened or rotated, and a load that counted
// it would count a refresh that never happened.
func (e *env) takeCookies(res *http.Response, s *session) bool {
	var access, refresh string
	for _, c := range res.Cookies() {
		switch c.Name {
		case e.accessCookie:
			access = c.Value
		case e.refreshCookie:
			refresh = c.Value
		}
	}
	if access == "" || refresh == "" || refresh == s.refresh {
		return false
	}
	s.access, s.refresh = access, refresh
	return true
}

// generation is a session's refresh generation (how many tokens it has had).
func (e *env) generation(ctx context.Context, sid string) (int, error) {
	var g int
	err := e.db.QueryRow(ctx, `SELECT generation FROM sessions WHERE id = $1`, sid).Scan(&g)
	return g, err
}

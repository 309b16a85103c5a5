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
	"strings"

	"github.com/edgeauth/edgeauth/internal/benchenv"
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
	*benchenv.Child
}

func setUp(ctx context.Context, o options) (e *env, err error) {
	e = &env{rev: benchenv.Revision(), pprof: o.cpuProfile != ""}
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
	if _, err := benchenv.RunBinary(ctx, cpBin, e.binEnv, "", "migrate"); err != nil {
		return e, err
	}
	if _, err := benchenv.RunBinary(ctx, cpBin, e.binEnv, password+"\n", "users", "create", "--email", email); err != nil {
		return e, err
	}
	addr, err := benchenv.FreeAddr()
	if err != nil {
		return e, err
	}
	e.cp = "http://" + addr
	c, err := e.start("control plane", append(append([]string{}, e.binEnv...), "EDGEAUTH_LISTEN="+addr), cpBin, "serve", "--migrate=false")
	if err != nil {
		return e, err
	}
	if err := c.WaitHTTP(ctx, e.cp+"/readyz", ""); err != nil {
		return e, err
	}

	if e.upstream, _, err = e.startPrinting("upstream", nil, self, "-serve-upstream"); err != nil {
		return e, err
	}
	bareAddr, bare, err := e.startPrinting("bare httputil.ReverseProxy", nil, self, "-serve-bare", "-upstream", e.upstream)
	if err != nil {
		return e, err
	}
	e.bare = target{name: "bare httputil.ReverseProxy (baseline)", base: bareAddr, Child: bare}
	e.pooled = target{name: "bare httputil.ReverseProxy + hostdemo's buffer pool", engine: "pooled-bare"}
	var env []string
	if e.pprof {
		if e.pooled.pprof, err = benchenv.FreeAddr(); err != nil {
			return e, err
		}
		env = []string{"EDGEBENCH_PPROF=" + e.pooled.pprof}
	}
	if e.pooled.base, e.pooled.Child, err = e.startPrinting("bare httputil.ReverseProxy with a buffer pool", env, self, "-serve-bare", "-buffer-pool", "-upstream", e.upstream); err != nil {
		return e, err
	}

	cookie, err := e.login(ctx, o.path)
	if err != nil {
		return e, err
	}
	for _, engine := range []string{"wasm", "native"} {
		addr, err := benchenv.FreeAddr()
		if err != nil {
			return e, err
		}
		t := target{name: "hostdemo --engine " + engine, engine: engine, base: "http://" + addr}
		var env []string
		if e.pprof {
			if t.pprof, err = benchenv.FreeAddr(); err != nil {
				return e, err
			}
			env = []string{"HOSTDEMO_PPROF=" + t.pprof}
		}
		// Production-like: the binary's defaults (timeouts, poll interval, default
		// routes with /app/ protected and a 1,024-entry cache) and a separate app.
		if t.Child, err = e.start(t.name, env, edgeBin, "--control-plane", e.cp, "--listen", addr,
			"--upstream", e.upstream, "--engine", engine); err != nil {
			return e, err
		}
		if err := t.WaitHTTP(ctx, t.base+o.path, cookie); err != nil {
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

// createDatabase creates edgeauth_edgebench_<random> (benchenv.CreateDatabase) and
// drops it at the end of the run.
func (e *env) createDatabase(ctx context.Context, o options) error {
	db, err := benchenv.CreateDatabase(ctx, o.databaseURL, "edgeauth_edgebench")
	if err != nil {
		return err
	}
	e.cleanups = append(e.cleanups, db.Drop)
	e.pgVersion = db.PGVersion
	e.binEnv = []string{"EDGEAUTH_DATABASE_URL=" + db.URL, "EDGEAUTH_KEYS__KEK=" + kek, "EDGEAUTH_PUBLIC_URL=" + origin}
	return nil
}

// start starts a process that the run's tear-down stops (benchenv.Start).
func (e *env) start(name string, env []string, bin string, args ...string) (*benchenv.Child, error) {
	c, err := benchenv.Start(name, env, nil, bin, args...)
	if err != nil {
		return nil, err
	}
	e.cleanups = append(e.cleanups, c.Stop)
	return c, nil
}

// startPrinting starts one of this command's -serve modes, which prints its address
// first, and returns that address as a base URL.
func (e *env) startPrinting(name string, env []string, bin string, args ...string) (string, *benchenv.Child, error) {
	addr, c, err := benchenv.StartPrinting(name, env, bin, args...)
	if c != nil {
		e.cleanups = append(e.cleanups, c.Stop)
	}
	if err != nil {
		return "", nil, err
	}
	return "http://" + addr, c, nil
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

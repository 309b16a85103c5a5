// Package benchenv is the harness the process-level benchmarks (internal/cpbench,
// internal/wsbench, internal/edgebench) share: a throwaway PostgreSQL database, free
// ports, the tree's revision, the edgeauth binary run once or started as a child process
// that the run stops, readiness over HTTP, and the figures' formatting. Each benchmark
// once carried its own copy of these; they live here so that a fix (a readiness poll, a
// database that is dropped even after a failed run) reaches every benchmark at once.
//
// It is for benchmark commands only; tests isolate themselves with their own helpers.
package benchenv

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/edgeauth/edgeauth/internal/devdb"
	"github.com/jackc/pgx/v5"
)

// Revision is `git describe --always --dirty` of the working directory, printed with
// every table so a figure names the tree that made it.
func Revision() string {
	out, err := exec.Command("git", "describe", "--always", "--dirty").Output()
	if err != nil {
		return "(unknown revision)"
	}
	return strings.TrimSpace(string(out))
}

// FreeAddr is a 127.0.0.1 address with a port free at the time of the call, for a child
// process to listen on.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Database is a database created for one run on an existing PostgreSQL server.
type Database struct {
	AdminURL  string // the server's postgres database, for CREATE and DROP
	Name      string
	URL       string // the run's database
	PGVersion string // the server's server_version
}

// CreateDatabase creates <prefix>_<random> on the server at adminURL. An empty adminURL
// means EDGEAUTH_TEST_DATABASE_URL, else the server at 127.0.0.1:5432, else the
// development cluster (internal/devdb; README, Quick start), so that a benchmark runs
// where `make test` does. The caller drops the database with Drop when the run ends.
func CreateDatabase(ctx context.Context, adminURL, prefix string) (*Database, error) {
	if adminURL == "" {
		adminURL = os.Getenv("EDGEAUTH_TEST_DATABASE_URL")
	}
	if adminURL == "" {
		adminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
		if !devdb.Answers(ctx, "127.0.0.1:5432") {
			c, err := devdb.Start(ctx, os.Stderr)
			if err != nil {
				return nil, fmt.Errorf("PostgreSQL: none at 127.0.0.1:5432 and the development cluster: %w", err)
			}
			adminURL = c.URL("postgres")
		}
	}
	b := make([]byte, 6)
	rand.Read(b)
	d := &Database{AdminURL: adminURL, Name: prefix + "_" + hex.EncodeToString(b)}
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL (-database-url): %w", err)
	}
	defer admin.Close(ctx)
	if err := admin.QueryRow(ctx, `SELECT current_setting('server_version')`).Scan(&d.PGVersion); err != nil {
		return nil, err
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		return nil, err
	}
	u.Path = "/" + d.Name
	d.URL = u.String()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+d.Name); err != nil {
		return nil, err
	}
	return d, nil
}

// Drop drops the database, closing the connections still open to it; errors are
// ignored (a tear-down has no one to report to).
func (d *Database) Drop() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if admin, err := pgx.Connect(ctx, d.AdminURL); err == nil {
		_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+d.Name+" WITH (FORCE)")
		admin.Close(ctx)
	}
}

// RunBinary runs the edgeauth binary bin to completion (migrate, users create) with env
// added to this process's environment and stdin on its standard input, and returns its
// combined output.
func RunBinary(ctx context.Context, bin string, env []string, stdin string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("edgeauth %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out, nil
}

// Child is a process the run started; its output is kept for the error that reports its
// failure.
type Child struct {
	Name   string
	Cmd    *exec.Cmd
	Exited chan struct{} // closed when the process has ended
	mu     sync.Mutex
	logs   bytes.Buffer
}

// Start starts bin with env added to this process's environment. Its standard error,
// and its standard output unless stdout is set, are kept for Output. The caller stops it
// with Stop when the run ends.
func Start(name string, env []string, stdout io.Writer, bin string, args ...string) (*Child, error) {
	c := &Child{Name: name, Cmd: exec.Command(bin, args...), Exited: make(chan struct{})}
	c.Cmd.Env = append(os.Environ(), env...)
	c.Cmd.Stderr = lockedWriter{c}
	c.Cmd.Stdout = stdout
	if stdout == nil {
		c.Cmd.Stdout = lockedWriter{c}
	}
	if err := c.Cmd.Start(); err != nil {
		return nil, err
	}
	go func() { c.Cmd.Wait(); close(c.Exited) }()
	return c, nil
}

// StartPrinting starts a process that prints the address it listens on as its first
// line of standard output (a benchmark's own -serve modes), and returns that line. The
// caller stops the child with Stop, also when an error is returned with it.
func StartPrinting(name string, env []string, bin string, args ...string) (string, *Child, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return "", nil, err
	}
	defer r.Close()
	c, err := Start(name, env, w, bin, args...)
	w.Close()
	if err != nil {
		return "", nil, err
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		<-c.Exited
		return "", c, fmt.Errorf("%s: %v\n%s", name, err, c.Output())
	}
	return strings.TrimSpace(line), c, nil
}

type lockedWriter struct{ c *Child }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	return w.c.logs.Write(p)
}

// Output is what the process has written to the kept streams so far.
func (c *Child) Output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.logs.String()
}

// Stop ends the process as a deployment would (SIGTERM), killing it after 20 s.
func (c *Child) Stop() {
	select {
	case <-c.Exited:
		return
	default:
	}
	c.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.Exited:
	case <-time.After(20 * time.Second):
		c.Cmd.Process.Kill()
		<-c.Exited
	}
}

// WaitHTTP waits up to 60 s until u answers 200 to a GET (with cookie as the Cookie
// header, when set), failing early with the process's output if it exits.
func (c *Child) WaitHTTP(ctx context.Context, u, cookie string) error {
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
		case <-c.Exited:
			return fmt.Errorf("%s exited:\n%s", c.Name, c.Output())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond): // readiness poll
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready at %s (last: %s):\n%s", c.Name, u, last, c.Output())
		}
	}
}

// Millis formats a latency for the tables: three significant figures at most.
func Millis(d time.Duration) string {
	switch {
	case d >= 100*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/1e6)
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.2f ms", float64(d)/1e6)
}

package pgtest

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/pgcluster"
	"github.com/jackc/pgx/v5"
)

// BinDir holds the PostgreSQL server binaries (pgcluster.BinDir: EDGEAUTH_PG_BIN, or
// the newest /usr/lib/postgresql/<major>/bin). Missing binaries fail the test.
func BinDir(t testing.TB) string {
	t.Helper()
	d, err := pgcluster.BinDir()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return d
}

// Server is a private PostgreSQL cluster owned by one test: for tests that stop, restart
// or otherwise disturb the server, which must never happen to the shared one.
type Server struct {
	c    *pgcluster.Cluster
	port int
}

// settings trade durability for speed: a test server's data lives as long as the test.
var settings = []string{"max_connections=200", "shared_buffers=32MB", "fsync=off"}

// StartServer initializes a cluster in a temporary directory, starts it on a free
// 127.0.0.1 port with trust authentication, and stops and removes it when the test
// ends. Missing binaries fail the test.
func StartServer(t testing.TB) *Server {
	t.Helper()
	dir, err := os.MkdirTemp("", "edgeauth-pg-")
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	c, err := pgcluster.New(dir)
	if err != nil {
		os.RemoveAll(dir)
		t.Fatalf("pgtest: %v", err)
	}
	s := &Server{c: c}
	t.Cleanup(func() {
		s.Stop(t)
		os.RemoveAll(dir)
	})
	ctx := context.Background()
	if err := c.Init(ctx, false); err != nil {
		t.Fatal(err)
	}
	if s.port, err = pgcluster.FreePort(); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	s.start(t)
	return s
}

// URL returns a connection URL for database db on the server.
func (s *Server) URL(db string) string { return pgcluster.URL(s.port, db) }

// Port is the server's TCP port on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// NewDatabase creates an empty database on this server and returns its URL.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer c.Close(ctx)
	name := "edgeauth_test_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	return s.URL(name)
}

// Restart stops the server in "immediate" mode (like a crash: connections cut, no
// shutdown checkpoint, crash recovery at start) and starts it again on the same port.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if err := s.c.Stop(context.Background(), "immediate"); err != nil {
		t.Fatal(err)
	}
	s.start(t)
}

// Stop stops the server (fast mode) if it is running. Safe to call more than once.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if err := s.c.Stop(context.Background(), "fast"); err != nil {
		t.Errorf("pgtest: stop: %v", err)
	}
}

func (s *Server) start(t testing.TB) {
	t.Helper()
	if err := s.c.Start(context.Background(), s.port, settings...); err != nil {
		t.Fatal(err)
	}
}

// Freeze stops (SIGSTOP) every process of the server: it keeps its connections and
// its port, the kernel still accepts connections and data, but nothing answers (a host
// that hangs or drops off the network). Thaw resumes it; the test's end does too.
func (s *Server) Freeze(t testing.TB) {
	t.Helper()
	pids := s.pids(t)
	t.Cleanup(func() { s.signal(pids, syscall.SIGCONT) })
	s.signal(pids, syscall.SIGSTOP)
}

// Thaw resumes a server Freeze stopped.
func (s *Server) Thaw(t testing.TB) {
	t.Helper()
	s.signal(s.pids(t), syscall.SIGCONT)
}

// pids are the postmaster's and its children's.
func (s *Server) pids(t testing.TB) []int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.c.DataDir(), "postmaster.pid"))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pm, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		t.Fatalf("pgtest: postmaster.pid: %v", err)
	}
	pids := []int{pm}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so read after its ')'.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(b[i+1:]))
		if len(fields) < 2 || fields[1] != strconv.Itoa(pm) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(f))); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

func (s *Server) signal(pids []int, sig syscall.Signal) {
	for _, p := range pids {
		_ = syscall.Kill(p, sig)
	}
}

package pgtest

import (
	"context"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// BinDir holds the PostgreSQL 15 server binaries; EDGEAUTH_PG_BIN overrides it.
func BinDir() string {
	if d := os.Getenv("EDGEAUTH_PG_BIN"); d != "" {
		return d
	}
	return "/usr/lib/postgresql/15/bin"
}

// Server is a private PostgreSQL cluster owned by one test: for tests that stop, restart
// or otherwise disturb the server, which must never happen to the shared one.
type Server struct {
	dir  string // temporary root (data, socket, log)
	data string
	port int
	asPG bool // run the binaries as the postgres OS user (we are root)
}

// StartServer initializes a cluster in a temporary directory (as the postgres OS user
// through runuser when running as root, since PostgreSQL refuses to run as root), starts
// it on a free 127.0.0.1 port with trust authentication, and stops and removes it when the
// test ends. Missing binaries fail the test.
func StartServer(t testing.TB) *Server {
	t.Helper()
	dir, err := os.MkdirTemp("", "edgeauth-pg-")
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	s := &Server{dir: dir, data: filepath.Join(dir, "data"), asPG: os.Geteuid() == 0}
	t.Cleanup(func() {
		s.Stop(t)
		os.RemoveAll(dir)
	})
	if s.asPG {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("pgtest: running as root needs a postgres OS user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatalf("pgtest: %v", err)
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatalf("pgtest: %v", err)
		}
	}
	s.run(t, "initdb", "-D", s.data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	s.start(t)
	return s
}

// URL returns a connection URL for database db on the server.
func (s *Server) URL(db string) string {
	return "postgres://postgres@127.0.0.1:" + strconv.Itoa(s.port) + "/" + db + "?sslmode=disable"
}

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
	s.run(t, "pg_ctl", "-D", s.data, "-m", "immediate", "-w", "stop")
	s.start(t)
}

// Stop stops the server (fast mode) if it is running. Safe to call more than once.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(s.data, "postmaster.pid")); err != nil {
		return
	}
	if out, err := s.cmd("pg_ctl", "-D", s.data, "-m", "fast", "-w", "stop").CombinedOutput(); err != nil {
		t.Errorf("pgtest: stop: %v\n%s", err, out)
	}
}

func (s *Server) start(t testing.TB) {
	t.Helper()
	opts := "-c listen_addresses=127.0.0.1 -c port=" + strconv.Itoa(s.port) +
		" -c unix_socket_directories=" + s.dir + " -c max_connections=200 -c shared_buffers=32MB -c fsync=off"
	s.run(t, "pg_ctl", "-D", s.data, "-l", filepath.Join(s.dir, "server.log"), "-o", opts, "-w", "-t", "60", "start")
}

func (s *Server) cmd(name string, args ...string) *exec.Cmd {
	bin := filepath.Join(BinDir(), name)
	if s.asPG {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	}
	return exec.Command(bin, args...)
}

func (s *Server) run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := s.cmd(name, args...).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
		t.Fatalf("pgtest: %s: %v\n%s\n%s", name, err, out, log)
	}
}

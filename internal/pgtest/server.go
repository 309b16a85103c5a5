package pgtest

import (
	"context"
	"os"
	"strconv"
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

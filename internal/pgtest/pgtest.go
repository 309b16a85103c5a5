// Package pgtest gives each test its own PostgreSQL database on a real server, created
// for the test and dropped when it ends.
//
// The server is EDGEAUTH_TEST_DATABASE_URL (a URL to any database the user may create
// databases from), default postgres://postgres@127.0.0.1:5432/postgres. A server that
// cannot be reached fails the test: storage tests are never silently skipped.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultAdminURL is used when EDGEAUTH_TEST_DATABASE_URL is not set.
const DefaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// AdminURL returns the URL tests create their databases through.
func AdminURL() string {
	if u := os.Getenv("EDGEAUTH_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultAdminURL
}

// NewDatabase creates an empty database and returns a connection URL for it. The
// database is dropped (connections forced closed) when the test and its subtests end.
func NewDatabase(t testing.TB) string {
	t.Helper()
	return newDatabase(t, "")
}

// newDatabase creates a database with CREATE DATABASE's options (e.g. "TEMPLATE x"),
// dropped when the test ends, and returns its URL.
func newDatabase(t testing.TB, options string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		t.Fatalf("pgtest: cannot reach PostgreSQL at %s (start it, or set EDGEAUTH_TEST_DATABASE_URL): %v", redact(AdminURL()), err)
	}
	defer admin.Close(ctx)

	name := randomName("edgeauth_test_")
	if err := createRetrying(ctx, admin, "CREATE DATABASE "+name+" "+options); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop %s: %v", name, err)
		}
	})
	return urlOf(name)
}

func randomName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// urlOf is the URL of database name on the admin URL's server.
func urlOf(name string) string {
	cfg, err := pgx.ParseConfig(AdminURL())
	if err != nil {
		return withDatabase(AdminURL(), "", name)
	}
	return withDatabase(AdminURL(), cfg.Database, name)
}

// withDatabase swaps the database name in a URL (path component) for another.
func withDatabase(url, from, to string) string {
	q := ""
	if i := strings.IndexByte(url, '?'); i >= 0 {
		url, q = url[:i], url[i:]
	}
	if from != "" && strings.HasSuffix(url, "/"+from) {
		url = strings.TrimSuffix(url, from)
	} else if !strings.HasSuffix(url, "/") {
		url += "/"
	}
	return url + to + q
}

func redact(url string) string {
	if at := strings.LastIndexByte(url, '@'); at >= 0 {
		if s := strings.Index(url, "://"); s >= 0 && s < at {
			return url[:s+3] + "…" + url[at:]
		}
	}
	return url
}

package pgtest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/migrations"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// template is the migrated database of this test process, copied for each test by
// NewMigratedDatabase and dropped by Main.
var template struct {
	mu     sync.Mutex
	inMain bool   // Main runs the tests (and will drop the template)
	name   string // "" until created
}

// Main runs a package's tests (m.Run) and then drops the migrated template database
// that NewMigratedDatabase made, if any. Every package that uses NewMigratedDatabase
// or NewPool calls it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
func Main(m *testing.M) int {
	template.mu.Lock()
	template.inMain = true
	template.mu.Unlock()
	code := m.Run()
	template.mu.Lock()
	defer template.mu.Unlock()
	if template.name != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := exec(ctx, "DROP DATABASE IF EXISTS "+template.name+" WITH (FORCE)"); err != nil && code == 0 {
			println("pgtest: drop the template database:", err.Error())
			code = 1
		}
		template.name = ""
	}
	return code
}

// NewMigratedDatabase is NewDatabase with every migration applied. The database is a
// copy (CREATE DATABASE ... TEMPLATE) of a template migrated once per test process,
// which costs a file copy instead of a migration run per test. The package must run
// its tests through Main.
func NewMigratedDatabase(t testing.TB) string {
	t.Helper()
	tmpl, err := migratedTemplate(t)
	if err != nil {
		t.Fatalf("pgtest: migrated template: %v", err)
	}
	return newDatabase(t, "TEMPLATE "+tmpl)
}

// NewPool returns a pool on a new migrated database (NewMigratedDatabase), closed when
// the test ends.
func NewPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), NewMigratedDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// migratedTemplate creates and migrates the template on first use.
func migratedTemplate(t testing.TB) (string, error) {
	template.mu.Lock()
	defer template.mu.Unlock()
	if !template.inMain {
		t.Fatal("pgtest: NewMigratedDatabase needs the package's TestMain to call pgtest.Main (it drops the template)")
	}
	if template.name != "" {
		return template.name, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := randomName("edgeauth_template_")
	if err := exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	pool, err := pgxpool.New(ctx, urlOf(name))
	if err == nil {
		err = migrations.Apply(ctx, pool)
		pool.Close() // a template must have no connections when it is copied
	}
	if err != nil {
		_ = exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		return "", err
	}
	template.name = name
	return name, nil
}

// exec runs one statement through the admin URL.
func exec(ctx context.Context, sql string) error {
	c, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, sql)
	return err
}

// createRetrying runs CREATE DATABASE, retrying while the template is still held by a
// connection that is going away (SQLSTATE 55006, object_in_use).
func createRetrying(ctx context.Context, admin *pgx.Conn, sql string) error {
	for attempt := 0; ; attempt++ {
		_, err := admin.Exec(ctx, sql)
		var pe *pgconn.PgError
		if err == nil || !errors.As(err, &pe) || pe.Code != "55006" || attempt == 50 {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

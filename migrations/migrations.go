// Package migrations holds the database schema as forward-only SQL files, embedded in
// the binary and applied with tern: each file in its own transaction, all of them under
// a PostgreSQL advisory lock, so several replicas may start at once and only one
// applies what is pending while the others wait and then find nothing to do.
//
// Files are named NNN_what.sql and never edited once released; a change is a new file.
package migrations

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"
)

//go:embed *.sql
var files embed.FS

// VersionTable records the applied version.
const VersionTable = "edgeauth_schema_version"

func migrator(ctx context.Context, conn *pgx.Conn) (*migrate.Migrator, error) {
	m, err := migrate.NewMigrator(ctx, conn, VersionTable)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	if err := m.LoadMigrations(files); err != nil {
		return nil, fmt.Errorf("migrations: load: %w", err)
	}
	return m, nil
}

// Apply brings the database to the latest version.
func Apply(ctx context.Context, pool *pgxpool.Pool) error {
	c, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	defer c.Release()
	m, err := migrator(ctx, c.Conn())
	if err != nil {
		return err
	}
	if err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("migrations: apply: %w", err)
	}
	return nil
}

// Status reports the database's version and the latest one this binary knows.
// Readiness checks compare the two.
func Status(ctx context.Context, pool *pgxpool.Pool) (current, latest int32, err error) {
	c, err := pool.Acquire(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("migrations: %w", err)
	}
	defer c.Release()
	var exists bool
	if err := c.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, VersionTable).Scan(&exists); err != nil {
		return 0, 0, fmt.Errorf("migrations: %w", err)
	}
	m, err := migrator(ctx, c.Conn())
	if err != nil {
		return 0, 0, err
	}
	latest = int32(len(m.Migrations))
	if !exists {
		return 0, latest, nil
	}
	current, err = m.GetCurrentVersion(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("migrations: %w", err)
	}
	return current, latest, nil
}

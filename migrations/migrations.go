// Package migrations holds the database schema as forward-only SQL files, embedded in
// the binary and applied with tern: each file in its own transaction, all of them under
// a PostgreSQL advisory lock, so several replicas may start at once and only one
// applies what is pending while the others wait and then find nothing to do. A binary
// never runs against a schema newer than its own files (ErrSchemaNewer): an older
// release does not know what a newer one changed.
//
// Files are named NNN_what.sql and never edited once released; a change is a new file.
package migrations

import (
	"context"
	"embed"
	"errors"
	"fmt"

	"github.com/edgeauth/edgeauth/internal/loginname"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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

// ErrSchemaNewer is returned when the database's schema is newer than the latest this
// binary knows: a newer release migrated it. Migrations are forward-only, so this binary
// cannot work with it (its statements may name what the newer schema dropped); upgrade it.
var ErrSchemaNewer = errors.New("migrations: database schema is newer than this binary")

// ErrSchemaOlder is returned by Check when migrations are pending.
var ErrSchemaOlder = errors.New("migrations: database schema is older than this binary")

func newerError(current, latest int32) error {
	return fmt.Errorf("%w (version %d, this binary knows up to %d): upgrade this binary to the release that migrated it", ErrSchemaNewer, current, latest)
}

// Apply brings the database to the latest version. It returns an error wrapping
// ErrSchemaNewer, and changes nothing, when the schema is newer than this binary.
func Apply(ctx context.Context, pool *pgxpool.Pool) error {
	_, err := Upgrade(ctx, pool)
	return err
}

// Upgrade is Apply that also returns the names of the migrations it applied, in order
// (none when the schema was current, for instance because another replica applied them
// first). On an error it returns those that were applied before it: each file is
// applied in its own transaction, so the failing one left nothing behind.
func Upgrade(ctx context.Context, pool *pgxpool.Pool) (applied []string, err error) {
	c, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	defer c.Release()
	m, err := migrator(ctx, c.Conn())
	if err != nil {
		return nil, err
	}
	latest := int32(len(m.Migrations))
	newer := func() error {
		cur, err := m.GetCurrentVersion(ctx)
		if err == nil && cur > latest {
			return newerError(cur, latest)
		}
		return nil
	}
	if err := newer(); err != nil {
		return nil, err
	}
	var started []string
	m.OnStart = func(_ int32, name, _, _ string) { started = append(started, name) }
	if err := m.Migrate(ctx); err != nil {
		if len(started) > 0 {
			started = started[:len(started)-1] // the one that failed
		}
		if nerr := newer(); nerr != nil { // a newer replica migrated it meanwhile
			err = nerr
		}
		return started, fmt.Errorf("migrations: apply: %w", err)
	}
	return started, fillLoginNameKeys(ctx, c.Conn())
}

// fillLoginNameKeys sets users.email_key (migration 007) of every row that has none to
// loginname.Key of its e-mail, in one statement. Two accounts whose names have one key
// are an error naming both: which keeps the name is an operator's decision.
func fillLoginNameKeys(ctx context.Context, conn *pgx.Conn) error {
	type row struct{ ID, Email string }
	rows, err := conn.Query(ctx, `SELECT id::text, email FROM users WHERE email_key IS NULL ORDER BY created_at, id`)
	if err != nil {
		return fmt.Errorf("migrations: login name keys: %w", err)
	}
	missing, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil || len(missing) == 0 {
		if err != nil {
			err = fmt.Errorf("migrations: login name keys: %w", err)
		}
		return err
	}
	ids, keys := make([]string, len(missing)), make([]string, len(missing))
	for i, r := range missing {
		ids[i], keys[i] = r.ID, loginname.Key(r.Email)
	}
	_, err = conn.Exec(ctx, `UPDATE users u SET email_key = k.key
		FROM unnest($1::uuid[], $2::text[]) AS k(id, key) WHERE u.id = k.id AND u.email_key IS NULL`, ids, keys)
	if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Code == "23505" {
		return fmt.Errorf("migrations: %w", sameKeyAccounts(ctx, conn, ids, keys))
	}
	if err != nil {
		return fmt.Errorf("migrations: login name keys: %w", err)
	}
	return nil
}

// sameKeyAccounts names two accounts whose login names have one key (loginname.Key):
// among those being filled, or one being filled and one that has its key already.
func sameKeyAccounts(ctx context.Context, conn *pgx.Conn, ids, keys []string) error {
	seen := map[string]string{}
	for i, k := range keys {
		if other, ok := seen[k]; ok {
			return fmt.Errorf("login name keys: users %s and %s have the same login name after normalization (case, Unicode forms); rename one (UPDATE users SET email = ... WHERE id = ...) and start again", other, ids[i])
		}
		seen[k] = ids[i]
	}
	var a, b string
	err := conn.QueryRow(ctx, `SELECT u.id::text, k.id FROM users u JOIN unnest($1::text[], $2::text[]) AS k(id, key)
		ON u.email_key = k.key LIMIT 1`, ids, keys).Scan(&a, &b)
	if err != nil {
		return fmt.Errorf("login name keys: two users have the same login name after normalization (%v)", err)
	}
	return fmt.Errorf("login name keys: users %s and %s have the same login name after normalization (case, Unicode forms); rename one (UPDATE users SET email = ... WHERE id = ...) and start again", a, b)
}

// Check reports whether the database's schema is the version this binary needs: nil
// when it is, an error wrapping ErrSchemaOlder when migrations are pending (run
// `edgeauth migrate`), ErrSchemaNewer when a newer release migrated it.
func Check(ctx context.Context, pool *pgxpool.Pool) error {
	cur, latest, err := Status(ctx, pool)
	switch {
	case err != nil:
		return err
	case cur > latest:
		return newerError(cur, latest)
	case cur < latest:
		return fmt.Errorf("%w (version %d of %d): run `edgeauth migrate`", ErrSchemaOlder, cur, latest)
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

// Package store is the control plane's PostgreSQL storage for users, sessions, refresh
// tokens, audit events and failed-login records.
//
// Queries run either directly on the pool (Store) or inside one transaction (InTx), with
// the same methods. The error vocabulary is small (errors.go): ErrNotFound, ErrConflict,
// ErrInvalidInput, ErrUnavailable and ErrInternal, wrapped with context; driver errors are
// classified in one place (Classify), by SQLSTATE and the driver's error types.
package store

import (
	"context"

	"github.com/edgeauth/edgeauth/migrations"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// RevocationChannel is the PostgreSQL NOTIFY channel on which every revocation is
// published (a RevocationNotice), from inside the transaction that revokes it.
const RevocationChannel = "edgeauth_revocations"

// dbtx is what both a pool and a transaction offer.
type dbtx interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// Queries are the storage operations. On a Store each runs on its own; inside InTx they
// share the transaction (and its row locks).
type Queries struct {
	db dbtx
}

// Store is the PostgreSQL store.
type Store struct {
	Queries
	pool   *pgxpool.Pool
	groups refreshGroups // refreshes waiting for a lane (refreshgroup.go)
}

// New returns a store on pool. The schema must be current (migrations.Apply).
func New(pool *pgxpool.Pool) *Store {
	return &Store{Queries: Queries{db: pool}, pool: pool,
		groups: refreshGroups{lanes: refreshLanes, max: refreshGroupMax, timeout: refreshGroupTimeout}}
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// SchemaVersion returns the database's schema version and the latest this binary has
// (migrations.Status).
func (s *Store) SchemaVersion(ctx context.Context) (current, latest int32, err error) {
	return migrations.Status(ctx, s.pool)
}

// InTx runs fn in one transaction (READ COMMITTED), committed when fn returns nil and
// rolled back otherwise. fn's error is returned as is; a failure to begin or commit is
// classified like any other (ErrUnavailable when the database went away). fn must not
// keep q after it returns.
func (s *Store) InTx(ctx context.Context, fn func(q Queries) error) error {
	var fnErr error
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		fnErr = fn(Queries{db: tx})
		return fnErr
	})
	if err != nil && fnErr == nil {
		return translate("transaction", err)
	}
	return err
}

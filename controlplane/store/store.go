// Package store is the control plane's PostgreSQL storage for users, sessions, refresh
// tokens, audit events and failed-login records.
//
// Queries run either directly on the pool (Store) or inside one transaction (InTx), with
// the same methods. The error vocabulary is tiny: ErrNotFound and ErrConflict, wrapped
// with context; every other error is an infrastructure failure. pgx.ErrNoRows and unique
// violations are translated in one place (translate).
package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

var (
	// ErrNotFound: the row asked for does not exist (or is not in the state asked for).
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a uniqueness rule or a concurrent change prevented the write.
	ErrConflict = errors.New("store: conflict")
)

// RevocationChannel is the PostgreSQL NOTIFY channel on which the id of every revoked
// session is published, from inside the transaction that revokes it.
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
	pool *pgxpool.Pool
}

// New returns a store on pool. The schema must be current (migrations.Apply).
func New(pool *pgxpool.Pool) *Store {
	return &Store{Queries: Queries{db: pool}, pool: pool}
}

// Pool returns the underlying pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// InTx runs fn in one transaction (READ COMMITTED), committed when fn returns nil and
// rolled back otherwise. fn must not keep q after it returns.
func (s *Store) InTx(ctx context.Context, fn func(q Queries) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return fn(Queries{db: tx})
	})
}

// translate maps driver errors onto the store vocabulary: no rows -> ErrNotFound,
// unique or exclusion violation -> ErrConflict. what names the operation.
func translate(what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "23505" || pe.Code == "23P01") {
		return fmt.Errorf("%s: %w (%s)", what, ErrConflict, pe.ConstraintName)
	}
	return fmt.Errorf("%s: %w", what, err)
}

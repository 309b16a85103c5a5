package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// RefreshState is what a refresh decides on: the session (locked, current), its user, and
// the immutable facts of the token presented. Whether that token is the live one, the
// previous one or older follows from Generation against Session.Generation.
type RefreshState struct {
	Session Session
	User    User
	TokenID int64
	// Generation of the token presented.
	Generation int
}

// Rotation replaces a session's live refresh token by its successor.
type Rotation struct {
	SessionID    string
	OldID        int64     // the live token
	Generation   int       // its generation (the session's current one)
	NewHash      []byte    // SHA-256 of the successor token
	SuccessorBox []byte    // the successor's tokens sealed under the old token
	At           time.Time // rotation time: the old token's use, the successor's creation, the session's last use
	IdleExpires  time.Time // the session's new idle expiry (capped at its absolute expiry)
}

// RefreshWrites are the changes a refresh makes; the zero value makes none.
type RefreshWrites struct {
	Rotate *Rotation   // rotate the live token
	Revoke string      // revoke the session with this reason (NOTIFYing its id)
	At     time.Time   // revocation time
	Audit  *AuditEvent // record an event
}

const lockRefreshSQL = `SELECT ` + sessionColumns + `, u.id::text, u.email, u.password_hash, u.roles, u.created_at,
	t.id, t.generation
	FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id JOIN users u ON u.id = s.user_id
	WHERE t.hash = $1
	FOR UPDATE OF s`

// rotateSQL moves the session to the next generation (only from the expected one),
// inserts the successor and marks the old token used with its successor, in one
// statement. All three happen or none: when a part matches nothing the final division by
// zero aborts the statement (and the transaction).
const rotateSQL = `
	WITH s AS (
		UPDATE sessions SET generation = generation + 1, rotated_at = $2, successor_box = $4,
			last_used_at = $2, idle_expires_at = least($5, absolute_expires_at)
		WHERE id = $6 AND generation = $7 AND revoked_at IS NULL
		RETURNING id, generation
	), n AS (
		INSERT INTO refresh_tokens (session_id, hash, generation, parent_id, created_at)
		SELECT id, $3, generation, $1, $2 FROM s
		RETURNING id
	), o AS (
		UPDATE refresh_tokens SET used_at = $2, successor_id = n.id
		FROM n WHERE refresh_tokens.id = $1 AND refresh_tokens.used_at IS NULL
		RETURNING n.id
	)
	SELECT 1 / (SELECT count(*) FROM o)`

// RefreshTx runs one refresh as a single transaction in two network round trips:
//
//  1. BEGIN, then one statement that finds the token by hash and locks its session
//     (SELECT ... FOR UPDATE). A refresh waiting for the lock sees the session as the
//     rotation it waited for left it, and the token's columns it reads never change.
//  2. decide(state) returns the writes, sent pipelined with COMMIT.
//
// A refresh is the control plane's hot path (one per access-token lifetime per active
// session): this keeps it to two round trips where BEGIN/SELECT/UPDATE/INSERT/COMMIT issued
// one by one take five. ErrNotFound if no token has that hash; decide's error is returned
// as is (after ROLLBACK); ErrConflict if a rotation found the session moved on (impossible
// under the lock, checked anyway).
func (s *Store) RefreshTx(ctx context.Context, tokenHash []byte, decide func(RefreshState) (RefreshWrites, error)) error {
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return translate("refresh", err)
	}
	// A connection left inside a transaction (any failure below) is destroyed on release.
	defer c.Release()

	var st RefreshState
	found := false
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(lockRefreshSQL, tokenHash).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			found = true
			u := &st.User
			dest := append(sessionDest(&st.Session), &u.ID, &u.Email, &u.PasswordHash, &u.Roles, &u.Created, &st.TokenID, &st.Generation)
			if err := rows.Scan(dest...); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	if err := c.SendBatch(ctx, b).Close(); err != nil {
		return translate("refresh: lock", err)
	}
	rollback := func() { _, _ = c.Exec(ctx, "ROLLBACK") }
	if !found {
		rollback()
		return translate("refresh: lock", errNoRows)
	}

	w, err := decide(st)
	if err != nil {
		rollback()
		return err
	}
	b = &pgx.Batch{}
	if r := w.Rotate; r != nil {
		b.Queue(rotateSQL, r.OldID, r.At, r.NewHash, r.SuccessorBox, r.IdleExpires, r.SessionID, r.Generation)
	}
	if w.Revoke != "" {
		b.Queue(revokeSQL, st.Session.ID, "", w.At, w.Revoke)
	}
	if e := w.Audit; e != nil {
		sql, args, err := auditInsert(*e)
		if err != nil {
			rollback()
			return err
		}
		b.Queue(sql, args...)
	}
	b.Queue("COMMIT")
	if err := c.SendBatch(ctx, b).Close(); err != nil {
		if pe, ok := errors.AsType[*pgconn.PgError](err); ok && pe.Code == sqlstateDivisionByZero { // see rotateSQL
			return fmt.Errorf("refresh: rotation found the session moved on: %w", ErrConflict)
		}
		return translate("refresh: write", err)
	}
	if c.Conn().PgConn().TxStatus() != 'I' {
		return errors.New("refresh: transaction not closed")
	}
	return nil
}

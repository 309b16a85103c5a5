package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// RefreshState is what a refresh decides on, read under the session's row lock.
type RefreshState struct {
	Session   Session
	User      User
	Token     RefreshToken  // the token presented
	Successor *RefreshToken // its successor, nil if it was never rotated
}

// RefreshWrites are the changes a refresh makes; all nil means none.
type RefreshWrites struct {
	Rotate *Rotation   // rotate the presented token
	Revoke string      // revoke the session with this reason (NOTIFYing its id)
	At     time.Time   // revocation time
	Audit  *AuditEvent // record an event
}

// RefreshTx runs one refresh as a single transaction in two network round trips:
//
//  1. BEGIN; lock the session owning the token (SELECT ... FOR UPDATE); read the token and
//     its successor, pipelined: the server runs the read once the lock is granted, so
//     it sees whatever a rotation it waited for committed;
//  2. decide(state) returns the writes, which are sent pipelined with COMMIT.
//
// A refresh is the control plane's hot path (one per access-token lifetime per active
// session); this keeps it at two round trips where BEGIN/SELECT/UPDATE/INSERT/COMMIT
// issued one by one take five. ErrNotFound if no token has that hash; decide's error is
// returned as is (after ROLLBACK). ErrConflict if the rotated token was no longer live.
func (s *Store) RefreshTx(ctx context.Context, tokenHash []byte, decide func(RefreshState) (RefreshWrites, error)) error {
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return translate("refresh", err)
	}
	// A connection left inside a transaction (any failure below) is destroyed on release.
	defer c.Release()

	var st RefreshState
	var toks []RefreshToken
	found := false
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(lockSessionSQL, tokenHash).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			found = true
			if err := rows.Scan(append(sessionDest(&st.Session), &st.User.ID, &st.User.Email, &st.User.PasswordHash, &st.User.Roles, &st.User.Created)...); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	b.Queue(tokenWithSuccessorSQL, tokenHash).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var t RefreshToken
			var o int
			if err := rows.Scan(append(tokenDest(&t), &o)...); err != nil {
				return err
			}
			toks = append(toks, t)
		}
		return rows.Err()
	})
	if err := c.SendBatch(ctx, b).Close(); err != nil {
		return translate("refresh: lock", err)
	}
	rollback := func() { _, _ = c.Exec(ctx, "ROLLBACK") }
	if !found || len(toks) == 0 {
		rollback()
		return translate("refresh: lock", errNoRows)
	}
	st.Token = toks[0]
	if len(toks) > 1 {
		st.Successor = &toks[1]
	}

	w, err := decide(st)
	if err != nil {
		rollback()
		return err
	}
	b = &pgx.Batch{}
	rotated := false
	if r := w.Rotate; r != nil {
		b.Queue(rotateSQL, r.OldID, r.At, r.NewHash, r.Sealed, r.IdleExpires).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				rotated = true
			}
			return rows.Err()
		})
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
		return translate("refresh: write", err)
	}
	if w.Rotate != nil && !rotated {
		// Impossible under the lock; the COMMIT above did nothing harmful (no rows changed).
		return fmt.Errorf("refresh: %w", ErrConflict)
	}
	if c.Conn().PgConn().TxStatus() != 'I' {
		return errors.New("refresh: transaction not closed")
	}
	return nil
}

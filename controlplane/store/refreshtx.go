package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// RefreshAttempt is one presented refresh token and the rotation it makes if it is its
// session's live one. The token names its session and generation; Hash is SHA-256 of
// its secret. Everything a rotation writes is prepared before the statement runs, so a
// refresh takes one statement, one round trip, one row and one commit (RefreshSQL); under
// load, several share the round trip and the commit (refreshgroup.go).
type RefreshAttempt struct {
	SessionID  string
	Generation int    // the generation the token names
	Hash       []byte // SHA-256 of the token's secret
	// Issued: the token's tag shows that the service issued it (auth checks the tag;
	// the store cannot). It decides whether a token older than the live one's parent is
	// reuse or made up.
	Issued bool
	At     time.Time
	// GraceFrom: a rotation at or after it lets the previous token be presented again
	// (At minus the grace window).
	GraceFrom time.Time

	NewHash      []byte    // SHA-256 of the successor's secret
	SuccessorBox []byte    // the successor sealed under the presented token (auth)
	IdleExpires  time.Time // the session's new idle expiry (capped at its absolute expiry)

	ReuseReason string // revocation reason and audit kind when the token is reused
	IP          string // for the audit event of a reuse
}

// RefreshOutcome is what a refresh did.
type RefreshOutcome int

const (
	// RefreshInvalid: no such session, a secret that is neither its live token's nor
	// its parent's nor (without Issued) any other, a generation it never had, or a
	// session revoked or expired. Nothing was written.
	RefreshInvalid RefreshOutcome = iota
	// RefreshRotated: the token was the live one; the successor is now (session's
	// generation + 1, NewHash), the presented token its parent, the session's last use
	// and idle expiry moved, SuccessorBox stored.
	RefreshRotated
	// RefreshGrace: the token is the live one's parent and the rotation that replaced it
	// is at or after GraceFrom; Session.SuccessorBox holds the successor. Nothing was
	// written.
	RefreshGrace
	// RefreshReused: any other genuine token of the session (the parent after the
	// grace, or an older one that was Issued). The session is now revoked with
	// ReuseReason (NOTIFYed on RevocationChannel) and the reuse audited, in the same
	// statement.
	RefreshReused
)

// RefreshResult is the outcome and the session (as the refresh left it) with its user
// (without the password hash).
type RefreshResult struct {
	Outcome RefreshOutcome
	Session Session
	User    User
}

// RefreshSQL is a refresh: one statement keyed by the session's primary key, writing
// one row.
//
//	$1 session id, $2 generation named, $3 hash of the secret, $4 now, $5 grace from,
//	$6 successor hash, $7 successor box, $8 new idle expiry, $9 reuse reason, $10 ip,
//	$11 issued (the token's tag is valid)
//
// The UPDATE of the session matches only when the refresh writes: the session is
// active and the token is either its live one (generation and hash: rotate) or a
// genuine older one outside the grace rule (revoke). Genuine means the live token's
// parent (its hash is in the row) or a token the service issued ($11). A rotation moves
// the live hash to previous_hash and the successor's in; the SET list reads the row as
// it was. PostgreSQL's row lock serialises concurrent refreshes of one session: a
// refresh that waited for another re-checks these conditions against the row that one
// left (READ COMMITTED's re-check of an UPDATE's WHERE), so one token never rotates
// twice. From a revocation follow, in the same statement, the audit event (a) and the
// NOTIFY; every part happens or none.
//
// When the UPDATE wrote nothing, the second branch returns the session as the
// statement's snapshot saw it, hashes included: the caller then has a grace replay
// (nothing to write), an invalid token, or, if the snapshot says the statement should
// have written, a refresh that lost a race for the row while it was changing (Refresh
// runs the statement again, with a new snapshot).
var RefreshSQL = `
	WITH s AS (
		UPDATE sessions SET
			generation      = CASE WHEN sessions.generation = $2 THEN sessions.generation + 1 ELSE sessions.generation END,
			token_hash      = CASE WHEN sessions.generation = $2 THEN $6::bytea ELSE sessions.token_hash END,
			previous_hash   = CASE WHEN sessions.generation = $2 THEN sessions.token_hash ELSE sessions.previous_hash END,
			rotated_at      = CASE WHEN sessions.generation = $2 THEN $4 ELSE sessions.rotated_at END,
			successor_box   = CASE WHEN sessions.generation = $2 THEN $7::bytea END,
			last_used_at    = CASE WHEN sessions.generation = $2 THEN $4 ELSE sessions.last_used_at END,
			idle_expires_at = CASE WHEN sessions.generation = $2 THEN least($8, sessions.absolute_expires_at) ELSE sessions.idle_expires_at END,
			revoked_at      = CASE WHEN sessions.generation = $2 THEN NULL ELSE $4::timestamptz END,
			revoke_reason   = CASE WHEN sessions.generation = $2 THEN NULL ELSE $9::text END
		FROM users u
		WHERE sessions.id = $1 AND u.id = sessions.user_id
			AND sessions.revoked_at IS NULL AND sessions.idle_expires_at > $4 AND sessions.absolute_expires_at > $4
			AND ((sessions.generation = $2 AND sessions.token_hash = $3)
				OR ($2 < sessions.generation
					AND ($11 OR ($2 = sessions.generation - 1 AND sessions.previous_hash = $3))
					AND NOT ($2 = sessions.generation - 1 AND sessions.previous_hash = $3 AND sessions.rotated_at >= $5)))
		RETURNING sessions.*, u.id AS uid, u.email, u.roles, u.created_at AS user_created_at,
			sessions.revoked_at IS NULL AS rotated
	), a AS (
		INSERT INTO audit_events (kind, user_id, session_id, ip, at, detail)
		SELECT $9, s.user_id, s.id, $10, $4, jsonb_build_object('generation', $2::int, 'live_generation', s.generation)
		FROM s WHERE NOT s.rotated
	)
	SELECT true, ` + refreshSessionColumns("s") + `, s.uid::text, s.email, s.roles, s.user_created_at, s.rotated,
		CASE WHEN s.rotated THEN 0
			ELSE length(pg_notify('` + RevocationChannel + `', json_build_object('sid', s.id, 'seq', s.revocation_seq, 'reason', s.revoke_reason)::text)::text) END
	FROM s
	UNION ALL
	SELECT false, ` + refreshSessionColumns("x") + `, u.id::text, u.email, u.roles, u.created_at, false, 0
	FROM sessions x JOIN users u ON u.id = x.user_id
	WHERE x.id = $1 AND NOT EXISTS (SELECT FROM s)`

// refreshSessionColumns lists a session's columns (sessionDest's order) from a.
func refreshSessionColumns(a string) string {
	return a + `.id, ` + a + `.user_id::text, ` + a + `.user_agent, ` + a + `.ip, ` + a + `.created_at, ` + a + `.last_used_at, ` +
		a + `.idle_expires_at, ` + a + `.absolute_expires_at, ` + a + `.revoked_at, coalesce(` + a + `.revoke_reason, ''), coalesce(` + a + `.second_factor, ''), ` +
		a + `.generation, ` + a + `.token_hash, ` + a + `.previous_hash, ` + a + `.rotated_at, ` + a + `.successor_box`
}

// refreshAttempts bounds how often Refresh runs the statement when it lost a race for
// the row: each run after the first starts from a snapshot in which the change it lost
// to is visible, so a second run settles it unless the session moved on again.
const refreshAttempts = 4

// Refresh runs one refresh (RefreshSQL) and returns its outcome. ErrInvalidInput if the
// attempt is incomplete; ErrConflict if the session kept changing under it (after
// refreshAttempts runs); otherwise the vocabulary's errors for database failures.
func (s *Store) Refresh(ctx context.Context, a RefreshAttempt) (RefreshResult, error) {
	if a.SessionID == "" || a.Generation < 1 || len(a.Hash) != 32 || len(a.NewHash) != 32 ||
		len(a.SuccessorBox) == 0 || a.ReuseReason == "" {
		return RefreshResult{}, fmt.Errorf("refresh: incomplete attempt: %w", ErrInvalidInput)
	}
	r, settled, err := s.refreshGrouped(ctx, a)
	for runs := 1; err == nil && !settled; runs++ {
		if runs == refreshAttempts {
			return RefreshResult{}, fmt.Errorf("refresh: the session kept changing: %w", ErrConflict)
		}
		r, settled, err = s.refreshOnce(ctx, a)
	}
	return r, err
}

// refreshOnce runs RefreshSQL once, alone; settled is false when it lost a race for the
// row.
func (s *Store) refreshOnce(ctx context.Context, a RefreshAttempt) (RefreshResult, bool, error) {
	return decodeRefresh(s.pool.QueryRow(ctx, RefreshSQL, refreshArgs(a)...), a)
}

// refreshArgs are RefreshSQL's parameters for a.
func refreshArgs(a RefreshAttempt) []any {
	return []any{a.SessionID, a.Generation, a.Hash, a.At, a.GraceFrom,
		a.NewHash, a.SuccessorBox, a.IdleExpires, a.ReuseReason, a.IP, a.Issued}
}

// decodeRefresh reads RefreshSQL's row into the refresh's outcome; settled is false when
// the statement lost a race for the row.
func decodeRefresh(row pgx.Row, a RefreshAttempt) (r RefreshResult, settled bool, err error) {
	var (
		wrote, rotated bool
		notified       int64
	)
	sess, u := &r.Session, &r.User
	dest := append(sessionDest(sess), &u.ID, &u.Email, &u.Roles, &u.Created, &rotated, &notified)
	err = row.Scan(append([]any{&wrote}, dest...)...)
	if errors.Is(err, errNoRows) {
		return RefreshResult{Outcome: RefreshInvalid}, true, nil
	}
	if err != nil {
		return RefreshResult{}, true, translate("refresh", err)
	}
	switch {
	case wrote && rotated:
		r.Outcome = RefreshRotated
	case wrote:
		r.Outcome = RefreshReused
	case !sess.ActiveAt(a.At) || !sess.Holds(a.Generation, a.Hash, a.Issued):
		r.Outcome = RefreshInvalid
	case sess.IsParent(a.Generation, a.Hash) && sess.RotatedAt != nil && !sess.RotatedAt.Before(a.GraceFrom) && sess.SuccessorBox != nil:
		r.Outcome = RefreshGrace
	default: // the snapshot says the statement should have written: the row changed under it
		return RefreshResult{}, false, nil
	}
	return r, true, nil
}

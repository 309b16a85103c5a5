package store

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

var errNoRows = pgx.ErrNoRows

// Session is one device login.
type Session struct {
	ID              string
	UserID          string
	UserAgent       string
	IP              string
	Created         time.Time
	LastUsed        time.Time
	IdleExpires     time.Time
	AbsoluteExpires time.Time
	RevokedAt       *time.Time
	RevokeReason    string
	// SecondFactor is the second factor the session proved (migration 010): "totp",
	// "recovery_code", or "" for the password alone.
	SecondFactor string

	// Refresh state, changed by one statement at a time (the row lock; RefreshSQL).
	Generation   int        // generation of the live refresh token
	TokenHash    []byte     // SHA-256 of the live refresh token's secret
	PreviousHash []byte     // SHA-256 of its parent's secret; nil for generation 1
	RotatedAt    *time.Time // when the live token replaced its parent; nil for generation 1
	SuccessorBox []byte     // the live token sealed under its parent (auth; see 001_core.sql)
}

// ActiveAt reports whether the session is usable at now: not revoked, not idle-expired,
// not past its absolute expiry.
func (s Session) ActiveAt(now time.Time) bool {
	return s.RevokedAt == nil && now.Before(s.IdleExpires) && now.Before(s.AbsoluteExpires)
}

// IsLive reports whether a refresh token naming generation, whose secret hashes to hash,
// is the session's live one.
func (s Session) IsLive(generation int, hash []byte) bool {
	return generation == s.Generation && bytes.Equal(hash, s.TokenHash)
}

// IsParent reports whether such a token is the live one's parent.
func (s Session) IsParent(generation int, hash []byte) bool {
	return generation == s.Generation-1 && bytes.Equal(hash, s.PreviousHash)
}

// Holds reports whether such a token is one of the session's: the live one, its parent,
// or an older one the service issued (issued: the token's tag verified, which auth
// checks; the row keeps no trace of older tokens).
func (s Session) Holds(generation int, hash []byte, issued bool) bool {
	return s.IsLive(generation, hash) || s.IsParent(generation, hash) || issued && generation < s.Generation
}

const sessionColumns = `s.id, s.user_id::text, s.user_agent, s.ip, s.created_at, s.last_used_at,
	s.idle_expires_at, s.absolute_expires_at, s.revoked_at, coalesce(s.revoke_reason, ''), coalesce(s.second_factor, ''),
	s.generation, s.token_hash, s.previous_hash, s.rotated_at, s.successor_box`

func sessionDest(s *Session) []any {
	return []any{&s.ID, &s.UserID, &s.UserAgent, &s.IP, &s.Created, &s.LastUsed,
		&s.IdleExpires, &s.AbsoluteExpires, &s.RevokedAt, &s.RevokeReason, &s.SecondFactor,
		&s.Generation, &s.TokenHash, &s.PreviousHash, &s.RotatedAt, &s.SuccessorBox}
}

// CreateSession inserts a session at generation 1 whose live refresh token's secret
// hashes to s.TokenHash, with s.SecondFactor. ErrConflict if the id exists.
func (q Queries) CreateSession(ctx context.Context, s Session) error {
	_, err := q.db.Exec(ctx, `
		INSERT INTO sessions (id, user_id, user_agent, ip, created_at, last_used_at, idle_expires_at, absolute_expires_at, token_hash, second_factor)
		VALUES ($1, $2::uuid, $3, $4, $5, $5, $6, $7, $8, nullif($9, ''))`,
		s.ID, s.UserID, s.UserAgent, s.IP, s.Created, s.IdleExpires, s.AbsoluteExpires, s.TokenHash, s.SecondFactor)
	return translate("create session", err)
}

// SetSessionSecondFactor records that the user's live session id proved factor (a
// confirmed TOTP enrollment). ErrNotFound if the session is not the user's, or is
// revoked or expired at now.
func (q Queries) SetSessionSecondFactor(ctx context.Context, id, userID, factor string, now time.Time) error {
	if !isUUID(userID) {
		return translate("set session second factor", errNoRows)
	}
	tag, err := q.db.Exec(ctx, `
		UPDATE sessions SET second_factor = $3
		WHERE id = $1 AND user_id = $2::uuid AND revoked_at IS NULL AND idle_expires_at > $4 AND absolute_expires_at > $4`,
		id, userID, factor, now)
	if err == nil && tag.RowsAffected() == 0 {
		err = errNoRows
	}
	return translate("set session second factor", err)
}

// SessionByID returns a session (revoked or not). ErrNotFound if none.
func (q Queries) SessionByID(ctx context.Context, id string) (Session, error) {
	var s Session
	err := q.db.QueryRow(ctx, `SELECT `+sessionColumns+` FROM sessions s WHERE s.id = $1`, id).Scan(sessionDest(&s)...)
	return s, translate("session by id", err)
}

// ListActiveSessions returns the user's sessions that are active at now, newest first.
func (q Queries) ListActiveSessions(ctx context.Context, userID string, now time.Time) ([]Session, error) {
	if !isUUID(userID) {
		return nil, nil
	}
	rows, err := q.db.Query(ctx, `SELECT `+sessionColumns+` FROM sessions s
		WHERE s.user_id = $1::uuid AND s.revoked_at IS NULL AND s.idle_expires_at > $2 AND s.absolute_expires_at > $2
		ORDER BY s.created_at DESC, s.id`, userID, now)
	if err != nil {
		return nil, translate("list sessions", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Session, error) {
		var s Session
		return s, r.Scan(sessionDest(&s)...)
	})
	return out, translate("list sessions", err)
}

const lockSessionSQL = `SELECT ` + sessionColumns + `, u.id::text, u.email, u.password_hash, u.roles, u.created_at
	FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1 FOR UPDATE OF s`

// LockSession locks (SELECT ... FOR UPDATE) the session id and returns it with its
// user, so that what the caller decides from it holds until its transaction ends. Only
// meaningful inside InTx. ErrNotFound if there is no such session.
func (q Queries) LockSession(ctx context.Context, id string) (Session, User, error) {
	var s Session
	var u User
	dest := append(sessionDest(&s), &u.ID, &u.Email, &u.PasswordHash, &u.Roles, &u.Created)
	err := q.db.QueryRow(ctx, lockSessionSQL, id).Scan(dest...)
	return s, u, translate("lock session", err)
}

const revokeSQL = `
	WITH r AS (
		UPDATE sessions SET revoked_at = $3, revoke_reason = $4, successor_box = NULL
		WHERE id = $1 AND ($2 = '' OR user_id = nullif($2, '')::uuid) AND revoked_at IS NULL
		RETURNING id, revocation_seq, revoke_reason
	)
	SELECT id FROM r, ` + notifyRevoked

// RevokeSession marks a live (not yet revoked) session revoked at `at` with reason, and
// NOTIFYs RevocationChannel (RevocationNotice) in the same statement (so the
// notification is sent if and only if the transaction commits). If userID is not empty the session must belong
// to that user. ErrNotFound if no such unrevoked session.
func (q Queries) RevokeSession(ctx context.Context, id, userID, reason string, at time.Time) error {
	if userID != "" && !isUUID(userID) {
		return translate("revoke session", errNoRows)
	}
	var got string
	err := q.db.QueryRow(ctx, revokeSQL, id, userID, at, reason).Scan(&got)
	return translate("revoke session", err)
}

// revokeUserSessionsSQL locks the user's unrevoked sessions first, in session id order
// (byte order, as refresh groups sort their statements: refreshgroup.go), and then
// revokes them: session $2 with reason $5, or, when $5 is empty, not at all; every other
// one with reason $4. Each row says whether the session was live (not expired at $3),
// which is what callers count. Expired ones are revoked all the same: the caller's clock
// ($3; the database's for the users commands) may be ahead of the one the control plane
// refreshes by. An UPDATE alone would lock them in the order it finds them in the table,
// and a group holding one of the user's sessions while waiting for another could
// deadlock with it; PostgreSQL would then abort one of the two after deadlock_timeout,
// possibly the logout.
const revokeUserSessionsSQL = `
	WITH l AS MATERIALIZED (
		SELECT id, idle_expires_at > $3 AND absolute_expires_at > $3 AS live FROM sessions
		WHERE user_id = $1::uuid AND (id <> $2 OR $5 <> '') AND revoked_at IS NULL
		ORDER BY id COLLATE "C"
		FOR UPDATE
	), r AS (
		UPDATE sessions s SET revoked_at = $3, revoke_reason = CASE WHEN s.id = $2 THEN $5 ELSE $4 END, successor_box = NULL
		FROM l WHERE s.id = l.id
		RETURNING s.id, s.revocation_seq, s.revoke_reason, l.live
	)
	SELECT id, live FROM r, ` + notifyRevoked

// RevokeUserSessions revokes every unrevoked session of the user except `except` (may be
// empty), NOTIFYing each id, and returns the ids of those that were live at `at` (the
// sessions it ended; an expired one had ended already).
func (q Queries) RevokeUserSessions(ctx context.Context, userID, except, reason string, at time.Time) ([]string, error) {
	return q.revokeUserSessions(ctx, userID, except, "", reason, at)
}

// RevokeAllSessions revokes every live session of every user with reason, NOTIFYing
// each, and returns how many. Rows are locked in id order, as revokeUserSessionsSQL
// does, so it and a user's logout-all wait for each other rather than deadlock.
func (q Queries) RevokeAllSessions(ctx context.Context, reason string, at time.Time) (int, error) {
	var n int
	err := q.db.QueryRow(ctx, `
		WITH l AS MATERIALIZED (
			SELECT id FROM sessions
			WHERE revoked_at IS NULL AND idle_expires_at > $1 AND absolute_expires_at > $1
			ORDER BY id COLLATE "C"
			FOR UPDATE
		), r AS (
			UPDATE sessions s SET revoked_at = $1, revoke_reason = $2, successor_box = NULL
			FROM l WHERE s.id = l.id
			RETURNING s.id, s.revocation_seq, s.revoke_reason
		)
		SELECT count(*) FROM (SELECT `+notifyRevoked+` FROM r) notified`, at, reason).Scan(&n)
	return n, translate("revoke all sessions", err)
}

// ReplaceUserSessions revokes every unrevoked session of the user, NOTIFYing each:
// replaced with replacedReason, the others with reason. It returns the ids of the
// others that were live at `at`, and whether replaced was live (ended by this call).
func (q Queries) ReplaceUserSessions(ctx context.Context, userID, replaced, replacedReason, reason string, at time.Time) (others []string, wasLive bool, err error) {
	if replaced == "" || replacedReason == "" {
		return nil, false, fmt.Errorf("replace user sessions: no session or reason: %w", ErrInvalidInput)
	}
	ids, err := q.revokeUserSessions(ctx, userID, replaced, replacedReason, reason, at)
	others = slices.DeleteFunc(ids, func(id string) bool { return id == replaced })
	return others, len(others) < len(ids), err
}

// revokeUserSessions runs revokeUserSessionsSQL: session one with oneReason (or, when
// oneReason is empty, not at all), the user's others with reason. It returns the ids
// of the revoked sessions that were live at `at`.
func (q Queries) revokeUserSessions(ctx context.Context, userID, one, oneReason, reason string, at time.Time) ([]string, error) {
	if !isUUID(userID) {
		return nil, nil
	}
	rows, err := q.db.Query(ctx, revokeUserSessionsSQL, userID, one, at, reason, oneReason)
	if err != nil {
		return nil, translate("revoke user sessions", err)
	}
	var ids []string
	var id string
	var live bool
	_, err = pgx.ForEachRow(rows, []any{&id, &live}, func() error {
		if live {
			ids = append(ids, id)
		}
		return nil
	})
	return ids, translate("revoke user sessions", err)
}

// RevokedSince returns the ids of sessions revoked after since, oldest revocation first.
func (q Queries) RevokedSince(ctx context.Context, since time.Time) ([]string, error) {
	rows, err := q.db.Query(ctx, `SELECT id FROM sessions WHERE revoked_at > $1 ORDER BY revoked_at, id`, since)
	if err != nil {
		return nil, translate("revoked sessions", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return ids, translate("revoked sessions", err)
}

// DeleteSessionsBefore deletes sessions whose absolute expiry, idle expiry or
// revocation is before t, in batches (deleteInBatches), skipping rows another
// transaction holds. It returns how many went.
func (q Queries) DeleteSessionsBefore(ctx context.Context, t time.Time) (int64, error) {
	return q.deleteInBatches(ctx, "delete sessions", `DELETE FROM sessions WHERE id IN (
		SELECT id FROM sessions WHERE absolute_expires_at < $1 OR idle_expires_at < $1 OR revoked_at < $1
		LIMIT $2 FOR UPDATE SKIP LOCKED)`, t)
}

// PruneBatch is how many rows one pruning statement deletes at most.
const PruneBatch = 1000

// deleteInBatches runs sql, a DELETE of at most $2 rows older than $1 that skips locked
// rows, until it deletes fewer than PruneBatch, and returns the total. Every replica
// prunes, while refreshes and revocations lock session rows: a batch is one statement,
// its own transaction, so a large backlog (after an outage, or an attack's failed
// logins) never holds locks on a whole table at once, a prune stopped half-way leaves
// only whole batches done, and a row someone else holds is left for the next run
// rather than waited for (no waits behind another replica's prune, no deadlocks).
func (q Queries) deleteInBatches(ctx context.Context, what, sql string, t time.Time) (int64, error) {
	var total int64
	for {
		tag, err := q.db.Exec(ctx, sql, t, PruneBatch)
		if err != nil {
			return total, translate(what, err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < PruneBatch {
			return total, nil
		}
	}
}

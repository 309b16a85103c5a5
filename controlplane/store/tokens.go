package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// RefreshToken is a stored refresh token: its SHA-256 hash, never the token.
type RefreshToken struct {
	ID         int64
	SessionID  string
	Hash       []byte
	Generation int
	ParentID   *int64
	Created    time.Time
	UsedAt     *time.Time // nil while the token is the session's live one
	// Sealed holds this token's own access and refresh tokens sealed under a key derived
	// from the parent token (see 001_core.sql); nil once this token has been used.
	Sealed []byte
}

const tokenColumns = `id, session_id, hash, generation, parent_id, created_at, used_at, sealed`

const tokenWithSuccessorSQL = `
	SELECT ` + tokenColumns + `, 0 AS o FROM refresh_tokens WHERE hash = $1
	UNION ALL
	SELECT c.id, c.session_id, c.hash, c.generation, c.parent_id, c.created_at, c.used_at, c.sealed, 1
	FROM refresh_tokens p JOIN refresh_tokens c ON c.parent_id = p.id WHERE p.hash = $1
	ORDER BY o`

func tokenDest(t *RefreshToken) []any {
	return []any{&t.ID, &t.SessionID, &t.Hash, &t.Generation, &t.ParentID, &t.Created, &t.UsedAt, &t.Sealed}
}

// RefreshTokenWithSuccessor returns the token whose hash is tokenHash and, if it has been
// rotated, its successor (nil otherwise). ErrNotFound if no token has that hash. Call it
// after LockSessionForRefresh in the same transaction for a stable answer.
func (q Queries) RefreshTokenWithSuccessor(ctx context.Context, tokenHash []byte) (RefreshToken, *RefreshToken, error) {
	rows, err := q.db.Query(ctx, tokenWithSuccessorSQL, tokenHash)
	if err != nil {
		return RefreshToken{}, nil, translate("refresh token", err)
	}
	defer rows.Close()
	var toks []RefreshToken
	for rows.Next() {
		var t RefreshToken
		var o int
		if err := rows.Scan(append(tokenDest(&t), &o)...); err != nil {
			return RefreshToken{}, nil, translate("refresh token", err)
		}
		toks = append(toks, t)
	}
	if err := rows.Err(); err != nil {
		return RefreshToken{}, nil, translate("refresh token", err)
	}
	switch len(toks) {
	case 0:
		return RefreshToken{}, nil, translate("refresh token", errNoRows)
	case 1:
		return toks[0], nil, nil
	default:
		return toks[0], &toks[1], nil
	}
}

const rotateSQL = `
	WITH old AS (
		UPDATE refresh_tokens SET used_at = $2, sealed = NULL
		WHERE id = $1 AND used_at IS NULL
		RETURNING id, session_id, generation
	), touched AS (
		UPDATE sessions SET last_used_at = $2, idle_expires_at = least($5, absolute_expires_at)
		WHERE id = (SELECT session_id FROM old)
	)
	INSERT INTO refresh_tokens (session_id, hash, generation, parent_id, created_at, sealed)
	SELECT session_id, $3, generation + 1, id, $2, $4 FROM old
	RETURNING ` + tokenColumns

// Rotation describes one refresh-token rotation.
type Rotation struct {
	OldID       int64     // the token presented; must still be live
	NewHash     []byte    // SHA-256 of the successor token
	Sealed      []byte    // the successor's tokens sealed under the old token
	At          time.Time // rotation time: old token's use time, successor's creation, session's last use
	IdleExpires time.Time // the session's new idle expiry (capped at its absolute expiry)
}

// RotateRefreshToken marks the old token used, inserts its successor and touches the
// session, in one statement. Run it inside InTx after LockSessionForRefresh.
// ErrConflict if the old token was not live (already rotated): a second live successor is
// impossible (the schema allows one live token per session and one successor per token).
func (q Queries) RotateRefreshToken(ctx context.Context, r Rotation) (RefreshToken, error) {
	var t RefreshToken
	err := q.db.QueryRow(ctx, rotateSQL, r.OldID, r.At, r.NewHash, r.Sealed, r.IdleExpires).Scan(tokenDest(&t)...)
	if errors.Is(err, pgx.ErrNoRows) {
		// The old token was no longer live.
		return t, fmt.Errorf("rotate refresh token: %w", ErrConflict)
	}
	return t, translate("rotate refresh token", err)
}

// SessionRefreshTokens returns every refresh token of a session, oldest first (for
// consistency checks and tests).
func (q Queries) SessionRefreshTokens(ctx context.Context, sessionID string) ([]RefreshToken, error) {
	rows, err := q.db.Query(ctx, `SELECT `+tokenColumns+` FROM refresh_tokens WHERE session_id = $1 ORDER BY generation, id`, sessionID)
	if err != nil {
		return nil, translate("session refresh tokens", err)
	}
	defer rows.Close()
	var out []RefreshToken
	for rows.Next() {
		var t RefreshToken
		if err := rows.Scan(tokenDest(&t)...); err != nil {
			return nil, translate("session refresh tokens", err)
		}
		out = append(out, t)
	}
	return out, translate("session refresh tokens", rows.Err())
}

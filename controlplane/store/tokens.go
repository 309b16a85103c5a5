package store

import (
	"context"
	"time"
)

// RefreshToken is a stored refresh token: its SHA-256 hash, never the token.
type RefreshToken struct {
	ID          int64
	SessionID   string
	Hash        []byte
	Generation  int
	ParentID    *int64 // nil for generation 1
	Created     time.Time
	UsedAt      *time.Time // nil while the token is its session's live one
	SuccessorID *int64     // set when UsedAt is
}

const tokenColumns = `id, session_id, hash, generation, parent_id, created_at, used_at, successor_id`

func tokenDest(t *RefreshToken) []any {
	return []any{&t.ID, &t.SessionID, &t.Hash, &t.Generation, &t.ParentID, &t.Created, &t.UsedAt, &t.SuccessorID}
}

// SessionRefreshTokens returns every refresh token of a session, oldest first (for
// consistency checks and tests).
func (q Queries) SessionRefreshTokens(ctx context.Context, sessionID string) ([]RefreshToken, error) {
	rows, err := q.db.Query(ctx, `SELECT `+tokenColumns+` FROM refresh_tokens WHERE session_id = $1 ORDER BY generation`, sessionID)
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

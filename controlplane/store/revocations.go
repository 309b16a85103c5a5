package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"
)

// RevocationNotice is the payload of a NOTIFY on RevocationChannel (JSON): the session,
// the number its revocation drew (migration 004: one database-wide sequence), and the
// reason.
type RevocationNotice struct {
	SessionID string `json:"sid"`
	Seq       int64  `json:"seq"`
	Reason    string `json:"reason"`
}

// notifyRevoked ends a statement whose CTE r returns the revoked rows' id,
// revocation_seq and revoke_reason: it NOTIFYs each as a RevocationNotice.
const notifyRevoked = `pg_notify('` + RevocationChannel + `', json_build_object('sid', r.id, 'seq', r.revocation_seq, 'reason', r.revoke_reason)::text)`

// ParseRevocationNotice reads a NOTIFY payload. A replica of an older version sends the
// bare session id: that is returned with Seq 0 and ok true.
func ParseRevocationNotice(payload string) (RevocationNotice, bool) {
	var n RevocationNotice
	if len(payload) > 0 && payload[0] == '{' {
		if err := json.Unmarshal([]byte(payload), &n); err != nil || n.SessionID == "" {
			return RevocationNotice{}, false
		}
		return n, true
	}
	if payload == "" {
		return RevocationNotice{}, false
	}
	return RevocationNotice{SessionID: payload}, true
}

// Revoked is one revocation, for resuming a subscriber.
type Revoked struct {
	Seq       int64
	SessionID string
	Reason    string
	At        time.Time
	// LastUsed is when the session's latest access token was issued (its login or
	// latest rotation); set by RevocationListSince only.
	LastUsed time.Time
}

// RevocationListSince returns the revocations after since (oldest first) and, from the
// same snapshot, the highest revocation number drawn so far (0 when none).
func (q Queries) RevocationListSince(ctx context.Context, since time.Time) (revoked []Revoked, lastSeq int64, err error) {
	rows, err := q.db.Query(ctx, `
		SELECT coalesce(s.revocation_seq, 0), s.id, s.revoke_reason, s.revoked_at, s.last_used_at, m.seq
		FROM (SELECT coalesce(max(revocation_seq), 0) AS seq FROM sessions) m
		LEFT JOIN sessions s ON s.revoked_at > $1
		ORDER BY s.revoked_at, s.id`, since)
	if err != nil {
		return nil, 0, translate("revocation list", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r Revoked
		var id, reason *string
		var at, used *time.Time
		if err := rows.Scan(&r.Seq, &id, &reason, &at, &used, &lastSeq); err != nil {
			return nil, 0, translate("revocation list", err)
		}
		if id == nil {
			continue // no revocation in the window: the one row carries only lastSeq
		}
		r.SessionID, r.Reason, r.At, r.LastUsed = *id, *reason, *at, *used
		revoked = append(revoked, r)
	}
	return revoked, lastSeq, translate("revocation list", rows.Err())
}

// RevocationsAfter returns, in number order, revocations whose number is above after,
// or that happened at most lookback before revocation number after did: a revocation
// may commit after one with a higher number, so a subscriber that saw number after may
// still miss a slightly older one, and gets those again (receivers ignore repeats).
// When there are more than limit, it returns the limit highest-numbered: the newest
// are the ones a revocation list built earlier does not name. Revocations of pruned
// sessions are gone.
func (q Queries) RevocationsAfter(ctx context.Context, after int64, lookback time.Duration, limit int) ([]Revoked, error) {
	rows, err := q.db.Query(ctx, `
		WITH p AS (SELECT revoked_at - $2::interval AS t FROM sessions WHERE revocation_seq = $1)
		SELECT * FROM (
			SELECT revocation_seq, id, revoke_reason, revoked_at FROM sessions WHERE revocation_seq > $1
			UNION
			SELECT s.revocation_seq, s.id, s.revoke_reason, s.revoked_at FROM sessions s, p
			WHERE s.revoked_at >= p.t AND s.revocation_seq IS NOT NULL
			ORDER BY 1 DESC
			LIMIT $3
		) newest ORDER BY 1`, after, lookback, limit)
	if err != nil {
		return nil, translate("revocations after", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Revoked, error) {
		var v Revoked
		return v, r.Scan(&v.Seq, &v.SessionID, &v.Reason, &v.At)
	})
	return out, translate("revocations after", err)
}

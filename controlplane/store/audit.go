package store

import (
	"context"
	"encoding/json"
	"time"
)

// AuditEvent is one security-relevant event. Detail must never hold a secret.
type AuditEvent struct {
	ID        int64
	Kind      string
	UserID    string // empty when unknown
	SessionID string // empty when none
	IP        string
	At        time.Time
	Detail    map[string]any
}

// AddAudit records an event.
func (q Queries) AddAudit(ctx context.Context, e AuditEvent) error {
	sql, args, err := auditInsert(e)
	if err != nil {
		return err
	}
	_, err = q.db.Exec(ctx, sql, args...)
	return translate("add audit event", err)
}

func auditInsert(e AuditEvent) (string, []any, error) {
	detail := []byte("{}")
	if len(e.Detail) > 0 {
		var err error
		if detail, err = json.Marshal(e.Detail); err != nil {
			return "", nil, translate("add audit event", err)
		}
	}
	return `INSERT INTO audit_events (kind, user_id, session_id, ip, at, detail)
		VALUES ($1, nullif($2, '')::uuid, nullif($3, ''), $4, $5, $6)`,
		[]any{e.Kind, e.UserID, e.SessionID, e.IP, e.At, detail}, nil
}

// AuditEvents returns the events of a kind (all kinds if empty) for a session (any if
// empty), oldest first, at most limit.
func (q Queries) AuditEvents(ctx context.Context, kind, sessionID string, limit int) ([]AuditEvent, error) {
	rows, err := q.db.Query(ctx, `SELECT id, kind, coalesce(user_id::text, ''), coalesce(session_id, ''), ip, at, detail
		FROM audit_events WHERE ($1 = '' OR kind = $1) AND ($2 = '' OR session_id = $2)
		ORDER BY id LIMIT $3`, kind, sessionID, limit)
	if err != nil {
		return nil, translate("audit events", err)
	}
	defer rows.Close()
	var out []AuditEvent
	for rows.Next() {
		var e AuditEvent
		if err := rows.Scan(&e.ID, &e.Kind, &e.UserID, &e.SessionID, &e.IP, &e.At, &e.Detail); err != nil {
			return nil, translate("audit events", err)
		}
		out = append(out, e)
	}
	return out, translate("audit events", rows.Err())
}

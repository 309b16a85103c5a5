package migrations_test

import (
	"context"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/pgtest"
	"github.com/edgeauth/edgeauth/migrations"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Migration 005 (refresh tokens name their session): sessions from before it, whose
// refresh tokens can no longer be presented, end (idle expiry now) without being
// revoked; refresh-token hashes need not be unique any more; a revocation still draws its
// number, a rotation-like update that leaves revoked_at NULL draws none.
func TestUpgradeTo005(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := migrations.ApplyTo(ctx, pool, 4); err != nil {
		t.Fatal(err)
	}
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	exec(`INSERT INTO users (id, email, password_hash) VALUES ('00000000-0000-0000-0000-000000000001', 'a@b', '$argon2id$x')`)
	for _, s := range []struct {
		id   string
		idle time.Time
		rev  bool
	}{{"live-session-xxxxxxxxxxxxxxxxxxxx", now.Add(time.Hour), false}, {"revoked-session-xxxxxxxxxxxxxxxxx", now.Add(time.Hour), true}} {
		exec(`INSERT INTO sessions (id, user_id, created_at, last_used_at, idle_expires_at, absolute_expires_at)
			VALUES ($1, '00000000-0000-0000-0000-000000000001', $2, $2, $3, $4)`, s.id, now, s.idle, now.Add(24*time.Hour))
		exec(`INSERT INTO refresh_tokens (session_id, hash, generation, created_at) VALUES ($1, sha256(convert_to($1::text, 'UTF8')), 1, $2)`, s.id, now)
		if s.rev {
			exec(`UPDATE sessions SET revoked_at = $2, revoke_reason = 'logout' WHERE id = $1`, s.id, now)
		}
	}
	if err := migrations.Apply(ctx, pool); err != nil {
		t.Fatal(err)
	}
	var ended, revokedUntouched bool
	var seq *int64
	err = pool.QueryRow(ctx, `SELECT
		(SELECT idle_expires_at <= now() AND revoked_at IS NULL FROM sessions WHERE id = 'live-session-xxxxxxxxxxxxxxxxxxxx'),
		(SELECT idle_expires_at = $1 AND revocation_seq IS NOT NULL FROM sessions WHERE id = 'revoked-session-xxxxxxxxxxxxxxxxx')`,
		now.Add(time.Hour).Truncate(time.Microsecond)).Scan(&ended, &revokedUntouched)
	if err != nil || !ended || !revokedUntouched {
		t.Fatalf("sessions after 005: ended %v, revoked one untouched %v, %v", ended, revokedUntouched, err)
	}
	exec(`INSERT INTO refresh_tokens (session_id, hash, generation, parent_id, created_at)
		VALUES ('live-session-xxxxxxxxxxxxxxxxxxxx', sha256('revoked-session-xxxxxxxxxxxxxxxxx'::bytea), 2, 1, now())`)
	exec(`UPDATE sessions SET revoked_at = NULL, last_used_at = now() WHERE id = 'live-session-xxxxxxxxxxxxxxxxxxxx'`)
	if err := pool.QueryRow(ctx, `SELECT revocation_seq FROM sessions WHERE id = 'live-session-xxxxxxxxxxxxxxxxxxxx'`).Scan(&seq); err != nil || seq != nil {
		t.Fatalf("an update leaving revoked_at NULL drew %v (%v)", seq, err)
	}
	exec(`UPDATE sessions SET revoked_at = now(), revoke_reason = 'logout' WHERE id = 'live-session-xxxxxxxxxxxxxxxxxxxx'`)
	if err := pool.QueryRow(ctx, `SELECT revocation_seq FROM sessions WHERE id = 'live-session-xxxxxxxxxxxxxxxxxxxx'`).Scan(&seq); err != nil || seq == nil {
		t.Fatalf("a revocation drew no number (%v)", err)
	}
}

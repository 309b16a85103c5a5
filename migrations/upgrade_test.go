package migrations_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/pgtest"
	"github.com/edgeauth/edgeauth/migrations"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// atVersion returns a pool on a fresh database migrated to version, and exec, which runs
// a statement on it or fails the test.
func atVersion(t *testing.T, version int32) (*pgxpool.Pool, func(sql string, args ...any)) {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := migrations.ApplyTo(ctx, pool, version); err != nil {
		t.Fatal(err)
	}
	return pool, func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
}

// Migration 005 (refresh tokens name their session): sessions from before it, whose
// refresh tokens can no longer be presented, end (idle expiry now) without being
// revoked; refresh-token hashes need not be unique any more; a revocation still draws its
// number, a rotation-like update that leaves revoked_at NULL draws none.
func TestUpgradeTo005(t *testing.T) {
	ctx := context.Background()
	pool, exec := atVersion(t, 4)
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
	if err := migrations.ApplyTo(ctx, pool, 5); err != nil {
		t.Fatal(err)
	}
	var ended, revokedUntouched bool
	var seq *int64
	err := pool.QueryRow(ctx, `SELECT
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

// Migration 006 (a refresh writes the session row only): each session's live token's
// hash and its parent's move into the row, so the tokens clients hold keep working; a
// session without its live token's row (none should exist) gets a hash no secret has;
// the refresh_tokens table goes.
func TestUpgradeTo006(t *testing.T) {
	ctx := context.Background()
	pool, exec := atVersion(t, 5)
	now := time.Now()
	exec(`INSERT INTO users (id, email, password_hash) VALUES ('00000000-0000-0000-0000-000000000001', 'a@b', '$argon2id$x')`)
	session := func(id string, generation int) {
		t.Helper()
		var rotated *time.Time
		if generation > 1 {
			rotated = &now
		}
		exec(`INSERT INTO sessions (id, user_id, created_at, last_used_at, idle_expires_at, absolute_expires_at, generation, rotated_at)
			VALUES ($1, '00000000-0000-0000-0000-000000000001', $2, $2, $3, $3, $4, $5)`, id, now, now.Add(time.Hour), generation, rotated)
	}
	token := func(sid string, generation int) {
		t.Helper()
		var parent *int64
		if generation > 1 {
			one := int64(1)
			parent = &one
		}
		exec(`INSERT INTO refresh_tokens (session_id, hash, generation, parent_id, created_at)
			VALUES ($1, sha256(convert_to($1 || '.' || $2::int, 'UTF8')), $2, $3, $4)`, sid, generation, parent, now)
	}
	session("fresh-session-xxxxxxxxxxxxxxxxxx", 1)
	token("fresh-session-xxxxxxxxxxxxxxxxxx", 1)
	session("rotated-session-xxxxxxxxxxxxxxxx", 3)
	for g := 1; g <= 3; g++ {
		token("rotated-session-xxxxxxxxxxxxxxxx", g)
	}
	session("tokenless-session-xxxxxxxxxxxxxx", 1)
	if err := migrations.ApplyTo(ctx, pool, 6); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id           string
		live, parent string // the tokens' hashed text; "" for none
	}{
		{"fresh-session-xxxxxxxxxxxxxxxxxx", "fresh-session-xxxxxxxxxxxxxxxxxx.1", ""},
		{"rotated-session-xxxxxxxxxxxxxxxx", "rotated-session-xxxxxxxxxxxxxxxx.3", "rotated-session-xxxxxxxxxxxxxxxx.2"},
	} {
		var live, parent bool
		err := pool.QueryRow(ctx, `SELECT token_hash = sha256(convert_to($2, 'UTF8')),
			coalesce(previous_hash = sha256(convert_to($3, 'UTF8')), $3 = '' AND previous_hash IS NULL)
			FROM sessions WHERE id = $1`, c.id, c.live, c.parent).Scan(&live, &parent)
		if err != nil || !live || !parent {
			t.Errorf("%s: live hash moved %v, parent's %v (%v)", c.id, live, parent, err)
		}
	}
	var zero bool
	if err := pool.QueryRow(ctx, `SELECT token_hash = decode(repeat('00', 32), 'hex') FROM sessions WHERE id = 'tokenless-session-xxxxxxxxxxxxxx'`).Scan(&zero); err != nil || !zero {
		t.Errorf("a session without its token's row: zero hash %v (%v)", zero, err)
	}
	var table *string
	if err := pool.QueryRow(ctx, `SELECT to_regclass('refresh_tokens')::text`).Scan(&table); err != nil || table != nil {
		t.Errorf("refresh_tokens still there: %v (%v)", table, err)
	}
}

// Migration 007 (login names unique by loginname.Key): Apply gives every existing
// account its key, at the upgrade and again at a later start for a row an earlier
// replica wrote without one; two existing accounts with one key stop Apply, naming both.
func TestUpgradeTo007(t *testing.T) {
	ctx := context.Background()
	t.Run("keys", func(t *testing.T) {
		pool, exec := atVersion(t, 6)
		exec(`INSERT INTO users (id, email, password_hash) VALUES
			('00000000-0000-0000-0000-000000000001', 'Ada@Example.test', '$argon2id$x'),
			('00000000-0000-0000-0000-000000000002', 'ＢＯＢ@example.test', '$argon2id$x')`)
		if err := migrations.Apply(ctx, pool); err != nil {
			t.Fatal(err)
		}
		exec(`INSERT INTO users (id, email, password_hash) VALUES ('00000000-0000-0000-0000-000000000003', 'Jose'||U&'\0301'||'@example.test', '$argon2id$x')`)
		if err := migrations.Apply(ctx, pool); err != nil {
			t.Fatal(err)
		}
		rows, _ := pool.Query(ctx, `SELECT coalesce(email_key, 'NULL') FROM users ORDER BY id`)
		keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if want := []string{"ada@example.test", "bob@example.test", "josé@example.test"}; err != nil || !slices.Equal(keys, want) {
			t.Fatalf("keys %q (%v), want %q", keys, err, want)
		}
	})
	t.Run("same key", func(t *testing.T) {
		pool, exec := atVersion(t, 6)
		exec(`INSERT INTO users (id, email, password_hash) VALUES
			('00000000-0000-0000-0000-000000000001', 'ann@example.test', '$argon2id$x'),
			('00000000-0000-0000-0000-000000000002', 'ＡＮＮ@example.test', '$argon2id$x')`)
		err := migrations.Apply(ctx, pool)
		if err == nil || !strings.Contains(err.Error(), "00000000-0000-0000-0000-000000000001 and 00000000-0000-0000-0000-000000000002") {
			t.Fatalf("Apply: %v, want an error naming both users", err)
		}
	})
}

// Migration 008 (accounts can be disabled): every existing account stays enabled.
func TestUpgradeTo008(t *testing.T) {
	ctx := context.Background()
	pool, exec := atVersion(t, 7)
	exec(`INSERT INTO users (id, email, email_key, password_hash) VALUES ('00000000-0000-0000-0000-000000000001', 'a@b', 'a@b', '$argon2id$x')`)
	if err := migrations.ApplyTo(ctx, pool, 8); err != nil {
		t.Fatal(err)
	}
	var enabled bool
	if err := pool.QueryRow(ctx, `SELECT disabled_at IS NULL FROM users`).Scan(&enabled); err != nil || !enabled {
		t.Fatalf("an existing account after 008: enabled %v (%v)", enabled, err)
	}
}

// Migration 010 (a session records its second factor): an existing session stays
// NULL (the password alone: nothing recorded more), and only the factors the control
// plane knows can be recorded.
func TestUpgradeTo010(t *testing.T) {
	ctx := context.Background()
	pool, exec := atVersion(t, 9)
	now := time.Now()
	exec(`INSERT INTO users (id, email, email_key, password_hash) VALUES ('00000000-0000-0000-0000-000000000001', 'a@b', 'a@b', '$argon2id$x')`)
	exec(`INSERT INTO sessions (id, user_id, created_at, last_used_at, idle_expires_at, absolute_expires_at, token_hash)
		VALUES ('existing-session-xxxxxxxxxxxxxxx', '00000000-0000-0000-0000-000000000001', $1, $1, $2, $2, sha256('x'::bytea))`, now, now.Add(time.Hour))
	if err := migrations.ApplyTo(ctx, pool, 10); err != nil {
		t.Fatal(err)
	}
	var none bool
	if err := pool.QueryRow(ctx, `SELECT second_factor IS NULL FROM sessions`).Scan(&none); err != nil || !none {
		t.Fatalf("an existing session after 010: no second factor %v (%v)", none, err)
	}
	for factor, ok := range map[string]bool{"totp": true, "recovery_code": true, "sms": false, "": false} {
		_, err := pool.Exec(ctx, `UPDATE sessions SET second_factor = $1`, factor)
		if (err == nil) != ok {
			t.Errorf("second factor %q: %v", factor, err)
		}
	}
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/pgtest"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The users commands write times that the control plane compares with its own clock: a
// revocation's revoked_at (the revocation list names the sessions revoked within the
// access-token lifetime plus 1 min of it) and a disabling's disabled_at; and they tell
// live sessions from expired ones. They go by the database's time, which the control
// plane shares, not by the operator's machine, whose clock may be minutes off: ahead,
// "end every session" ended none of the sessions still live (and they refreshed on);
// behind by more than that window, the list never named the sessions it ended.
func TestUsersCommandsGoByTheDatabasesTime(t *testing.T) {
	t.Parallel()
	for _, skew := range []time.Duration{3 * time.Minute, -15 * time.Minute} {
		t.Run(fmt.Sprintf("operator's clock off by %v", skew), func(t *testing.T) {
			t.Parallel()
			db := pgtest.NewMigratedDatabase(t)
			ctx := context.Background()
			pool, err := pgxpool.New(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Close()
			do := func(stdin string, args ...string) (string, int) {
				var out, errb bytes.Buffer
				c := &cli{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, environ: []string{"EDGEAUTH_DATABASE_URL=" + db},
					localClock: func() time.Time { return time.Now().Add(skew) }}
				code := c.run(ctx, args)
				return out.String() + errb.String(), code
			}
			sqlText := func(sql string, args ...any) string {
				t.Helper()
				var s string
				if err := pool.QueryRow(ctx, sql, args...).Scan(&s); err != nil {
					t.Fatalf("%s: %v", sql, err)
				}
				return s
			}
			// One session each, live by the database's time for another minute.
			for _, email := range []string{ownerEmail, "bob@example.test"} {
				if out, code := do(ownerPassword+"\n", "users", "create", "--email", email); code != 0 {
					t.Fatalf("create %s: exit %d: %s", email, code, out)
				}
				if _, err := pool.Exec(ctx, `INSERT INTO sessions (id, user_id, created_at, last_used_at, idle_expires_at, absolute_expires_at, token_hash)
					SELECT 'session-of-' || email, id, now(), now(), now() + interval '1 minute', now() + interval '30 days', sha256(email::bytea)
					FROM users WHERE email = $1`, email); err != nil {
					t.Fatal(err)
				}
			}
			// How far a time written is from the database's now, in whole seconds.
			const off = `abs(extract(epoch FROM %s - now()))::int::text`

			if out, code := do("", "users", "logout", "--email", ownerEmail); code != 0 || !strings.Contains(out, "1 session(s) ended") {
				t.Errorf("logout: exit %d: %s", code, out)
			}
			if out, code := do("", "users", "logout", "--all"); code != 0 || !strings.Contains(out, "every user: 1 session(s) ended") {
				t.Errorf("logout --all: exit %d: %s", code, out)
			}
			for _, email := range []string{ownerEmail, "bob@example.test"} {
				switch s := sqlText(`SELECT coalesce(`+fmt.Sprintf(off, "revoked_at")+`, 'none') FROM sessions WHERE id = $1`, "session-of-"+email); s {
				case "0", "1":
				case "none":
					t.Errorf("%s's session was not revoked", email)
				default:
					t.Errorf("%s's session was revoked %s s away from the database's now", email, s)
				}
			}
			// What the revocation list names: the sessions revoked within the access-token
			// lifetime (10 min by default) plus 1 min.
			if n := sqlText(`SELECT count(*)::text FROM sessions WHERE revoked_at > now() - interval '11 minutes'`); n != "2" {
				t.Errorf("the revocation list names %s of the 2 sessions ended", n)
			}
			if out, code := do("", "users", "disable", "--email", ownerEmail); code != 0 {
				t.Fatalf("disable: exit %d: %s", code, out)
			}
			if s := sqlText(`SELECT `+fmt.Sprintf(off, "disabled_at")+` FROM users WHERE email = $1`, ownerEmail); s != "0" && s != "1" {
				t.Errorf("the account was disabled %s s away from the database's now", s)
			}
		})
	}
}

// The keys commands go by the database's time too: a key's created_at and activate_at
// decide when every replica starts signing with it and publishing it (keys.pre_publish),
// and an operator's clock behind would make a pending key active before edges have
// fetched it.
func TestKeysCommandsGoByTheDatabasesTime(t *testing.T) {
	t.Parallel()
	for _, skew := range []time.Duration{20 * time.Minute, -20 * time.Minute} {
		t.Run(fmt.Sprintf("operator's clock off by %v", skew), func(t *testing.T) {
			t.Parallel()
			db := pgtest.NewMigratedDatabase(t)
			ctx := context.Background()
			var out, errb bytes.Buffer
			c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
				environ:    []string{"EDGEAUTH_DATABASE_URL=" + db, "EDGEAUTH_KEYS__KEK=" + testKEK, "EDGEAUTH_PUBLIC_URL=https://auth.example.test"},
				localClock: func() time.Time { return time.Now().Add(skew) }}
			if code := c.run(ctx, []string{"keys", "rotate"}); code != 0 {
				t.Fatalf("keys rotate: exit %d: %s%s", code, out.String(), errb.String())
			}
			pool, err := pgxpool.New(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Close()
			var off float64
			if err := pool.QueryRow(ctx, `SELECT max(abs(extract(epoch FROM created_at - now()))) FROM signing_keys`).Scan(&off); err != nil {
				t.Fatal(err)
			}
			if off > 60 {
				t.Fatalf("keys created %.0f s away from the database's now", off)
			}
		})
	}
}

package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

// Every hot query can be answered through an index: with sequential scans disabled, no
// plan contains one (a missing index would leave the planner no other choice).
func TestHotQueriesUseIndexes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	h := make([]byte, 32)
	now := time.Now()
	uid := "00000000-0000-0000-0000-000000000001"
	cases := []struct {
		name string
		sql  string
		args []any
	}{
		{"refresh", RefreshSQL, []any{"sid", 2, h, now, now, h, []byte("x"), now, "r", "192.0.2.1", true}},
		{"lock session", lockSessionSQL, []any{"sid"}},
		{"revoke", revokeSQL, []any{"sid", uid, now, "r"}},
		{"revoked since", `SELECT id FROM sessions WHERE revoked_at > $1 ORDER BY revoked_at, id`, []any{now}},
		{"user by e-mail", `SELECT ` + userColumns + ` FROM users WHERE email_key = $1`, []any{"a@b"}},
		{"user sessions", `SELECT id FROM sessions WHERE user_id = $1::uuid AND revoked_at IS NULL`, []any{uid}},
		{"revoke user sessions", revokeUserSessionsSQL, []any{uid, "", now, "r", ""}},
		{"replace user sessions", revokeUserSessionsSQL, []any{uid, "sid", now, "r", "s"}},
		{"login failures", failureCountsSQL, []any{h, "192.0.2.1", now, now, now}},
		{"known login client", `SELECT 1 FROM login_clients WHERE account_key = $1 AND client_key = $2 AND last_login_at > $3`, []any{h, "192.0.2.1", now}},
	}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
			return err
		}
		for _, c := range cases {
			rows, err := tx.Query(ctx, "EXPLAIN "+c.sql, c.args...)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			plan := strings.Join(lines, "\n")
			if strings.Contains(plan, "Seq Scan") {
				t.Errorf("%s: sequential scan:\n%s", c.name, plan)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

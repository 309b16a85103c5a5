package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/store"
)

// rotationRuns numbers the pgbench runs of the rotation statement: each run rotates
// sessions of its own.
var rotationRuns atomic.Int64

// rotationScript is store.RefreshSQL, the statement the service runs for every refresh,
// with its parameters bound by pgbench: each client rotates sessions of its own (like
// each HTTP client), presenting the live token every time. With group > 1 each client
// rotates that many sessions per transaction, their statements sent as one pipeline
// with one commit, as the service sends the refreshes that queued while its lanes were
// busy (RATIONALE.md, "Refreshes in groups"). A token's secret is stood in for by "<session
// id>.<generation>" (its hash computed by the statement, as the service computes it
// before sending), the successor box by 73 constant bytes (the size of a sealed
// successor), the tag's verdict by true (every token the service mints is tagged), the
// clock by now().
func rotationScript(group int) string {
	var b strings.Builder
	b.WriteString("\\set next :g + 1\n")
	if group > 1 {
		b.WriteString("\\startpipeline\n")
	}
	for i := range group {
		sid := fmt.Sprintf(`(:prefix::text || lpad((:client_id * %d + %d)::text, 12, '0'))`, group, i)
		args := map[int]string{
			1:  sid,
			2:  `:g`,
			3:  `sha256(convert_to(` + sid + ` || '.' || :g, 'UTF8'))`,
			4:  `now()`,
			5:  `now() - interval '30 seconds'`,
			6:  `sha256(convert_to(` + sid + ` || '.' || :next, 'UTF8'))`,
			7:  `'\x` + strings.Repeat("ab", 73) + `'::bytea`,
			8:  `now() + interval '14 days'`,
			9:  `'refresh_token_reused'`,
			10: `'192.0.2.1'`,
			11: `true`,
		}
		sql := store.RefreshSQL
		for n := 11; n >= 1; n-- { // $11 and $10 before $1
			sql = strings.ReplaceAll(sql, "$"+strconv.Itoa(n), args[n])
		}
		// pgbench reads one statement per line unless continued.
		b.WriteString(strings.Join(strings.Fields(sql), " ") + ";\n")
	}
	if group > 1 {
		b.WriteString("\\endpipeline\n")
	}
	b.WriteString("\\set g :g + 1\n")
	return b.String()
}

// rotationPgbench runs the service's rotation statement under pgbench, `clients`
// connections each rotating `group` sessions of its own (created for the run) per
// transaction, and checks afterwards that every statement was a rotation. The sample
// counts rotations; its latencies are the transactions'.
func (e *env) rotationPgbench(ctx context.Context, clients, group int, d time.Duration) (sample, bool, error) {
	run := rotationRuns.Add(1)
	prefix := fmt.Sprintf("pgbench-run-%04d-", run)
	_, err := e.db.Exec(ctx, `
		INSERT INTO sessions (id, user_id, created_at, last_used_at, idle_expires_at, absolute_expires_at, token_hash)
		SELECT n.sid, u.id, now(), now(), now() + interval '14 days', now() + interval '30 days', sha256(convert_to(n.sid || '.1', 'UTF8'))
		FROM users u, generate_series(0, $2 - 1) c, LATERAL (SELECT $1 || lpad(c::text, 12, '0') AS sid) n
		WHERE u.email = $3`, prefix, clients*group, email)
	if err != nil {
		return sample{}, false, fmt.Errorf("rotation sessions: %w", err)
	}
	s, total, err := e.pgbench(ctx, fmt.Sprintf("rotation-%d", group), rotationScript(group), clients, d, "prefix="+prefix, "g=1")
	if err != nil {
		return sample{}, false, err
	}
	var rotations int
	if err := e.db.QueryRow(ctx, `SELECT coalesce(sum(generation - 1), 0) FROM sessions WHERE id LIKE $1 || '%' AND revoked_at IS NULL`,
		prefix).Scan(&rotations); err != nil {
		return sample{}, false, err
	}
	if rotations != total*group {
		return sample{}, false, fmt.Errorf("pgbench rotation: %d transactions of %d but %d rotations", total, group, rotations)
	}
	s.ops *= group
	return s, true, nil
}

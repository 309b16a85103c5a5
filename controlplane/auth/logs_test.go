package auth_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/controlplane/auth"
	"github.com/edgeauth/edgeauth/internal/syncbuf"
)

// Nothing secret reaches the log or the audit trail, whatever happens: failed and
// throttled logins, reuse. (Failed logins keep a hash of the typed name, not the name:
// people type passwords into it.)
func TestLogsHoldNoSecrets(t *testing.T) {
	t.Parallel()
	var logs syncbuf.Buffer
	e := newEnv(t, func(c *auth.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ctx := context.Background()
	e.user(t, "logs@example.test")
	r := e.login(t, "logs@example.test")
	r2 := mustRefresh(t, e, r.Tokens.Refresh)
	r3 := mustRefresh(t, e, r2.Tokens.Refresh)
	_, err := e.refresh(r.Tokens.Refresh) // reuse
	wantErr(t, err, auth.ErrRefreshReused)
	const typed = "my-secret-typo-password"
	for range auth.DefaultPairFailures + 1 {
		e.svc.Login(ctx, auth.LoginRequest{Email: "logs@example.test", Password: typed, IP: "192.0.2.8"})
	}
	out := logs.String()
	if !strings.Contains(out, "reuse") || !strings.Contains(out, "throttled") {
		t.Fatalf("expected log lines missing:\n%s", out)
	}
	// Nor the audit trail, nor the throttling records.
	var stored string
	if err := e.pool.QueryRow(ctx, `SELECT (SELECT coalesce(string_agg(a::text, ' '), '') FROM audit_events a) ||
		(SELECT coalesce(string_agg(f::text, ' '), '') FROM login_failures f)`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stored, "refresh_token_reused") {
		t.Fatalf("audit trail lacks the reuse: %s", stored)
	}
	out += stored
	for _, secret := range []string{testPassword, typed, "logs@example.test", r.Tokens.Refresh, r2.Tokens.Refresh, r3.Tokens.Refresh,
		r.Tokens.Access, r2.Tokens.Access, r3.Tokens.Access} {
		if strings.Contains(out, secret) {
			t.Fatalf("a secret reached the log or the audit trail:\n%s", out)
		}
	}
}

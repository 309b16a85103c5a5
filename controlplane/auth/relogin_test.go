package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/auth"
)

// A login that replaces two of a user's sessions locks them in id order, as a
// logout-all does: sent in the other order (the browser's cookie order) while a
// logout-all waits for the first of them, it would hold the second and wait for the
// first, the logout-all would hold the first and wait for the second, and PostgreSQL
// would abort one of them (a 503 for that user).
func TestReloginAndLogoutAllLockInOneOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, nil)
	u := e.user(t, "order@example.test")
	a, b := e.login(t, "order@example.test"), e.login(t, "order@example.test")
	if a.Session.ID > b.Session.ID {
		a, b = b, a // a: the first in id order
	}

	hold, err := e.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback(ctx)
	if _, err := hold.Exec(ctx, `SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE`, a.Session.ID); err != nil {
		t.Fatal(err)
	}
	lockWaits := func(n int) {
		t.Helper()
		if !waitUntil(10*time.Second, func() bool {
			var got int
			err := e.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
				WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&got)
			return err == nil && got == n
		}) {
			t.Fatalf("fewer than %d statements waiting for a lock", n)
		}
	}

	logoutAll := make(chan error, 1)
	go func() { _, err := e.svc.LogoutAll(ctx, u.ID); logoutAll <- err }()
	lockWaits(1) // the logout-all, at a
	login := make(chan error, 1)
	go func() {
		_, err := e.svc.Login(ctx, auth.LoginRequest{Email: "order@example.test", Password: testPassword, IP: "192.0.2.1",
			Replaces: auth.Replaced{RefreshTokens: []string{b.Tokens.Refresh, a.Tokens.Refresh}}})
		login <- err
	}()
	lockWaits(2) // and the login, at a too (or at a after taking b)
	if err := hold.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-logoutAll; err != nil {
		t.Errorf("logout-all: %v", err)
	}
	if err := <-login; err != nil {
		t.Errorf("login: %v", err)
	}
	e.active(t, a.Session.ID, false)
	e.active(t, b.Session.ID, false)
}

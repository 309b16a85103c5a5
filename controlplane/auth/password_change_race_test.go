package auth_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/edgeauth/edgeauth/controlplane/auth"
	"github.com/edgeauth/edgeauth/controlplane/store"
)

// midChange is the real store, except that its first UserByID runs hook after reading
// the user: another request committing while a password change checks the current
// password (argon2id, before the change's transaction).
type midChange struct {
	*store.Store
	once sync.Once
	hook func()
}

func (m *midChange) UserByID(ctx context.Context, id string) (store.User, error) {
	u, err := m.Store.UserByID(ctx, id)
	m.once.Do(m.hook)
	return u, err
}

// A password change overtaken by another change, or by what ends its session, changes
// nothing: an operator's reset (a new password, every session ended) wins (the caller's
// session ended, which is what it is told), a change that kept the caller's session wins
// too (the current password no longer matches), and so does a logout-all that leaves
// the password as it was.
func TestPasswordChangeOvertaken(t *testing.T) {
	t.Parallel()
	const (
		mine  = "the caller's new password"
		reset = "the operator's new password"
	)
	for _, tc := range []struct {
		name     string
		overtake func(e *env, u auth.User, sid string) error
		want     error
		password string // the password that logs in afterwards
		active   bool   // the caller's session afterwards
	}{
		{"by a reset", func(e *env, u auth.User, _ string) error {
			_, _, err := e.svc.ResetPassword(context.Background(), u.Email, reset)
			return err
		}, auth.ErrSessionNotFound, reset, false}, // the session ended: refused as such, before the password
		{"by a change that keeps this session", func(e *env, u auth.User, sid string) error {
			return e.svc.SetPassword(context.Background(), u.ID, reset, sid)
		}, auth.ErrInvalidCredentials, reset, true},
		{"by a logout-all", func(e *env, u auth.User, _ string) error {
			_, err := e.svc.LogoutAll(context.Background(), u.ID)
			return err
		}, auth.ErrSessionNotFound, testPassword, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			ctx := context.Background()
			u := e.user(t, "overtaken@example.test")
			here := e.login(t, "overtaken@example.test")
			svc, err := auth.New(&midChange{Store: e.st, hook: func() {
				if err := tc.overtake(e, u, here.Session.ID); err != nil {
					t.Error(err)
				}
			}}, e.signer, auth.Config{Issuer: testIssuer, Audience: testAudience, RefreshTagKey: testTagKey, Now: e.clock.Now,
				Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = svc.ChangePassword(ctx, auth.ChangePasswordRequest{UserID: u.ID, SessionID: here.Session.ID,
				Current: testPassword, New: mine, IP: "192.0.2.20"})
			wantErr(t, err, tc.want)
			e.active(t, here.Session.ID, tc.active)
			for _, pw := range []string{testPassword, mine, reset} {
				_, err := e.svc.Login(ctx, auth.LoginRequest{Email: u.Email, Password: pw, IP: "192.0.2.21"})
				if (err == nil) != (pw == tc.password) {
					t.Errorf("login with %q: %v", pw, err)
				}
			}
		})
	}
}

// A password change whose session ended before the change's transaction (signed out on
// another device, or with the others by a logout-all while the current password was
// being checked) is refused with ErrSessionNotFound and counts nothing: its current
// password was right, and a right password refused for another reason takes its
// attempt back (as ErrSecondFactorRequired and a breached new password do).
func TestPasswordChangeFromAnEndedSessionCountsNothing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		end  func(e *env, u auth.User, sid string) error // before the change's transaction
		mid  bool                                        // while the current password is checked
	}{
		{"signed out before", func(e *env, _ auth.User, sid string) error {
			_, err := e.svc.Logout(context.Background(), sid)
			return err
		}, false},
		{"overtaken by a logout-all", func(e *env, u auth.User, _ string) error {
			_, err := e.svc.LogoutAll(context.Background(), u.ID)
			return err
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			ctx := context.Background()
			u := e.user(t, "ended@example.test")
			here := e.login(t, "ended@example.test")
			hook := func() {}
			if tc.mid {
				hook = func() {
					if err := tc.end(e, u, here.Session.ID); err != nil {
						t.Error(err)
					}
				}
			} else if err := tc.end(e, u, here.Session.ID); err != nil {
				t.Fatal(err)
			}
			svc, err := auth.New(&midChange{Store: e.st, hook: hook}, e.signer, auth.Config{Issuer: testIssuer, Audience: testAudience,
				RefreshTagKey: testTagKey, Now: e.clock.Now, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = svc.ChangePassword(ctx, auth.ChangePasswordRequest{UserID: u.ID, SessionID: here.Session.ID,
				Current: testPassword, New: "the caller's new password", IP: "192.0.2.20"})
			wantErr(t, err, auth.ErrSessionNotFound)
			if n := e.failures(t); n != 0 {
				t.Fatalf("the refused change with the right current password counted %d failures, want none", n)
			}
		})
	}
}

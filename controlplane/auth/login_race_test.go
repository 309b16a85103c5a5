package auth_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/edgeauth/edgeauth/controlplane/auth"
	"github.com/edgeauth/edgeauth/controlplane/store"
)

// midLogin is the real store, except that its first UserByEmail runs hook after reading
// the user: another request committing while a login checks the password (argon2id, tens
// of milliseconds, before the login's transaction).
type midLogin struct {
	*store.Store
	once sync.Once
	hook func()
}

func (m *midLogin) UserByEmail(ctx context.Context, email string) (store.User, error) {
	u, err := m.Store.UserByEmail(ctx, email)
	m.once.Do(m.hook)
	return u, err
}

// raceLogin logs in to email with password on a service over the store of e whose
// password check is overtaken by hook.
func raceLogin(t *testing.T, e *env, email, password string, hook func()) (*auth.Result, error) {
	t.Helper()
	svc, err := auth.New(&midLogin{Store: e.st, hook: hook}, e.signer, auth.Config{Issuer: testIssuer, Audience: testAudience,
		RefreshTagKey: testTagKey, Now: e.clock.Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return svc.Login(context.Background(), auth.LoginRequest{Email: email, Password: password, IP: "192.0.2.9"})
}

// A password change is how a user evicts an intruder: a login with the old password
// that the change overtakes is refused, it does not open a session that outlives the
// change. With a hash of older parameters it does not write a rehash of the old
// password over the new hash either.
func TestLoginOvertakenByPasswordChange(t *testing.T) {
	t.Parallel()
	for _, oldParams := range []bool{false, true} {
		e := newEnv(t, nil)
		ctx := context.Background()
		u := e.user(t, "race@example.test")
		if oldParams {
			e.plantWeakHash(t, u.ID)
		}
		const newPassword = "a brand new passphrase"
		res, err := raceLogin(t, e, "race@example.test", testPassword, func() {
			if err := e.svc.SetPassword(ctx, u.ID, newPassword, ""); err != nil {
				t.Error(err)
			}
		})
		if err == nil {
			active, _ := e.svc.SessionActive(ctx, res.Session.ID)
			t.Fatalf("old parameters %v: the old password logged in after the change committed (session active: %v)", oldParams, active)
		}
		wantErr(t, err, auth.ErrInvalidCredentials)
		if _, err := e.svc.Login(ctx, auth.LoginRequest{Email: "race@example.test", Password: newPassword, IP: "192.0.2.10"}); err != nil {
			t.Errorf("old parameters %v: the new password: %v", oldParams, err)
		}
		if _, err := e.svc.Login(ctx, auth.LoginRequest{Email: "race@example.test", Password: testPassword, IP: "192.0.2.11"}); err == nil {
			t.Errorf("old parameters %v: the old password works again", oldParams)
		}
	}
}

// Two logins with the right password, one upgrading the hash of older parameters while
// the other checks it: both succeed (the second sees a changed hash, and the password
// still matches it).
func TestLoginOvertakenByAnotherLoginsRehash(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	u := e.user(t, "twice@example.test")
	weak := e.plantWeakHash(t, u.ID)
	res, err := raceLogin(t, e, "twice@example.test", testPassword, func() {
		if _, err := e.svc.Login(ctx, auth.LoginRequest{Email: "twice@example.test", Password: testPassword, IP: "192.0.2.12"}); err != nil {
			t.Error(err)
		}
	})
	if err != nil {
		t.Fatalf("the login the other one's rehash overtook: %v", err)
	}
	if active, err := e.svc.SessionActive(ctx, res.Session.ID); err != nil || !active {
		t.Fatalf("its session: active %v, %v", active, err)
	}
	got, err := e.st.UserByID(ctx, u.ID)
	if err != nil || got.PasswordHash == weak {
		t.Fatalf("the hash was not upgraded: %v", err)
	}
}

// An operator's disabling that overtakes a login (committed while the login checks the
// password) wins: the login is refused as a wrong password and opens no session.
func TestLoginOvertakenByDisabling(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	u := e.user(t, "race@example.test")
	_, err := raceLogin(t, e, "race@example.test", testPassword, func() {
		if ch, err := e.svc.DisableUser(ctx, "race@example.test"); err != nil || !ch.Changed {
			t.Errorf("DisableUser = %+v, %v", ch, err)
		}
	})
	wantErr(t, err, auth.ErrInvalidCredentials)
	if list, err := e.svc.ListSessions(ctx, u.ID, ""); err != nil || len(list) != 0 {
		t.Fatalf("sessions of the disabled account: %v, %v", list, err)
	}
}

package auth_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/auth"
	"github.com/edgeauth/edgeauth/internal/totptest"
)

var (
	passwordOnly     = []string{"pwd"}
	withTOTP         = []string{"pwd", "otp", "mfa"}
	withRecoveryCode = []string{"pwd", "mfa"}
)

// wantAMR asserts the amr claim of r's access token, and the session's AuthMethods.
func (e *env) wantAMR(t *testing.T, what string, r *auth.Result, want []string) {
	t.Helper()
	_, c := e.signer.parse(t, r.Tokens.Access, e.clock.Now())
	raw, _ := c["amr"].([]any)
	var got []string
	for _, m := range raw {
		s, _ := m.(string)
		got = append(got, s)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s: amr claim %v, want %v", what, c["amr"], want)
	}
	if !slices.Equal(r.Session.AuthMethods, want) {
		t.Fatalf("%s: the session's methods %v, want %v", what, r.Session.AuthMethods, want)
	}
}

// The access token says how its session signed in, from the first token to every
// refresh: the password alone, with a TOTP code, or with a recovery code. A grace replay
// still returns the very same access token.
func TestAccessTokenSaysHowTheSessionSignedIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	signedUp, err := e.svc.Signup(ctx, auth.SignupRequest{Email: "ada@example.test", Password: testPassword, IP: "192.0.2.8"})
	if err != nil {
		t.Fatal(err)
	}
	u := signedUp.User
	first := e.login(t, u.Email)
	secret, codes := e.enableTOTP(t, u, first)
	e.clock.Add(30 * time.Second)
	login := func(code string) *auth.Result {
		t.Helper()
		r, err := e.svc.Login(ctx, auth.LoginRequest{Email: u.Email, Password: testPassword, Code: code, IP: "192.0.2.8"})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, c := range []struct {
		name string
		r    *auth.Result
		want []string
	}{
		{"signup", signedUp, passwordOnly},
		{"TOTP code", login(totptest.Code(t, secret, e.clock.Now())), withTOTP},
		{"recovery code", login(codes[0]), withRecoveryCode},
	} {
		t.Run(c.name, func(t *testing.T) {
			e.wantAMR(t, "signed in", c.r, c.want)
			next := mustRefresh(t, e, c.r.Tokens.Refresh)
			e.wantAMR(t, "refreshed", next, c.want)
			replay := mustRefresh(t, e, c.r.Tokens.Refresh) // within the grace
			if replay.Tokens.Access != next.Tokens.Access || replay.Tokens.Refresh != next.Tokens.Refresh {
				t.Fatal("the grace replay did not return the very same tokens")
			}
			e.wantAMR(t, "refreshed again", mustRefresh(t, e, next.Tokens.Refresh), c.want)
		})
	}
}

// Confirming an enrollment proves the factor in the calling session: its next refresh
// says mfa, the user's other sessions do not. Turning the factor off changes neither.
func TestConfirmTOTPUpgradesTheCallingSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	u := e.user(t, "ada@example.test")
	here, other := e.login(t, u.Email), e.login(t, u.Email)
	_, codes := e.enableTOTP(t, u, here)
	here = mustRefresh(t, e, here.Tokens.Refresh)
	e.wantAMR(t, "the confirming session", here, withTOTP)
	other = mustRefresh(t, e, other.Tokens.Refresh)
	e.wantAMR(t, "another session", other, passwordOnly)
	list, err := e.svc.ListSessions(ctx, u.ID, here.Session.ID)
	if err != nil || len(list) != 2 {
		t.Fatalf("sessions %v, %v", list, err)
	}
	for _, s := range list {
		if want := map[bool][]string{true: withTOTP, false: passwordOnly}[s.Current]; !slices.Equal(s.AuthMethods, want) {
			t.Fatalf("listed session (current %v): %v, want %v", s.Current, s.AuthMethods, want)
		}
	}

	if err := e.svc.DisableTOTP(ctx, auth.TOTPRequest{UserID: u.ID, SessionID: here.Session.ID, Password: testPassword, Code: codes[0], IP: "192.0.2.8"}); err != nil {
		t.Fatal(err)
	}
	e.wantAMR(t, "after turning the factor off", mustRefresh(t, e, here.Tokens.Refresh), withTOTP)
}

// A confirmation from a session that has ended turns nothing on: no session would have
// proved the factor.
func TestConfirmTOTPFromAnEndedSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	u := e.user(t, "ada@example.test")
	s := e.login(t, u.Email)
	setup, err := e.svc.BeginTOTP(ctx, auth.TOTPRequest{UserID: u.ID, SessionID: s.Session.ID, Password: testPassword, IP: "192.0.2.8"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Logout(ctx, s.Session.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.ConfirmTOTP(ctx, auth.TOTPRequest{UserID: u.ID, SessionID: s.Session.ID, Code: totptest.Code(t, setup.Secret, e.clock.Now()), IP: "192.0.2.8"})
	wantErr(t, err, auth.ErrSessionNotFound)
	if st, err := e.svc.MFAStatus(ctx, u.ID); err != nil || st.TOTP || !st.Pending {
		t.Fatalf("after a refused confirmation: %+v, %v", st, err)
	}
}

// A password change's new session keeps the second factor of the one it replaces, and
// a password-only session's replacement stays password-only.
func TestPasswordChangeKeepsTheSecondFactor(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	u := e.user(t, "ada@example.test")
	secret, codes := e.enableTOTP(t, u, e.login(t, u.Email))
	e.clock.Add(30 * time.Second)
	password := testPassword
	for _, c := range []struct {
		name, code string
		want       []string
	}{
		{"TOTP code", totptest.Code(t, secret, e.clock.Now()), withTOTP},
		{"recovery code", codes[0], withRecoveryCode},
	} {
		s, err := e.svc.Login(ctx, auth.LoginRequest{Email: u.Email, Password: password, Code: c.code, IP: "192.0.2.8"})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		next := password + "!"
		changed, _, err := e.svc.ChangePassword(ctx, auth.ChangePasswordRequest{UserID: u.ID, SessionID: s.Session.ID, Current: password, New: next, IP: "192.0.2.8"})
		if err != nil {
			t.Fatalf("%s: change: %v", c.name, err)
		}
		password = next
		e.wantAMR(t, c.name+": the new session", changed, c.want)
		e.wantAMR(t, c.name+": its refresh", mustRefresh(t, e, changed.Tokens.Refresh), c.want)
	}

	v := e.user(t, "bob@example.test")
	s := e.login(t, v.Email)
	changed, _, err := e.svc.ChangePassword(ctx, auth.ChangePasswordRequest{UserID: v.ID, SessionID: s.Session.ID, Current: testPassword, New: "another passphrase entirely", IP: "192.0.2.8"})
	if err != nil {
		t.Fatal(err)
	}
	e.wantAMR(t, "a password-only session's replacement", changed, passwordOnly)
}

// A second factor proved once is worth what the session it was proved in is worth: a
// password change's new session keeps the factor, and so ends when the session it
// replaces would have (sessions.absolute_lifetime), not a whole lifetime later. Else
// changing the password now and then, with the password alone, would keep a session
// that says mfa alive for good. A session without a factor gets a whole lifetime: the
// password is all it ever proved.
func TestPasswordChangeDoesNotExtendTheSecondFactor(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *auth.Config) { c.IdleTTL = 2 * time.Hour; c.AbsoluteTTL = 5 * time.Hour })
	ctx := context.Background()
	u := e.user(t, "ada@example.test")
	secret, _ := e.enableTOTP(t, u, e.login(t, u.Email))
	e.clock.Add(30 * time.Second)
	s, err := e.svc.Login(ctx, auth.LoginRequest{Email: u.Email, Password: testPassword, Code: totptest.Code(t, secret, e.clock.Now()), IP: "192.0.2.8"})
	if err != nil {
		t.Fatal(err)
	}
	ends := s.Session.AbsoluteExpires
	password := testPassword
	for i := range 3 {
		e.clock.Add(90 * time.Minute)
		next := fmt.Sprintf("%s %d!", password, i)
		changed, _, err := e.svc.ChangePassword(ctx, auth.ChangePasswordRequest{UserID: u.ID, SessionID: s.Session.ID, Current: password, New: next, IP: "192.0.2.8"})
		if err != nil {
			t.Fatalf("change %d: %v", i+1, err)
		}
		password, s = next, changed
		e.wantAMR(t, fmt.Sprintf("change %d", i+1), changed, withTOTP)
		if got := changed.Session.AbsoluteExpires; !got.Equal(ends) {
			t.Fatalf("change %d, %v after the sign-in with the code: the new session ends %v, want %v (the replaced one's end)",
				i+1, e.clock.Now().Sub(ends.Add(-5*time.Hour)), got, ends)
		}
		if changed.Session.IdleExpires.After(ends) || changed.Tokens.RefreshExpires.After(ends) {
			t.Fatalf("change %d: idle expiry %v past the end %v", i+1, changed.Session.IdleExpires, ends)
		}
	}
	e.clock.Add(31 * time.Minute) // past the sign-in's absolute lifetime
	_, err = e.svc.Refresh(ctx, auth.RefreshRequest{Token: s.Tokens.Refresh})
	wantErr(t, err, auth.ErrRefreshInvalid)

	v := e.user(t, "bob@example.test")
	p := e.login(t, v.Email)
	e.clock.Add(time.Hour)
	changed, _, err := e.svc.ChangePassword(ctx, auth.ChangePasswordRequest{UserID: v.ID, SessionID: p.Session.ID, Current: testPassword, New: "another passphrase entirely", IP: "192.0.2.8"})
	if err != nil {
		t.Fatal(err)
	}
	if want := e.clock.Now().Add(5 * time.Hour); !changed.Session.AbsoluteExpires.Equal(want) {
		t.Fatalf("a password-only session's replacement ends %v, want a whole lifetime, %v", changed.Session.AbsoluteExpires, want)
	}
}

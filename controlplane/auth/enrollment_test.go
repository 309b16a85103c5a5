package auth_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/auth"
	"github.com/edgeauth/edgeauth/internal/totptest"
)

func requireSecondFactorOf(roles ...string) func(*auth.Config) {
	return func(c *auth.Config) { c.SecondFactorRequiredFor = roles }
}

// revokeReason is the reason session sid was revoked with ("" while it is live).
func (e *env) revokeReason(t *testing.T, sid string) string {
	t.Helper()
	var reason *string
	if err := e.pool.QueryRow(context.Background(), `SELECT revoke_reason FROM sessions WHERE id = $1`, sid).Scan(&reason); err != nil {
		t.Fatal(err)
	}
	if reason == nil {
		return ""
	}
	return *reason
}

// An account whose role must have a second factor gets no session with the password
// alone: it enrolls with its credentials (a wrong password counted, a wrong code
// counted), and the confirmation opens a session that proved the factor. From then on
// it signs in with a code, and cannot turn the factor off (it replaces its recovery
// codes instead). Accounts the policy does not
// cover sign in as before, and cannot use the enrollment without a session.
func TestSecondFactorRequiredByRole(t *testing.T) {
	t.Parallel()
	e := newEnv(t, requireSecondFactorOf("admin"))
	ctx := context.Background()
	ada := e.user(t, "ada@example.test", "admin")
	bob := e.user(t, "bob@example.test", "reader")
	e.wantAMR(t, "a reader's login", e.login(t, bob.Email), passwordOnly)
	creds := func(u auth.User) auth.LoginRequest {
		return auth.LoginRequest{Email: u.Email, Password: testPassword, UserAgent: "test", IP: "192.0.2.9"}
	}

	if _, err := e.svc.Login(ctx, creds(ada)); !errors.Is(err, auth.ErrMFAEnrollmentRequired) {
		t.Fatalf("an admin's login without a second factor: %v, want ErrMFAEnrollmentRequired", err)
	}
	if n := e.failures(t); n != 0 {
		t.Fatalf("the refused login counted %d failures, want none", n)
	}
	if _, err := e.svc.BeginEnrollment(ctx, creds(bob)); !errors.Is(err, auth.ErrMFAEnrollmentNotRequired) {
		t.Fatalf("a reader's enrollment without a session: %v", err)
	}
	wrong := creds(ada)
	wrong.Password = "not the password at all"
	if _, err := e.svc.BeginEnrollment(ctx, wrong); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("enrollment with a wrong password: %v", err)
	}
	if n := e.failures(t); n != 1 {
		t.Fatalf("a wrong password at enrollment counted %d failures, want 1", n)
	}
	if _, _, err := e.svc.CompleteEnrollment(ctx, auth.LoginRequest{Email: ada.Email, Password: testPassword, Code: "123456"}); !errors.Is(err, auth.ErrMFANotPending) {
		t.Fatalf("confirming before beginning: %v", err)
	}
	setup, err := e.svc.BeginEnrollment(ctx, creds(ada))
	if err != nil {
		t.Fatal(err)
	}
	late := creds(ada)
	late.Code = totptest.Code(t, setup.Secret, e.clock.Now().Add(-time.Hour))
	if _, _, err := e.svc.CompleteEnrollment(ctx, late); !errors.Is(err, auth.ErrMFAInvalid) {
		t.Fatalf("an old code: %v", err)
	}
	if n := e.failures(t); n != 1 { // the right password to begin took the first back
		t.Fatalf("a wrong code counted %d failures, want 1", n)
	}
	right := creds(ada)
	right.Code = totptest.Code(t, setup.Secret, e.clock.Now())
	res, codes, err := e.svc.CompleteEnrollment(ctx, right)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != auth.RecoveryCodeCount || res.User.ID != ada.ID {
		t.Fatalf("%d recovery codes for %s", len(codes), res.User.ID)
	}
	e.wantAMR(t, "the enrolling session", res, withTOTP)
	e.wantAMR(t, "its refresh", mustRefresh(t, e, res.Tokens.Refresh), withTOTP)
	if _, err := e.svc.BeginEnrollment(ctx, creds(ada)); !errors.Is(err, auth.ErrMFAEnabled) {
		t.Fatalf("enrolling again: %v", err)
	}
	if _, err := e.svc.Login(ctx, creds(ada)); !errors.Is(err, auth.ErrMFARequired) {
		t.Fatalf("a login without a code after enrolling: %v", err)
	}
	withCode := creds(ada)
	withCode.Code = codes[0]
	e.wantAMR(t, "a login with a recovery code", loginOK(t, e, withCode), withRecoveryCode)
	off := auth.TOTPRequest{UserID: ada.ID, SessionID: res.Session.ID, Password: testPassword, Code: codes[1], IP: "192.0.2.9"}
	if err := e.svc.DisableTOTP(ctx, off); !errors.Is(err, auth.ErrMFAKeptByPolicy) {
		t.Fatalf("turning the required factor off: %v", err)
	}
	withCode.Code = codes[1] // not used up by the refused DisableTOTP
	loginOK(t, e, withCode)
	// It cannot turn the factor off and on for new recovery codes; it replaces them.
	off.Code = codes[2]
	renewed, err := e.svc.NewRecoveryCodes(ctx, off)
	if err != nil || len(renewed) != auth.RecoveryCodeCount {
		t.Fatalf("new recovery codes: %d, %v", len(renewed), err)
	}
	withCode.Code = codes[3]
	if _, err := e.svc.Login(ctx, withCode); !errors.Is(err, auth.ErrMFAInvalid) {
		t.Fatalf("a login with a replaced recovery code: %v", err)
	}
	withCode.Code = renewed[0]
	loginOK(t, e, withCode)

	// An operator's reset: the account enrolls again at its next sign-in.
	if _, removed, err := e.svc.ResetTOTP(ctx, ada.Email); err != nil || !removed {
		t.Fatalf("reset: %v %v", removed, err)
	}
	if _, err := e.svc.Login(ctx, creds(ada)); !errors.Is(err, auth.ErrMFAEnrollmentRequired) {
		t.Fatalf("a login after the reset: %v", err)
	}
}

func loginOK(t *testing.T, e *env, req auth.LoginRequest) *auth.Result {
	t.Helper()
	r, err := e.svc.Login(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A session that signed in with the password alone, of an account the policy covers,
// ends at its next refresh: one opened before the policy, one whose account was given
// the role later. The revocation carries its reason, and the session stays ended.
// Sessions that proved the factor, and sessions of accounts outside the policy, go on.
func TestPasswordOnlySessionsEndAtRefreshOnceTheAccountNeedsASecondFactor(t *testing.T) {
	t.Parallel()
	before := newEnv(t, nil)
	ctx := context.Background()
	ada := before.user(t, "ada@example.test", "admin")
	old := before.login(t, ada.Email)
	proved := before.login(t, ada.Email)
	before.enableTOTP(t, ada, proved)

	e := envOn(t, before.pool, requireSecondFactorOf("admin"))
	e.clock.t = before.clock.Now()
	bob := e.user(t, "bob@example.test")
	bobs := e.login(t, bob.Email)
	for _, c := range []struct {
		name string
		sess *auth.Result
		give []string // roles given to the account first
	}{
		{"a session from before the policy", old, nil},
		{"a session whose account became an admin", bobs, []string{"admin"}},
	} {
		if c.give != nil {
			if err := e.svc.SetRoles(ctx, c.sess.User.ID, c.give); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.refresh(c.sess.Tokens.Refresh); !errors.Is(err, auth.ErrSecondFactorRequired) {
			t.Fatalf("%s: refresh %v, want ErrSecondFactorRequired", c.name, err)
		}
		if got := e.revokeReason(t, c.sess.Session.ID); got != auth.ReasonSecondFactorRequired {
			t.Fatalf("%s: revoked with %q", c.name, got)
		}
		if _, err := e.refresh(c.sess.Tokens.Refresh); !errors.Is(err, auth.ErrRefreshInvalid) {
			t.Fatalf("%s: a second refresh: %v", c.name, err)
		}
	}
	e.wantAMR(t, "the session that confirmed the factor", mustRefresh(t, e, proved.Tokens.Refresh), withTOTP)
	carol := e.user(t, "carol@example.test", "reader")
	mustRefresh(t, e, e.login(t, carol.Email).Tokens.Refresh)
}

// With "*" every account needs a second factor: a signup creates the account and opens
// no session, and the account enrolls as any other.
func TestSignupWhenEveryAccountNeedsASecondFactor(t *testing.T) {
	t.Parallel()
	e := newEnv(t, requireSecondFactorOf(auth.EveryAccount))
	ctx := context.Background()
	req := auth.SignupRequest{Email: "dan@example.test", Password: testPassword, IP: "192.0.2.10"}
	if _, err := e.svc.Signup(ctx, req); !errors.Is(err, auth.ErrMFAEnrollmentRequired) {
		t.Fatalf("signup: %v, want ErrMFAEnrollmentRequired", err)
	}
	if _, err := e.svc.Signup(ctx, req); !errors.Is(err, auth.ErrUserExists) {
		t.Fatalf("the account was not created: %v", err)
	}
	creds := auth.LoginRequest{Email: req.Email, Password: testPassword, IP: "192.0.2.10"}
	setup, err := e.svc.BeginEnrollment(ctx, creds)
	if err != nil {
		t.Fatal(err)
	}
	creds.Code = totptest.Code(t, setup.Secret, e.clock.Now())
	res, _, err := e.svc.CompleteEnrollment(ctx, creds)
	if err != nil {
		t.Fatal(err)
	}
	e.wantAMR(t, "the first session", res, withTOTP)
}

// The policy names role names, or "*", and needs the key that seals second factors.
func TestSecondFactorPolicyIsChecked(t *testing.T) {
	t.Parallel()
	base := auth.Config{Issuer: testIssuer, Audience: testAudience, RefreshTagKey: testTagKey, SecretKey: testSecretKey}
	for _, c := range []struct {
		name string
		mod  func(*auth.Config)
	}{
		{"a role with a comma", requireSecondFactorOf("admin,ops")},
		{"an empty role", requireSecondFactorOf("")},
		{"no sealing key", func(c *auth.Config) { c.SecondFactorRequiredFor, c.SecretKey = []string{"*"}, nil }},
	} {
		cfg := base
		c.mod(&cfg)
		if cfg.Validate() == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
	cfg := base
	requireSecondFactorOf("admin", auth.EveryAccount)(&cfg)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}

// Two confirmations of one enrollment at once (two tabs, a double submit): one turns the
// factor on and signs in, the other changes nothing (ErrMFANotPending when it waited
// on the first's lock, ErrMFAEnabled when it read the account after); one session, one
// set of recovery codes.
func TestConcurrentConfirmationsEnrollOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, requireSecondFactorOf("admin"))
	ctx := context.Background()
	ada := e.user(t, "ada@example.test", "admin")
	req := auth.LoginRequest{Email: ada.Email, Password: testPassword, IP: "192.0.2.11"}
	setup, err := e.svc.BeginEnrollment(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	req.Code = totptest.Code(t, setup.Secret, e.clock.Now())
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, _, err := e.svc.CompleteEnrollment(ctx, req)
			errs <- err
		}()
	}
	var ok, refused int
	for range 2 {
		switch err := <-errs; {
		case err == nil:
			ok++
		case errors.Is(err, auth.ErrMFANotPending), errors.Is(err, auth.ErrMFAEnabled): // waited on the lock, or came after
			refused++
		default:
			t.Fatal(err)
		}
	}
	var sessions, codes int
	if err := e.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM recovery_codes)`).Scan(&sessions, &codes); err != nil {
		t.Fatal(err)
	}
	if ok != 1 || refused != 1 || sessions != 1 || codes != auth.RecoveryCodeCount {
		t.Fatalf("%d confirmed, %d refused; %d sessions, %d recovery codes", ok, refused, sessions, codes)
	}
}

// A password-only session of an account the policy covers cannot renew itself through
// a password change: the change would open a new password-only session with fresh
// tokens, and another change before those expire another, so the session would never
// reach the refresh that ends it. The change is refused (ErrSecondFactorRequired),
// nothing changes and nothing is counted; the session still ends at its refresh.
func TestPasswordChangeDoesNotRenewAPasswordOnlySessionThePolicyEnds(t *testing.T) {
	t.Parallel()
	before := newEnv(t, nil)
	ctx := context.Background()
	ada := before.user(t, "ada@example.test", "admin")
	old := before.login(t, ada.Email)

	e := envOn(t, before.pool, requireSecondFactorOf("admin"))
	e.clock.t = before.clock.Now()
	res, _, err := e.svc.ChangePassword(ctx, auth.ChangePasswordRequest{UserID: ada.ID, SessionID: old.Session.ID,
		Current: testPassword, New: "another passphrase entirely", IP: "192.0.2.8"})
	if !errors.Is(err, auth.ErrSecondFactorRequired) {
		var amr []string
		if res != nil {
			amr = res.Session.AuthMethods
		}
		t.Fatalf("a password change from a password-only session: %v (a new session, amr %v), want ErrSecondFactorRequired", err, amr)
	}
	if n := e.failures(t); n != 0 {
		t.Fatalf("the refused change counted %d failures, want none", n)
	}
	if _, err := e.svc.Login(ctx, auth.LoginRequest{Email: ada.Email, Password: testPassword, IP: "192.0.2.8"}); !errors.Is(err, auth.ErrMFAEnrollmentRequired) {
		t.Fatalf("the password changed anyway: a login with the old one: %v", err)
	}
	if _, err := e.refresh(old.Tokens.Refresh); !errors.Is(err, auth.ErrSecondFactorRequired) {
		t.Fatalf("the session's refresh: %v, want ErrSecondFactorRequired", err)
	}
}

// Confirmations that lose to a concurrent one (a double submit from two addresses)
// had the right password and the right code: they are refused and count nothing,
// whether they read the account before the winner committed (ErrMFANotPending) or
// after (ErrMFAEnabled).
func TestConfirmationsThatLoseARaceCountNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, requireSecondFactorOf("admin"))
	ctx := context.Background()
	ada := e.user(t, "ada@example.test", "admin")
	setup, err := e.svc.BeginEnrollment(ctx, auth.LoginRequest{Email: ada.Email, Password: testPassword, IP: "192.0.2.11"})
	if err != nil {
		t.Fatal(err)
	}
	code := totptest.Code(t, setup.Secret, e.clock.Now())
	const n = 4
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, _, err := e.svc.CompleteEnrollment(ctx, auth.LoginRequest{Email: ada.Email, Password: testPassword, Code: code,
				IP: fmt.Sprintf("192.0.2.%d", 20+i)})
			errs <- err
		}()
	}
	ok, lost := 0, map[string]int{}
	for range n {
		switch err := <-errs; {
		case err == nil:
			ok++
		case errors.Is(err, auth.ErrMFANotPending), errors.Is(err, auth.ErrMFAEnabled):
			lost[err.Error()]++
		default:
			t.Fatal(err)
		}
	}
	if got := e.failures(t); ok != 1 || got != 0 {
		t.Fatalf("%d confirmed, refused %v; %d failures counted, want 1 confirmed and none counted", ok, lost, got)
	}
}

package auth_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/auth"
	"github.com/edgeauth/edgeauth/internal/totptest"
)

// enableTOTP turns a second factor on for the user of session s and returns its secret
// and recovery codes.
func (e *env) enableTOTP(t *testing.T, u auth.User, s *auth.Result) (string, []string) {
	t.Helper()
	ctx := context.Background()
	setup, err := e.svc.BeginTOTP(ctx, auth.TOTPRequest{UserID: u.ID, SessionID: s.Session.ID, Password: testPassword, IP: "192.0.2.8"})
	if err != nil {
		t.Fatal(err)
	}
	codes, err := e.svc.ConfirmTOTP(ctx, auth.TOTPRequest{UserID: u.ID, SessionID: s.Session.ID, Code: totptest.Code(t, setup.Secret, e.clock.Now()), IP: "192.0.2.8"})
	if err != nil {
		t.Fatal(err)
	}
	return setup.Secret, codes
}

func (e *env) failures(t *testing.T) int {
	t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM login_failures`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A second factor, from setup to sign-in to removal: the password is checked again to
// begin; a pending one changes no login until a code confirms it; then a login needs a
// code (without one: ErrMFARequired, nothing counted), each code works once (a replay
// is ErrMFAInvalid, counted), recovery codes work once in any spelling, and turning it
// off takes the password and a code.
func TestTOTPFromSetupToRemoval(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	u := e.user(t, "ada@example.test")
	s := e.login(t, u.Email)
	req := auth.TOTPRequest{UserID: u.ID, SessionID: s.Session.ID, Password: "wrong password here", IP: "192.0.2.8"}
	if _, err := e.svc.BeginTOTP(ctx, req); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("setup with a wrong password: %v", err)
	}
	req.Password = testPassword
	setup, err := e.svc.BeginTOTP(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(setup.URI, "otpauth://totp/") || !strings.Contains(setup.URI, "secret="+setup.Secret) || !strings.Contains(setup.URI, "issuer=") {
		t.Fatalf("setup %+v", setup)
	}
	login := func(c string) error {
		_, err := e.svc.Login(ctx, auth.LoginRequest{Email: u.Email, Password: testPassword, Code: c, IP: "192.0.2.8"})
		return err
	}
	if err := login(""); err != nil {
		t.Fatalf("login while the second factor is only pending: %v", err)
	}
	if _, err := e.svc.ConfirmTOTP(ctx, auth.TOTPRequest{UserID: u.ID, SessionID: s.Session.ID, Code: totptest.Code(t, setup.Secret, e.clock.Now().Add(5*time.Minute)), IP: "192.0.2.8"}); !errors.Is(err, auth.ErrMFAInvalid) {
		t.Fatalf("confirming with a code of another time: %v", err)
	}
	first := totptest.Code(t, setup.Secret, e.clock.Now())
	codes, err := e.svc.ConfirmTOTP(ctx, auth.TOTPRequest{UserID: u.ID, SessionID: s.Session.ID, Code: first, IP: "192.0.2.8"})
	if err != nil || len(codes) != auth.RecoveryCodeCount {
		t.Fatalf("confirm: %d codes, %v", len(codes), err)
	}
	if _, err := e.svc.BeginTOTP(ctx, req); !errors.Is(err, auth.ErrMFAEnabled) {
		t.Fatalf("a second setup: %v", err)
	}

	before := e.failures(t)
	if err := login(""); !errors.Is(err, auth.ErrMFARequired) {
		t.Fatalf("login without a code: %v", err)
	}
	if n := e.failures(t); n != before {
		t.Fatalf("a right password without its code counted: %d failures, was %d", n, before)
	}
	if _, err := e.svc.Login(ctx, auth.LoginRequest{Email: u.Email, Password: "wrong password here", Code: first, IP: "192.0.2.8"}); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("a wrong password with a code: %v", err)
	}
	if err := login(first); !errors.Is(err, auth.ErrMFAInvalid) {
		t.Fatalf("the confirming code again: %v", err)
	}
	if n := e.failures(t); n != before+2 {
		t.Fatalf("%d failures after a wrong password and a replayed code, want %d", n, before+2)
	}
	e.clock.Add(30 * time.Second)
	next := totptest.Code(t, setup.Secret, e.clock.Now())
	if err := login(next); err != nil {
		t.Fatalf("login with the next code: %v", err)
	}
	if err := login(next); !errors.Is(err, auth.ErrMFAInvalid) {
		t.Fatalf("the same code twice: %v", err)
	}
	if err := login(totptest.Code(t, setup.Secret, e.clock.Now().Add(-30*time.Second))); !errors.Is(err, auth.ErrMFAInvalid) {
		t.Fatalf("an older code after a newer one: %v", err)
	}

	if err := login(codes[0]); err != nil {
		t.Fatalf("login with a recovery code: %v", err)
	}
	if err := login(codes[0]); !errors.Is(err, auth.ErrMFAInvalid) {
		t.Fatalf("a recovery code twice: %v", err)
	}
	if err := login(strings.ToUpper(strings.ReplaceAll(codes[1], "-", ""))); err != nil {
		t.Fatalf("a recovery code in capitals without dashes: %v", err)
	}
	if err := login("not-a-code"); !errors.Is(err, auth.ErrMFAInvalid) {
		t.Fatalf("a code of neither kind: %v", err)
	}
	var totpLogins, recoveryLogins int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE detail->>'second_factor' = 'totp'),
		count(*) FILTER (WHERE detail->>'second_factor' = 'recovery_code') FROM audit_events WHERE kind = 'login'`).Scan(&totpLogins, &recoveryLogins); err != nil {
		t.Fatal(err)
	}
	if totpLogins != 1 || recoveryLogins != 2 {
		t.Fatalf("audited logins: %d with a code, %d with a recovery code; want 1 and 2", totpLogins, recoveryLogins)
	}

	off := auth.TOTPRequest{UserID: u.ID, SessionID: s.Session.ID, Password: testPassword, Code: next, IP: "192.0.2.8"}
	if err := e.svc.DisableTOTP(ctx, off); !errors.Is(err, auth.ErrMFAInvalid) {
		t.Fatalf("turning off with a used code: %v", err)
	}
	off.Code = codes[2]
	if err := e.svc.DisableTOTP(ctx, off); err != nil {
		t.Fatalf("turning off with a recovery code: %v", err)
	}
	if err := login(""); err != nil {
		t.Fatalf("login once the second factor is off: %v", err)
	}
	if err := e.svc.DisableTOTP(ctx, off); !errors.Is(err, auth.ErrMFANotEnabled) {
		t.Fatalf("turning off twice: %v", err)
	}
	var left int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM recovery_codes`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d recovery codes left after turning off, %v", left, err)
	}
}

// Guessed codes are counted as failed logins and throttled as passwords are.
func TestTOTPGuessesAreThrottled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *auth.Config) { c.Throttle.PairFailures = 3 })
	ctx := context.Background()
	u := e.user(t, "ada@example.test")
	secret, _ := e.enableTOTP(t, u, e.login(t, u.Email))
	var last error
	for i := range 5 {
		guess := totptest.Code(t, secret, e.clock.Now().Add(time.Duration(10+i)*time.Minute)) // never in the window
		_, last = e.svc.Login(ctx, auth.LoginRequest{Email: u.Email, Password: testPassword, Code: guess, IP: "192.0.2.9"})
	}
	if !errors.Is(last, auth.ErrThrottled) {
		t.Fatalf("the fifth guess: %v, want ErrThrottled", last)
	}
	if _, err := e.svc.Login(ctx, auth.LoginRequest{Email: u.Email, Password: testPassword, Code: totptest.Code(t, secret, e.clock.Now()), IP: "192.0.2.9"}); !errors.Is(err, auth.ErrThrottled) {
		t.Fatalf("the right code once throttled: %v", err)
	}
}

// The secret is sealed at rest: the row does not hold it, another key cannot open it,
// and a previous key (a KEK rotation) opens it, after which it is sealed again under
// the current key.
func TestTOTPSecretIsSealed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	u := e.user(t, "ada@example.test")
	secret, _ := e.enableTOTP(t, u, e.login(t, u.Email))
	sealed := func() []byte {
		var b []byte
		if err := e.pool.QueryRow(ctx, `SELECT totp_secret FROM users WHERE id = $1`, u.ID).Scan(&b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	before := sealed()
	if bytes.Contains(before, []byte(secret)) {
		t.Fatal("the secret is stored as it is")
	}
	newKey := []byte("another 32-byte key for sealing!")
	other := envOn(t, e.pool, func(c *auth.Config) { c.SecretKey = newKey })
	other.clock = e.clock
	e.clock.Add(30 * time.Second)
	if _, err := other.svc.Login(ctx, auth.LoginRequest{Email: u.Email, Password: testPassword, Code: totptest.Code(t, secret, e.clock.Now()), IP: "192.0.2.8"}); err == nil || errors.Is(err, auth.ErrMFAInvalid) {
		t.Fatalf("a service with another key signed in (or took it for a wrong code): %v", err)
	}
	rotated := envOn(t, e.pool, func(c *auth.Config) {
		c.SecretKey, c.PreviousSecretKeys, c.Now = newKey, [][]byte{testSecretKey}, e.clock.Now
	})
	if _, err := rotated.svc.Login(ctx, auth.LoginRequest{Email: u.Email, Password: testPassword, Code: totptest.Code(t, secret, e.clock.Now()), IP: "192.0.2.8"}); err != nil {
		t.Fatalf("after a key rotation: %v", err)
	}
	if after := sealed(); bytes.Equal(after, before) {
		t.Fatal("not sealed again under the new key")
	}
	e.clock.Add(30 * time.Second)
	newOnly := envOn(t, e.pool, func(c *auth.Config) { c.SecretKey, c.Now = newKey, e.clock.Now })
	if _, err := newOnly.svc.Login(ctx, auth.LoginRequest{Email: u.Email, Password: testPassword, Code: totptest.Code(t, secret, e.clock.Now()), IP: "192.0.2.8"}); err != nil {
		t.Fatalf("with the new key alone: %v", err)
	}
}

// An operator removes a second factor by login name (a lost authenticator).
func TestResetTOTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	u := e.user(t, "ada@example.test")
	e.enableTOTP(t, u, e.login(t, u.Email))
	if _, removed, err := e.svc.ResetTOTP(ctx, "ADA@example.test"); err != nil || !removed {
		t.Fatalf("reset: %v, %v", removed, err)
	}
	if _, err := e.svc.Login(ctx, auth.LoginRequest{Email: u.Email, Password: testPassword, IP: "192.0.2.8"}); err != nil {
		t.Fatalf("login after the reset: %v", err)
	}
	if _, removed, err := e.svc.ResetTOTP(ctx, u.Email); err != nil || removed {
		t.Fatalf("a second reset: %v, %v", removed, err)
	}
	if _, _, err := e.svc.ResetTOTP(ctx, "nobody@example.test"); !errors.Is(err, auth.ErrUserNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	var n int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE kind = 'mfa_disabled' AND detail->>'by' = 'operator'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d operator audit events, %v", n, err)
	}
}

// The same code sent by several logins at once signs in exactly one of them; the
// others are refused as a used code, none fails otherwise (no deadlock between them).
func TestTOTPCodeRaceSignsInOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *auth.Config) { c.Throttle.PairFailures = 100 })
	ctx := context.Background()
	u := e.user(t, "ada@example.test")
	secret, _ := e.enableTOTP(t, u, e.login(t, u.Email))
	e.clock.Add(30 * time.Second)
	c := totptest.Code(t, secret, e.clock.Now())
	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := e.svc.Login(ctx, auth.LoginRequest{Email: u.Email, Password: testPassword, Code: c, IP: "192.0.2.8"})
			errs <- err
		}()
	}
	ok, used := 0, 0
	for range n {
		switch err := <-errs; {
		case err == nil:
			ok++
		case errors.Is(err, auth.ErrMFAInvalid):
			used++
		default:
			t.Errorf("a concurrent login: %v", err)
		}
	}
	if ok != 1 || used != n-1 {
		t.Fatalf("%d signed in and %d refused, want 1 and %d", ok, used, n-1)
	}
}

// The right password with a request the account's state refuses (beginning a second
// factor it has, turning off or renewing one it has not) counts nothing, as a login
// of it that needs a code counts nothing: a failure stays only for a wrong password or
// a wrong code.
func TestRefusedSecondFactorChangesCountNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	ada := e.user(t, "ada@example.test")
	adas := e.login(t, ada.Email)
	e.enableTOTP(t, ada, adas)
	bob := e.user(t, "bob@example.test")
	bobs := e.login(t, bob.Email)
	before := e.failures(t)
	if _, err := e.svc.BeginTOTP(ctx, auth.TOTPRequest{UserID: ada.ID, SessionID: adas.Session.ID, Password: testPassword, IP: "192.0.2.8"}); !errors.Is(err, auth.ErrMFAEnabled) {
		t.Fatalf("beginning a second factor that is on: %v", err)
	}
	off := auth.TOTPRequest{UserID: bob.ID, SessionID: bobs.Session.ID, Password: testPassword, Code: "123456", IP: "192.0.2.8"}
	if err := e.svc.DisableTOTP(ctx, off); !errors.Is(err, auth.ErrMFANotEnabled) {
		t.Fatalf("turning off a second factor that is not on: %v", err)
	}
	if _, err := e.svc.NewRecoveryCodes(ctx, off); !errors.Is(err, auth.ErrMFANotEnabled) {
		t.Fatalf("recovery codes without a second factor: %v", err)
	}
	if n := e.failures(t); n != before {
		t.Fatalf("refusals of the right password counted %d failures, want %d", n, before)
	}
}

// Guessing the code that confirms a pending enrollment is throttled as guessing a
// login's code is: a wrong one counts as a failed login, so a session that did not
// begin the enrollment (another device's, a copied one) cannot try codes until one
// turns the factor on and proves it in that session.
func TestTOTPConfirmationGuessesAreThrottled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *auth.Config) { c.Throttle.PairFailures = 3 })
	ctx := context.Background()
	u := e.user(t, "ada@example.test")
	began := e.login(t, u.Email)
	other := e.login(t, u.Email)
	setup, err := e.svc.BeginTOTP(ctx, auth.TOTPRequest{UserID: u.ID, SessionID: began.Session.ID, Password: testPassword, IP: "192.0.2.8"})
	if err != nil {
		t.Fatal(err)
	}
	var last error
	for i := range 5 {
		guess := totptest.Code(t, setup.Secret, e.clock.Now().Add(time.Duration(10+i)*time.Minute)) // never in the window
		_, last = e.svc.ConfirmTOTP(ctx, auth.TOTPRequest{UserID: u.ID, SessionID: other.Session.ID, Code: guess, IP: "192.0.2.8"})
	}
	if n := e.failures(t); n < 3 || !errors.Is(last, auth.ErrThrottled) {
		t.Fatalf("5 wrong confirmation codes: %d failures counted, the fifth %v; want them counted and ErrThrottled", n, last)
	}
	if _, err := e.svc.ConfirmTOTP(ctx, auth.TOTPRequest{UserID: u.ID, SessionID: other.Session.ID, Code: totptest.Code(t, setup.Secret, e.clock.Now()), IP: "192.0.2.8"}); !errors.Is(err, auth.ErrThrottled) {
		t.Fatalf("the right code once throttled: %v", err)
	}
}

// A password change proves the password alone when the session it is made from did
// not prove the second factor (one opened before the factor was turned on): it takes
// its own attempt back but leaves the codes guessed from that address counted, so a
// holder of the password and of such a session cannot clear the throttle between
// guesses by changing the password.
func TestPasswordChangeLeavesGuessedCodesCounted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *auth.Config) { c.Throttle.PairFailures = 3 })
	ctx := context.Background()
	u := e.user(t, "ada@example.test")
	old := e.login(t, u.Email) // password only, before the factor
	secret, _ := e.enableTOTP(t, u, e.login(t, u.Email))
	const ip = "192.0.2.66"
	password := testPassword
	guess := func(i int) error {
		_, err := e.svc.Login(ctx, auth.LoginRequest{Email: u.Email, Password: password, IP: ip,
			Code: totptest.Code(t, secret, e.clock.Now().Add(time.Duration(10+i)*time.Minute))}) // never in the window
		return err
	}
	for i := range 2 {
		wantErr(t, guess(i), auth.ErrMFAInvalid)
	}
	next := "another passphrase entirely"
	if _, _, err := e.svc.ChangePassword(ctx, auth.ChangePasswordRequest{UserID: u.ID, SessionID: old.Session.ID,
		Current: password, New: next, IP: ip}); err != nil {
		t.Fatal(err)
	}
	password = next
	wantErr(t, guess(2), auth.ErrMFAInvalid)
	if err := guess(3); !errors.Is(err, auth.ErrThrottled) {
		t.Fatalf("the fourth wrong code, a password change among them: %v, want ErrThrottled", err)
	}
}

// Turning the second factor off, or replacing the recovery codes, from a session that
// has ended (signed out before the call, or ended by a logout-all while the password is
// being checked) changes nothing, as a password change or a confirmation from it would:
// ErrSessionNotFound, the factor still on, the code sent not used up, the old recovery
// codes still good, and nothing counted (the password and the code were right).
func TestBothFactorChangesFromAnEndedSession(t *testing.T) {
	t.Parallel()
	for _, call := range []struct {
		name string
		do   func(svc *auth.Service, req auth.TOTPRequest) error
	}{
		{"disable", func(svc *auth.Service, req auth.TOTPRequest) error {
			return svc.DisableTOTP(context.Background(), req)
		}},
		{"recovery codes", func(svc *auth.Service, req auth.TOTPRequest) error {
			return errOf(svc.NewRecoveryCodes(context.Background(), req))
		}},
	} {
		for _, end := range []struct {
			name string
			mid  bool // while the password is checked, else before the call
			end  func(e *env, u auth.User, sid string) error
		}{
			{"signed out before", false, func(e *env, _ auth.User, sid string) error {
				return errOf(e.svc.Logout(context.Background(), sid))
			}},
			{"overtaken by a logout-all", true, func(e *env, u auth.User, _ string) error {
				return errOf(e.svc.LogoutAll(context.Background(), u.ID))
			}},
		} {
			t.Run(call.name+"/"+end.name, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, nil)
				ctx := context.Background()
				u := e.user(t, "ada@example.test")
				here := e.login(t, u.Email)
				_, codes := e.enableTOTP(t, u, here)
				hook := func() {}
				if end.mid {
					hook = func() {
						if err := end.end(e, u, here.Session.ID); err != nil {
							t.Error(err)
						}
					}
				} else if err := end.end(e, u, here.Session.ID); err != nil {
					t.Fatal(err)
				}
				svc, err := auth.New(&midChange{Store: e.st, hook: hook}, e.signer, auth.Config{Issuer: testIssuer, Audience: testAudience,
					RefreshTagKey: testTagKey, SecretKey: testSecretKey, Now: e.clock.Now, Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					t.Fatal(err)
				}
				before := e.failures(t)
				err = call.do(svc, auth.TOTPRequest{UserID: u.ID, SessionID: here.Session.ID, Password: testPassword, Code: codes[0], IP: "192.0.2.8"})
				if !errors.Is(err, auth.ErrSessionNotFound) {
					t.Errorf("from an ended session: %v, want %v", err, auth.ErrSessionNotFound)
				}
				if st, err := e.svc.MFAStatus(ctx, u.ID); err != nil || !st.TOTP || st.RecoveryCodesLeft != auth.RecoveryCodeCount {
					t.Errorf("afterwards: %+v, %v; want the factor on with all %d recovery codes", st, err, auth.RecoveryCodeCount)
				}
				if _, err := e.svc.Login(ctx, auth.LoginRequest{Email: u.Email, Password: testPassword, Code: codes[0], IP: "192.0.2.9"}); err != nil {
					t.Errorf("login with the recovery code the refused call sent: %v", err)
				}
				if n := e.failures(t); n != before {
					t.Errorf("%d failures counted, want %d", n, before)
				}
			})
		}
	}
}

// Beginning a second factor from a session that has ended (signed out after the
// request's own check) stores no pending secret: ErrSessionNotFound, as confirming or
// turning one off from it would, and nothing counted (the password was right).
func TestBeginTOTPFromAnEndedSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	u := e.user(t, "ada@example.test")
	s := e.login(t, u.Email)
	if _, err := e.svc.Logout(ctx, s.Session.ID); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.BeginTOTP(ctx, auth.TOTPRequest{UserID: u.ID, SessionID: s.Session.ID, Password: testPassword, IP: "192.0.2.8"})
	if !errors.Is(err, auth.ErrSessionNotFound) {
		t.Errorf("from an ended session: %v, want %v", err, auth.ErrSessionNotFound)
	}
	if st, err := e.svc.MFAStatus(ctx, u.ID); err != nil || st.Pending {
		t.Errorf("afterwards: %+v, %v; want nothing pending", st, err)
	}
	if n := e.failures(t); n != 0 {
		t.Errorf("%d failures counted, want none", n)
	}
}

// A KEK rotation's re-seal (ResealSecrets, run by a replica of the rotation's middle
// step) may seal a pending secret again between the moment a confirmation reads it and
// the moment it enables it: the same enrollment in other bytes, which the confirmation
// must still take. The interleaving is made with a row lock: the re-seal queues on it
// first, the confirmation (its read done) second.
func TestConfirmTOTPWhileAReSealRewritesThePendingSecret(t *testing.T) {
	t.Parallel()
	// The rotation's first step (the new KEK known, the old one sealing) and its middle
	// step (the new KEK sealing), as two replicas run them during the rollout.
	newKey := []byte("another 32-byte key for sealing!")
	e := newEnv(t, func(c *auth.Config) { c.PreviousSecretKeys = [][]byte{newKey} })
	ctx := context.Background()
	rotated := envOn(t, e.pool, func(c *auth.Config) {
		c.SecretKey, c.PreviousSecretKeys, c.Now = newKey, [][]byte{testSecretKey}, e.clock.Now
	})
	u := e.user(t, "ada@example.test")
	s := e.login(t, u.Email)
	setup, err := e.svc.BeginTOTP(ctx, auth.TOTPRequest{UserID: u.ID, SessionID: s.Session.ID, Password: testPassword, IP: "192.0.2.8"})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := e.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, u.ID); err != nil {
		t.Fatal(err)
	}
	waiting := func(n int) {
		t.Helper()
		if !waitUntil(30*time.Second, func() bool {
			var got int
			err := e.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&got)
			return err == nil && got >= n
		}) {
			t.Fatalf("fewer than %d statements wait for the row lock", n)
		}
	}
	resealed := make(chan error, 1)
	go func() {
		n, err := rotated.svc.ResealSecrets(ctx)
		if err == nil && n != 1 {
			err = fmt.Errorf("re-sealed %d accounts, want 1", n)
		}
		resealed <- err
	}()
	waiting(1)
	confirmed := make(chan error, 1)
	go func() {
		_, err := e.svc.ConfirmTOTP(ctx, auth.TOTPRequest{UserID: u.ID, SessionID: s.Session.ID, Code: totptest.Code(t, setup.Secret, e.clock.Now()), IP: "192.0.2.8"})
		confirmed <- err
	}()
	waiting(2)
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-resealed; err != nil {
		t.Fatal(err)
	}
	if err := <-confirmed; err != nil {
		t.Fatalf("confirmation after the pending secret was sealed again: %v", err)
	}
	if st, err := e.svc.MFAStatus(ctx, u.ID); err != nil || !st.TOTP {
		t.Fatalf("after the confirmation: %+v, %v", st, err)
	}
}

package app_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/app"
	"github.com/edgeauth/edgeauth/controlplane/auth"
	"github.com/edgeauth/edgeauth/controlplane/config"
	"github.com/edgeauth/edgeauth/internal/pgtest"
	"github.com/edgeauth/edgeauth/internal/totptest"
)

// A KEK rotation keeps second factors working: the control plane started with the new
// KEK and the old one in keys.previous_keks seals every TOTP secret again under the new
// one, so that after the old KEK is dropped the same account still signs in with its
// code.
func TestKEKRotationResealsSecondFactors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	const oldKEK, newKEK = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
	start := func(kek string, previous ...string) *app.App {
		t.Helper()
		cfg := config.Default()
		cfg.PublicURL, cfg.Keys.KEK, cfg.Keys.PreviousKEKs = "https://auth.example.test", kek, previous
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		a, err := app.New(ctx, cfg, app.Options{Pool: pool, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(a.Close)
		return a
	}
	sealed := func() []byte {
		var b []byte
		if err := pool.QueryRow(ctx, `SELECT totp_secret FROM users`).Scan(&b); err != nil {
			t.Fatal(err)
		}
		return b
	}

	before := start(oldKEK)
	const email, password = "ada@example.test", "correct horse battery staple"
	u, err := before.Auth.CreateUser(ctx, auth.NewUser{Email: email, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	s, err := before.Auth.Login(ctx, auth.LoginRequest{Email: email, Password: password, IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	setup, err := before.Auth.BeginTOTP(ctx, auth.TOTPRequest{UserID: u.ID, SessionID: s.Session.ID, Password: password, IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	// A code of the previous step: the login below uses the current one.
	if _, err := before.Auth.ConfirmTOTP(ctx, auth.TOTPRequest{UserID: u.ID, SessionID: s.Session.ID, Code: totptest.Code(t, setup.Secret, time.Now().Add(-30*time.Second)), IP: "192.0.2.8"}); err != nil {
		t.Fatal(err)
	}
	underOld := sealed()

	start(newKEK, oldKEK) // the rotation's middle step: re-seals at start
	if bytes.Equal(sealed(), underOld) {
		t.Fatal("the secret was not sealed again under the new KEK")
	}
	after := start(newKEK) // the old KEK dropped
	if _, err := after.Auth.Login(ctx, auth.LoginRequest{Email: email, Password: password, Code: totptest.Code(t, setup.Secret, time.Now()), IP: "192.0.2.1"}); err != nil {
		t.Fatalf("login with the new KEK alone: %v", err)
	}
}

// The middle step of a KEK rotation is a rolling deploy: until it is over, replicas
// of the first step (kek OLD, previous_keks [NEW]) still seal second-factor secrets
// under OLD (enrolment, or the re-seal of a sign-in). The replicas of the middle step
// seal those again under NEW while they run, not only at their start, so that once
// the deploy is over the old KEK can be dropped without locking anyone out.
func TestKEKRotationResealsSecretsSealedDuringTheRollout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	const oldKEK, newKEK = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
	start := func(kek string, previous ...string) *app.App {
		t.Helper()
		cfg := config.Default()
		cfg.PublicURL, cfg.Keys.KEK, cfg.Keys.PreviousKEKs = "https://auth.example.test", kek, previous
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		a, err := app.New(ctx, cfg, app.Options{Pool: pool, Logger: slog.New(slog.DiscardHandler), ResealEvery: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(a.Close)
		return a
	}
	sealed := func() []byte {
		var b []byte
		if err := pool.QueryRow(ctx, `SELECT totp_secret FROM users`).Scan(&b); err != nil {
			t.Fatal(err)
		}
		return b
	}

	first := start(oldKEK, newKEK)  // step 1, still running
	middle := start(newKEK, oldKEK) // step 2 on another replica
	middle.Start(ctx)

	const email, password = "ada@example.test", "correct horse battery staple"
	u, err := first.Auth.CreateUser(ctx, auth.NewUser{Email: email, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	s, err := first.Auth.Login(ctx, auth.LoginRequest{Email: email, Password: password, IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	setup, err := first.Auth.BeginTOTP(ctx, auth.TOTPRequest{UserID: u.ID, SessionID: s.Session.ID, Password: password, IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Auth.ConfirmTOTP(ctx, auth.TOTPRequest{UserID: u.ID, SessionID: s.Session.ID, Code: totptest.Code(t, setup.Secret, time.Now().Add(-30*time.Second)), IP: "192.0.2.8"}); err != nil {
		t.Fatal(err)
	}
	underOld := sealed() // sealed by the step-1 replica, after the step-2 one started
	first.Close()        // the rollout of step 2 is over

	for deadline := time.Now().Add(3 * time.Second); bytes.Equal(sealed(), underOld) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	after := start(newKEK) // step 3: the old KEK dropped
	if _, err := after.Auth.Login(ctx, auth.LoginRequest{Email: email, Password: password, Code: totptest.Code(t, setup.Secret, time.Now()), IP: "192.0.2.1"}); err != nil {
		t.Fatalf("login with the new KEK alone, after a secret was sealed under the old one during the rollout: %v", err)
	}
}

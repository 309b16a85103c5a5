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
	"github.com/jackc/pgx/v5/pgxpool"
)

// kekRotation is a database shared by control planes started with one KEK or another,
// as the replicas of a KEK rotation's rolling deploys are.
type kekRotation struct {
	t    *testing.T
	ctx  context.Context
	pool *pgxpool.Pool
}

const oldKEK, newKEK = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="

const rotationEmail, rotationPassword = "ada@example.test", "correct horse battery staple"

func newKEKRotation(t *testing.T) *kekRotation {
	return &kekRotation{t: t, ctx: context.Background(), pool: pgtest.NewPool(t)}
}

// start starts a control plane with kek and previous (keys.previous_keks); while
// previous is set it re-seals every 50 ms.
func (k *kekRotation) start(kek string, previous ...string) *app.App {
	k.t.Helper()
	cfg := config.Default()
	cfg.PublicURL, cfg.Keys.KEK, cfg.Keys.PreviousKEKs = "https://auth.example.test", kek, previous
	if err := cfg.Validate(); err != nil {
		k.t.Fatal(err)
	}
	a, err := app.New(k.ctx, cfg, app.Options{Pool: k.pool, Logger: slog.New(slog.DiscardHandler), ResealEvery: 50 * time.Millisecond})
	if err != nil {
		k.t.Fatal(err)
	}
	k.t.Cleanup(a.Close)
	return a
}

// sealed is the one account's TOTP secret as stored.
func (k *kekRotation) sealed() []byte {
	k.t.Helper()
	var b []byte
	if err := k.pool.QueryRow(k.ctx, `SELECT totp_secret FROM users`).Scan(&b); err != nil {
		k.t.Fatal(err)
	}
	return b
}

// enroll creates the account through a and turns TOTP on (with a code of the previous
// step: signIn uses the current one), and returns its secret.
func (k *kekRotation) enroll(a *app.App) string {
	k.t.Helper()
	u, err := a.Auth.CreateUser(k.ctx, auth.NewUser{Email: rotationEmail, Password: rotationPassword})
	if err != nil {
		k.t.Fatal(err)
	}
	s, err := a.Auth.Login(k.ctx, auth.LoginRequest{Email: rotationEmail, Password: rotationPassword, IP: "192.0.2.1"})
	if err != nil {
		k.t.Fatal(err)
	}
	setup, err := a.Auth.BeginTOTP(k.ctx, auth.TOTPRequest{UserID: u.ID, SessionID: s.Session.ID, Password: rotationPassword, IP: "192.0.2.1"})
	if err != nil {
		k.t.Fatal(err)
	}
	code := totptest.Code(k.t, setup.Secret, time.Now().Add(-30*time.Second))
	if _, err := a.Auth.ConfirmTOTP(k.ctx, auth.TOTPRequest{UserID: u.ID, SessionID: s.Session.ID, Code: code, IP: "192.0.2.8"}); err != nil {
		k.t.Fatal(err)
	}
	return setup.Secret
}

// signIn signs the account in through a with its current code.
func (k *kekRotation) signIn(a *app.App, secret string) error {
	_, err := a.Auth.Login(k.ctx, auth.LoginRequest{Email: rotationEmail, Password: rotationPassword,
		Code: totptest.Code(k.t, secret, time.Now()), IP: "192.0.2.1"})
	return err
}

// A KEK rotation keeps second factors working: the control plane started with the new
// KEK and the old one in keys.previous_keks seals every TOTP secret again under the new
// one, so that after the old KEK is dropped the same account still signs in with its
// code.
func TestKEKRotationResealsSecondFactors(t *testing.T) {
	t.Parallel()
	k := newKEKRotation(t)
	secret := k.enroll(k.start(oldKEK))
	underOld := k.sealed()

	k.start(newKEK, oldKEK) // the rotation's middle step: re-seals at start
	if bytes.Equal(k.sealed(), underOld) {
		t.Fatal("the secret was not sealed again under the new KEK")
	}
	if err := k.signIn(k.start(newKEK), secret); err != nil { // the old KEK dropped
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
	k := newKEKRotation(t)
	first := k.start(oldKEK, newKEK)  // step 1, still running
	middle := k.start(newKEK, oldKEK) // step 2 on another replica
	middle.Start(k.ctx)

	secret := k.enroll(first)
	underOld := k.sealed() // sealed by the step-1 replica, after the step-2 one started
	first.Close()          // the rollout of step 2 is over

	// Only a failing test reaches the guard: the re-seal runs every 50 ms.
	for guard := time.Now().Add(30 * time.Second); bytes.Equal(k.sealed(), underOld) && time.Now().Before(guard); {
		time.Sleep(20 * time.Millisecond)
	}
	if err := k.signIn(k.start(newKEK), secret); err != nil { // step 3: the old KEK dropped
		t.Fatalf("login with the new KEK alone, after a secret was sealed under the old one during the rollout: %v", err)
	}
}

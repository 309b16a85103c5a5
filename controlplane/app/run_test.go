package app_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/app"
	"github.com/edgeauth/edgeauth/controlplane/auth"
	"github.com/edgeauth/edgeauth/controlplane/config"
	"github.com/edgeauth/edgeauth/controlplane/revocation"
	"github.com/edgeauth/edgeauth/internal/pgtest"
	"github.com/golang-jwt/jwt/v5"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// listed reports whether the list the app serves names sid.
func listed(t *testing.T, l *revocation.List, sid string) bool {
	t.Helper()
	body, _ := l.Body()
	var c revocation.Claims
	if _, _, err := jwt.NewParser().ParseUnverified(string(body), &c); err != nil {
		t.Fatal(err)
	}
	return slices.Contains(c.SessionIDs, sid)
}

// TestRevocationsHeardDuringTheDrain: once Run's context ends (SIGTERM), requests in
// flight get up to ShutdownTimeout to finish. They are still answered with the
// revocation list, so the list must stay current meanwhile: a session revoked (through
// another replica) during the drain is listed by this one before the drain ends.
func TestRevocationsHeardDuringTheDrain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	cfg := config.Default()
	cfg.PublicURL = "https://auth.example.test"
	cfg.Keys.KEK = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(ctx, cfg, app.Options{Pool: pool, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Auth.CreateUser(ctx, auth.NewUser{Email: "ada@example.test", Password: "correct horse battery staple"}); err != nil {
		t.Fatal(err)
	}
	res, err := a.Auth.Login(ctx, auth.LoginRequest{Email: "ada@example.test", Password: "correct horse battery staple", IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}

	// A request that stays in flight until released: the drain waits for it.
	entered, release := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	})
	mux.Handle("/", a.Handler)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx, app.Server{HTTP: &http.Server{Handler: mux}, Listener: ln}) }()
	finished := false
	defer func() { // on a failure: end the request and Run
		if !finished {
			stop()
			close(release)
			<-done
		}
	}()
	go func() {
		if r, err := http.Get("http://" + ln.Addr().String() + "/slow"); err == nil {
			r.Body.Close()
		}
	}()
	<-entered
	waitFor(t, "the revocation listener", func() bool { return a.Revocations.Ready() == nil })

	stop()                   // SIGTERM: the drain starts
	<-a.Revocations.Ending() // streams were told to end: Shutdown has begun
	select {
	case err := <-done:
		t.Fatalf("Run returned with a request in flight: %v", err)
	default:
	}
	// Revoked meanwhile (as through another replica: its NOTIFY reaches this one).
	if err := a.Auth.RevokeSession(ctx, res.User.ID, res.Session.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the revocation during the drain to be listed", func() bool { return listed(t, a.Revocations, res.Session.ID) })
	finished = true
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// waitFor polls cond until it holds; it fails the test after a generous deadline (a
// guard against a hang, not a timing assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: timed out", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestShutdownStopsEveryServerAtOnce: once Run's context ends, every server stops
// accepting at once and drains within the one ShutdownTimeout. A second server (the
// operations listener) must not keep accepting, and answering /readyz as ready, while
// the first one drains a slow request, nor start its own drain only after the first
// has used up the time.
func TestShutdownStopsEveryServerAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := config.Default()
	cfg.PublicURL = "https://auth.example.test"
	cfg.Keys.KEK = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(ctx, cfg, app.Options{Pool: pgtest.NewPool(t), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	})
	listen := func() net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return ln
	}
	first, second := listen(), listen()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- a.Run(runCtx, app.Server{HTTP: &http.Server{Handler: slow}, Listener: first},
			app.Server{HTTP: &http.Server{Handler: a.Handler.Ops()}, Listener: second})
	}()
	finished := false
	defer func() { // on a failure: end the request and Run
		if !finished {
			stop()
			close(release)
			<-done
		}
	}()
	go func() {
		if r, err := http.Get("http://" + first.Addr().String() + "/"); err == nil {
			r.Body.Close()
		}
	}()
	<-entered
	stop()
	waitFor(t, "the second server to stop accepting while the first drains", func() bool {
		c, err := net.DialTimeout("tcp", second.Addr().String(), time.Second)
		if err != nil {
			return true
		}
		c.Close()
		return false
	})
	finished = true
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

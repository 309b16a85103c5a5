// Command hostdemo is a Go edge in front of a web app: it decides every request with
// verifier.wasm in wazero (or the same core natively), forwards /auth/ and
// /.well-known/ to the control plane, and keeps the verifier's keys and revocation
// list current by polling the control plane.
//
//	hostdemo --control-plane http://127.0.0.1:8080 --listen 127.0.0.1:8000
//
// Without --upstream it serves a small demo app (a login page, public and protected
// pages that show the identity headers). `make demo` runs it beside the control plane.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/edgeauth/edgeauth/hostdemo/demoapp"
	"github.com/edgeauth/edgeauth/hostdemo/edge"
	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/wasmhost"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "hostdemo:", err)
		os.Exit(1)
	}
}

func run() error {
	listen := flag.String("listen", "127.0.0.1:8000", "address to listen on")
	controlPlane := flag.String("control-plane", "http://127.0.0.1:8080", "control plane base URL")
	upstream := flag.String("upstream", "", "app to forward allowed requests to (default: the built-in demo app)")
	gateConfig := flag.String("gate-config", "", "verifier configuration (JSON, see verifier/ABI.md); default: the development control plane's cookies, /app/ protected, /admin/ for role admin")
	engineName := flag.String("engine", "wasm", "wasm (verifier.wasm in wazero) or native")
	poll := flag.Duration("poll", 15*time.Second, "how often to fetch the JWKS and the revocation list")
	maxStale := flag.Duration("max-stale", 10*time.Minute, "how long to use the last good keys while the control plane is unreachable before failing closed")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cpURL, err := url.Parse(*controlPlane)
	if err != nil || cpURL.Scheme == "" || cpURL.Host == "" {
		return fmt.Errorf("--control-plane %q is not an absolute URL", *controlPlane)
	}
	cfg, err := loadGateConfig(*gateConfig, "http://"+*listen)
	if err != nil {
		return err
	}
	var engine verifier.Engine
	switch *engineName {
	case "wasm":
		if engine, err = wasmhost.NewEmbedded(ctx, wasmhost.Options{}); err != nil {
			return err
		}
	case "native":
		engine = verifier.NewNative()
	default:
		return fmt.Errorf("--engine must be wasm or native, not %q", *engineName)
	}
	defer engine.Close()
	if err := engine.Configure(cfg); err != nil {
		return fmt.Errorf("gate configuration: %w", err)
	}

	source := &edge.Source{
		JWKSURL:        cpURL.JoinPath("/.well-known/jwks.json").String(),
		RevocationsURL: cpURL.JoinPath("/.well-known/edgeauth/revocations").String(),
		Engine:         engine, PollEvery: *poll, MaxStale: *maxStale, Logger: log,
	}
	if err := source.Sync(ctx); err != nil {
		log.Warn("control plane not reachable yet; failing closed until it is", "err", err)
	}
	go source.Run(ctx)

	var app http.Handler = demoapp.Handler()
	if *upstream != "" {
		u, err := url.Parse(*upstream)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("--upstream %q is not an absolute URL", *upstream)
		}
		app = httputil.NewSingleHostReverseProxy(u)
	}
	toControlPlane := httputil.NewSingleHostReverseProxy(cpURL)
	mux := http.NewServeMux()
	mux.Handle("/auth/", toControlPlane)
	mux.Handle("/.well-known/", toControlPlane)
	mux.Handle("/", &edge.Gate{Engine: engine, Source: source, Upstream: app, Logger: log})

	srv := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	log.Info("edge listening", "addr", *listen, "engine", *engineName, "control_plane", *controlPlane)
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// loadGateConfig reads the verifier configuration, or builds the one that matches a
// control plane started by `make run` behind this edge (development cookies).
func loadGateConfig(path, origin string) ([]byte, error) {
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		return b, nil
	}
	return json.Marshal(verifier.Config{
		Issuer: origin, Audience: origin, Algorithms: []string{"EdDSA", "ES256", "RS256"}, LeewaySeconds: 30,
		AccessCookie:  verifier.Cookie{Name: "edgeauth_at", Path: "/", HTTPOnly: true, SameSite: "Lax"},
		RefreshCookie: verifier.Cookie{Name: "edgeauth_rt", Path: "/auth", HTTPOnly: true, SameSite: "Lax"},
		LoginPath:     "/login", RefreshPath: "/auth/refresh", AfterLoginPath: "/app/",
		PublicPaths:  []string{"/", "/auth/", "/.well-known/"},
		Protected:    []verifier.ProtectedRoute{{Prefix: "/app/"}, {Prefix: "/admin/", Roles: []string{"admin"}}},
		CacheEntries: 1024,
	})
}

// Package app assembles the control plane from a validated configuration: the
// PostgreSQL pool, the signing-key manager, the identity service, the revocation list
// and the HTTP handler. cmd/edgeauth and the end-to-end tests both start it here, so
// tests exercise exactly what the binary runs.
package app

import (
	"cmp"
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/auth"
	"github.com/edgeauth/edgeauth/controlplane/breached"
	"github.com/edgeauth/edgeauth/controlplane/config"
	"github.com/edgeauth/edgeauth/controlplane/httpapi"
	"github.com/edgeauth/edgeauth/controlplane/metrics"
	"github.com/edgeauth/edgeauth/controlplane/revocation"
	"github.com/edgeauth/edgeauth/controlplane/store"
	"github.com/edgeauth/edgeauth/keys"
	"github.com/jackc/pgx/v5/pgxpool"
)

// App is a running control plane (minus the listener).
type App struct {
	Config      config.Config
	Pool        *pgxpool.Pool
	Keys        *keys.Manager
	Auth        *auth.Service
	Revocations *revocation.List
	Metrics     *metrics.Metrics
	Handler     *httpapi.Server

	log         *slog.Logger
	cancel      context.CancelFunc
	wg          sync.WaitGroup
	ownPool     bool
	resealEvery time.Duration // while keys.previous_keks is set; 0: never
}

// Options are the optional parts of New.
type Options struct {
	Logger *slog.Logger
	// Now is the clock of every component (tests); time.Now when nil.
	Now func() time.Time
	// Pool is used instead of opening one from cfg.DatabaseURL (and is not closed).
	Pool *pgxpool.Pool
	// RevocationListBytes bounds the session ids the revocation list names (tests:
	// revocation.Config.MaxListedBytes); its default when 0.
	RevocationListBytes int
	// ResealEvery is how often second-factor secrets are sealed again under keys.kek
	// while keys.previous_keks is set (tests); ResealEvery when 0.
	ResealEvery time.Duration
}

// BreachChecker is the breached-password check cfg describes (passwords.*), or nil
// when it asks for none.
func BreachChecker(cfg *config.Config) (auth.BreachChecker, error) {
	if cfg.Passwords.BreachCheckURL == "" {
		return nil, nil
	}
	return breached.New(cfg.Passwords.BreachCheckURL, cfg.Passwords.BreachCheckTimeout)
}

// KeysConfig is the keys.Manager configuration that cfg describes.
func KeysConfig(cfg *config.Config) (keys.Config, error) {
	kek, err := cfg.KEKBytes()
	if err != nil {
		return keys.Config{}, err
	}
	previous, err := cfg.PreviousKEKBytes()
	if err != nil {
		return keys.Config{}, err
	}
	return keys.Config{
		Algorithm:        cfg.Keys.Algorithm,
		KEK:              kek,
		PreviousKEKs:     previous,
		Issuer:           cfg.Issuer,
		RotateEvery:      cfg.Keys.RotateEvery,
		PrePublish:       cfg.Keys.PrePublish,
		RetireAfter:      cfg.Keys.RetireAfter,
		MaxTokenLifetime: cfg.MaxTokenLifetime(),
		JWKSMaxAge:       cfg.Keys.JWKSMaxAge,
		ReloadEvery:      config.KeyReloadEvery,
	}, nil
}

// AuthConfig is the auth.Service configuration that cfg describes. The refresh tokens'
// tag key is derived from keys.kek (HKDF-SHA256), so it is as secret as the KEK, kept
// out of the database like it, and the same on every replica.
func AuthConfig(cfg *config.Config, log *slog.Logger, now func() time.Time) (auth.Config, error) {
	kek, err := cfg.KEKBytes()
	if err != nil {
		return auth.Config{}, err
	}
	tagKey, err := refreshTagKey(kek)
	if err != nil {
		return auth.Config{}, err
	}
	// The previous KEKs' tag keys keep the tokens issued before a KEK rotation
	// recognisable, so that their reuse still revokes the session.
	previousKEKs, err := cfg.PreviousKEKBytes()
	if err != nil {
		return auth.Config{}, err
	}
	var previousTagKeys, previousSecretKeys [][]byte
	for _, k := range previousKEKs {
		t, err := refreshTagKey(k)
		if err != nil {
			return auth.Config{}, err
		}
		previousTagKeys = append(previousTagKeys, t)
		sk, err := secretKey(k)
		if err != nil {
			return auth.Config{}, err
		}
		previousSecretKeys = append(previousSecretKeys, sk)
	}
	sealing, err := secretKey(kek)
	if err != nil {
		return auth.Config{}, err
	}
	grace := cfg.Sessions.RefreshGrace
	if grace == 0 { // sessions.refresh_grace: 0 asks for none; auth.Config's zero is its default
		grace = auth.NoRefreshGrace
	}
	checker, err := BreachChecker(cfg)
	if err != nil {
		return auth.Config{}, err
	}
	return auth.Config{
		Breached:                checker,
		SecondFactorRequiredFor: cfg.SecondFactor.RequiredFor,
		RefreshTagKey:           tagKey,
		PreviousRefreshTagKeys:  previousTagKeys,
		SecretKey:               sealing,
		PreviousSecretKeys:      previousSecretKeys,
		Issuer:                  cfg.Issuer,
		Audience:                cfg.Audience,
		SiteNames:               []string{cfg.PublicURL},
		AccessTTL:               cfg.Sessions.AccessTTL,
		Leeway:                  config.Leeway,
		IdleTTL:                 cfg.Sessions.IdleTimeout,
		AbsoluteTTL:             cfg.Sessions.AbsoluteLifetime,
		RefreshGrace:            grace,
		RecentLogin:             cfg.Sessions.RecentLogin,
		Throttle: auth.Throttle{
			PairFailures:    cfg.Throttle.AccountAddressFailures,
			ClientFailures:  cfg.Throttle.AddressFailures,
			Window:          cfg.Throttle.Window,
			AccountFailures: cfg.Throttle.AccountFailures,
			AccountWindow:   cfg.Throttle.AccountWindow,
		},
		Now:    now,
		Logger: log,
	}, nil
}

// New connects, loads (or creates) the signing keys, builds the first revocation list
// and the handler. The database must already be migrated (see migrations.Apply).
// Start runs the background loops; Close stops them.
func New(ctx context.Context, cfg config.Config, o Options) (*App, error) {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	a := &App{Config: cfg, Pool: o.Pool, log: log}
	if a.Pool == nil {
		pc, err := cfg.PoolConfig()
		if err != nil {
			return nil, errors.Join(errors.New("app: database"), err)
		}
		pool, err := pgxpool.NewWithConfig(ctx, pc)
		if err != nil {
			return nil, errors.Join(errors.New("app: database"), err)
		}
		a.Pool, a.ownPool = pool, true
	}
	fail := func(err error) (*App, error) {
		if o.Pool == nil {
			a.Pool.Close()
		}
		return nil, err
	}
	kc, err := KeysConfig(&cfg)
	if err != nil {
		return fail(err)
	}
	if o.Now != nil {
		kc.Now = o.Now
	}
	kc.Logger = log.With("component", "keys")
	if a.Keys, err = keys.NewManager(ctx, a.Pool, kc); err != nil {
		return fail(err)
	}
	st := store.New(a.Pool)
	ac, err := AuthConfig(&cfg, log.With("component", "auth"), o.Now)
	if err != nil {
		return fail(err)
	}
	if a.Auth, err = auth.New(st, a.Keys, ac); err != nil {
		return fail(err)
	}
	if len(ac.PreviousSecretKeys) > 0 {
		// A KEK rotation: second-factor secrets sealed under a previous KEK are sealed
		// again now, and while Start runs (replicas of the rotation's previous step may
		// still seal under the old KEK), so that the old KEK can be dropped (README,
		// "Rotating the KEK").
		a.reseal(ctx)
		a.resealEvery = cmp.Or(o.ResealEvery, ResealEvery)
	}
	a.Revocations, err = revocation.New(ctx, a.Pool, a.Keys, revocation.Config{
		Issuer:         cfg.Issuer,
		Window:         cfg.Sessions.AccessTTL + config.Leeway,
		CacheTTL:       cfg.Revocations.Lifetime,
		MaxListedBytes: o.RevocationListBytes,
		Now:            o.Now,
		Logger:         log.With("component", "revocation"),
	})
	if err != nil {
		return fail(err)
	}
	if cfg.Metrics {
		a.Metrics = metrics.New()
		a.Metrics.RefreshGroups(st.RefreshGroupStats)
		a.Metrics.RevocationList(a.Revocations.Stats)
	}
	a.Handler, err = httpapi.New(httpapi.Deps{
		Auth: a.Auth, Keys: a.Keys, Revocations: a.Revocations, Database: st,
		Metrics: a.Metrics, Logger: log.With("component", "http"), Now: o.Now,
	}, cfg)
	if err != nil {
		return fail(err)
	}
	return a, nil
}

// PruneEvery is how often ended sessions and old failed-login records are deleted;
// PruneKeep is how long an ended session is kept first (longer than the revocation
// list's window, so a revoked session stays listed until its tokens have expired).
const (
	PruneEvery = time.Hour
	PruneKeep  = 24 * time.Hour
)

// ResealEvery is how often, while keys.previous_keks is set, second-factor secrets
// sealed under a previous KEK are sealed again under keys.kek (as the key lifecycle
// re-seals signing keys, every half key reload interval).
const ResealEvery = config.KeyReloadEvery / 2

// Start runs the key lifecycle, the revocation list's listener, the pruning of ended
// sessions and, during a KEK rotation, the re-sealing of second-factor secrets until
// Close (or until ctx ends; Run passes a context that does not, so that they outlive
// the drain).
func (a *App) Start(ctx context.Context) {
	ctx, a.cancel = context.WithCancel(ctx)
	a.wg.Add(3)
	go func() { defer a.wg.Done(); a.Keys.Run(ctx) }()
	go func() { defer a.wg.Done(); a.Revocations.Run(ctx) }()
	go func() { defer a.wg.Done(); every(ctx, PruneEvery, a.prune) }()
	if a.resealEvery > 0 {
		a.wg.Add(1)
		go func() { defer a.wg.Done(); every(ctx, a.resealEvery, a.reseal) }()
	}
}

// every runs f every d until ctx ends.
func every(ctx context.Context, d time.Duration, f func(context.Context)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f(ctx)
		}
	}
}

// reseal seals again under keys.kek the second-factor secrets sealed under a previous
// KEK, and logs what it did.
func (a *App) reseal(ctx context.Context) {
	n, err := a.Auth.ResealSecrets(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		a.log.Error("second-factor secrets not all sealed again under keys.kek", "err", err, "resealed", n)
	case n > 0:
		a.log.Info("second-factor secrets sealed again under keys.kek", "accounts", n)
	}
}

// prune deletes the sessions that ended more than PruneKeep ago, and logs what it did.
func (a *App) prune(ctx context.Context) {
	n, err := a.Auth.Prune(ctx, PruneKeep)
	switch {
	case err != nil && ctx.Err() == nil:
		a.log.Warn("pruning ended sessions failed", "err", err)
	case n > 0:
		a.log.Info("pruned ended sessions", "sessions", n)
	}
}

// ShutdownTimeout bounds how long Run waits for requests in flight once its context
// ends.
const ShutdownTimeout = 15 * time.Second

// Server is one HTTP server and the listener it serves on.
type Server struct {
	HTTP     *http.Server
	Listener net.Listener
}

// Run starts the background loops (Start), serves every server until ctx ends or one
// of them fails, then shuts them all down at once: each stops accepting, revocation streams are
// told to end (their clients resume on another replica), and requests in flight get
// up to ShutdownTimeout to finish. The loops outlive ctx: they run through the drain,
// so the revocation list keeps hearing revocations and being rebuilt (and the keys
// being reloaded) while the last requests are answered with them, and stop (Close)
// only once the servers have shut down. It returns the first server error, nil after
// a clean shutdown.
func (a *App) Run(ctx context.Context, servers ...Server) error {
	a.Start(context.WithoutCancel(ctx))
	defer a.Close()
	errc := make(chan error, len(servers))
	for _, s := range servers {
		s.HTTP.RegisterOnShutdown(a.Revocations.EndStreams)
		go func() { errc <- s.HTTP.Serve(s.Listener) }()
	}
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
		a.log.Info("shutting down")
	}
	// All at once: one after the other, a later server would go on accepting (an
	// operations listener answering /readyz as ready) while an earlier one drains, and
	// get none of ShutdownTimeout for its own requests once that one had used it up.
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	errs := make([]error, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Go(func() { errs[i] = s.HTTP.Shutdown(sctx) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && serveErr == nil {
			serveErr = err
		}
	}
	return serveErr
}

// Close stops the background loops and closes the pool it opened.
func (a *App) Close() {
	if a.cancel != nil {
		a.cancel()
	}
	a.wg.Wait()
	if a.ownPool {
		a.Pool.Close()
	}
}

// refreshTagKey derives the refresh tokens' tag key from a KEK.
func refreshTagKey(kek []byte) ([]byte, error) {
	return hkdf.Key(sha256.New, kek, nil, "edgeauth refresh token tags v1", 32)
}

// secretKey derives auth.Config.SecretKey, which seals TOTP secrets, from a KEK.
func secretKey(kek []byte) ([]byte, error) {
	return hkdf.Key(sha256.New, kek, nil, "edgeauth totp secrets v1", 32)
}

// Package edge is a Go edge gate: an http.Handler that decides every request with a
// verifier.Engine (normally verifier.wasm in wazero) and keeps the engine's keys and
// revocation list current from the control plane. hostdemo's main wires it to flags;
// tests drive it against a real control plane.
package edge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/edgeauth/edgeauth/verifier"
)

// Source keeps an Engine's JWKS and revocation list current by polling the control
// plane (with ETags), refetches the JWKS early when a token names an unknown key (at
// most once per RefetchCooldown, so a flood of forged kids cannot hammer the control
// plane), and reports itself stale when nothing good has been fetched for MaxStale:
// the gate then fails closed rather than trusting keys or revocations of unknown age.
type Source struct {
	JWKSURL        string
	RevocationsURL string
	Engine         verifier.Engine
	Client         *http.Client
	// PollEvery is the polling interval (default 15 s). Logout reaches this edge
	// within about PollEvery.
	PollEvery time.Duration
	// RefetchCooldown spaces unknown-kid refetches (default 10 s).
	RefetchCooldown time.Duration
	// MaxStale is how long the last good keys and list are used while the control
	// plane cannot be reached (default 10 min).
	MaxStale time.Duration
	Now      func() time.Time
	Logger   *slog.Logger

	mu          sync.Mutex
	jwksETag    string
	revETag     string
	keysAt      time.Time // last time the JWKS was confirmed current
	revAt       time.Time // same for the revocation list
	lastRefetch time.Time
}

// maxDocument bounds what is read from the control plane.
const maxDocument = 1 << 20

func (s *Source) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Source) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Sync fetches the JWKS, then the revocation list (which is checked against those
// keys). It returns the first error; what succeeded stays applied.
func (s *Source) Sync(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.syncLocked(ctx)
}

func (s *Source) syncLocked(ctx context.Context) error {
	changed, err := s.fetch(ctx, s.JWKSURL, &s.jwksETag, func(b []byte) error { return s.Engine.LoadKeys(b) })
	if err != nil {
		return fmt.Errorf("edge: keys: %w", err)
	}
	s.keysAt = s.now()
	if changed {
		// New keys may be what the current list is signed with: load it again.
		s.revETag = ""
	}
	if _, err := s.fetch(ctx, s.RevocationsURL, &s.revETag, func(b []byte) error {
		return s.Engine.LoadRevocations(b, s.now().Unix())
	}); err != nil {
		return fmt.Errorf("edge: revocations: %w", err)
	}
	s.revAt = s.now()
	return nil
}

// fetch GETs url with If-None-Match and hands a changed body to load. It reports
// whether the document changed.
func (s *Source) fetch(ctx context.Context, url string, etag *string, load func([]byte) error) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err
	}
	if *etag != "" {
		req.Header.Set("If-None-Match", *etag)
	}
	client := s.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotModified:
		return false, nil
	case http.StatusOK:
	default:
		return false, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
	if err != nil {
		return false, err
	}
	if len(body) > maxDocument {
		return false, fmt.Errorf("GET %s: document larger than %d bytes", url, maxDocument)
	}
	if err := load(body); err != nil {
		return false, err
	}
	*etag = resp.Header.Get("ETag")
	return true, nil
}

// UnknownKey is called when a token names a key the engine does not have. It
// refetches the JWKS unless one was fetched within RefetchCooldown, and reports
// whether the keys were reloaded (so the request is worth deciding again).
func (s *Source) UnknownKey(ctx context.Context) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if now.Sub(s.lastRefetch) < orDefault(s.RefetchCooldown, 10*time.Second) {
		return false
	}
	s.lastRefetch = now
	before := s.jwksETag
	if err := s.syncLocked(ctx); err != nil {
		s.log().Warn("unknown-kid refetch failed", "err", err)
		return false
	}
	return s.jwksETag != before
}

// Fresh reports whether both documents were confirmed within MaxStale.
func (s *Source) Fresh() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	limit := orDefault(s.MaxStale, 10*time.Minute)
	now := s.now()
	return !s.keysAt.IsZero() && !s.revAt.IsZero() && now.Sub(s.keysAt) <= limit && now.Sub(s.revAt) <= limit
}

// Run polls until ctx ends. Failures are logged; the gate's Fresh check turns a long
// outage into fail-closed answers.
func (s *Source) Run(ctx context.Context) {
	t := time.NewTicker(orDefault(s.PollEvery, 15*time.Second))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Sync(ctx); err != nil && !errors.Is(err, context.Canceled) {
				s.log().Warn("control plane poll failed; using the last good keys", "err", err, "fresh", s.Fresh())
			}
		}
	}
}

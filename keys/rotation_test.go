package keys

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// rotationSim is a simulated deployment: replicas that sign continuously and reload
// every ReloadEvery at different moments, and edges that refresh their JWKS copy
// every JWKSMaxAge at different moments and verify every token twice: when it is
// issued and in the last step it is still valid (exp + leeway).
type rotationSim struct {
	t        *testing.T
	clock    *clock
	cfg      Config
	replicas []*Manager
	edges    []*simEdge
	step     time.Duration
	ttl      time.Duration
	leeway   time.Duration

	live     []simToken
	signed   int
	verified int
	failures int      // verifications that failed
	unknown  int      // of which: the edge did not have the token's kid
	first    []string // the first few failures
}

type simEdge struct {
	phase     time.Duration
	replica   int
	keys      map[string]publicKey
	fetchedAt time.Time
}

type simToken struct {
	token   string
	lastUse time.Time // the last second a verifier accepts it: exp + leeway - 1s
}

func newRotationSim(t *testing.T) *rotationSim {
	ctx := context.Background()
	c := newClock()
	pool := newPool(t)
	cfg := testConfig(t, c) // JWKSMaxAge 5m, ReloadEvery 1m, PrePublish 10m, RotateEvery 1h, RetireAfter 15m
	s := &rotationSim{t: t, clock: c, cfg: cfg, step: 10 * time.Second, ttl: 10 * time.Minute, leeway: time.Minute}
	if cfg.MaxTokenLifetime < s.ttl+s.leeway {
		t.Fatal("test config: MaxTokenLifetime below TTL + leeway")
	}
	for range 2 {
		p, err := pgxpool.New(ctx, pool.Config().ConnString())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		s.replicas = append(s.replicas, newManager(t, p, cfg))
	}
	for i := range 5 {
		e := &simEdge{phase: time.Duration(i) * 70 * time.Second, replica: i % 2}
		e.keys = publicKeys(t, must(s.replicas[e.replica].JWKS()))
		e.fetchedAt = c.Now()
		s.edges = append(s.edges, e)
	}
	return s
}

// run simulates d of traffic. rotate, if set, is called at each step and may force a
// rotation on replica 0.
func (s *rotationSim) run(d time.Duration, rotate func(at time.Duration, m *Manager)) {
	ctx := context.Background()
	for elapsed := s.step; elapsed <= d; elapsed += s.step {
		s.clock.Add(s.step)
		now := s.clock.Now()
		if rotate != nil {
			rotate(elapsed, s.replicas[0])
		}
		// Replica i reloads (and advances the lifecycle) at second 30*i of each ReloadEvery.
		for i, m := range s.replicas {
			if (elapsed-time.Duration(i)*30*time.Second)%s.cfg.ReloadEvery == 0 {
				if err := m.Advance(ctx); err != nil {
					s.t.Fatal(err)
				}
			}
		}
		// Edges refresh when their copy is JWKSMaxAge old.
		for _, e := range s.edges {
			if now.Sub(e.fetchedAt) >= s.cfg.JWKSMaxAge || (elapsed == e.phase && e.phase > 0) {
				e.keys = publicKeys(s.t, must(s.replicas[e.replica].JWKS()))
				e.fetchedAt = now
			}
		}
		// Every replica issues a token, verified at once by every edge.
		for _, m := range s.replicas {
			tok, err := m.Sign(ctx, claims(now, s.ttl), "at+jwt")
			if err != nil {
				s.t.Fatal(err)
			}
			s.signed++
			s.verifyAll(tok, now, "fresh")
			s.live = append(s.live, simToken{tok, now.Add(s.ttl + s.leeway - time.Second)})
		}
		// Tokens in their last valid step are verified once more.
		keep := s.live[:0]
		for _, lt := range s.live {
			if !lt.lastUse.After(now.Add(s.step)) {
				s.verifyAll(lt.token, lt.lastUse, "at expiry")
				continue
			}
			keep = append(keep, lt)
		}
		s.live = keep
	}
}

func (s *rotationSim) verifyAll(tok string, at time.Time, when string) {
	for i, e := range s.edges {
		s.verified++
		if err := verifyLeeway(tok, e.keys, at, s.leeway); err != nil {
			s.failures++
			if errors.Is(err, errUnknownKID) {
				s.unknown++
			}
			if len(s.first) < 5 {
				s.first = append(s.first, fmt.Sprintf("%s edge %d (%s): %v", s.clock.Now().Format("15:04:05"), i, when, err))
			}
		}
	}
}

var errUnknownKID = errors.New("kid not in the edge's JWKS")

func verifyLeeway(token string, keys map[string]publicKey, now time.Time, leeway time.Duration) error {
	_, err := jwt.Parse(token, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		k, ok := keys[kid]
		if !ok {
			return nil, errUnknownKID
		}
		return k.key, nil
	}, jwt.WithValidMethods([]string{AlgEdDSA}), jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithLeeway(leeway), jwt.WithExpirationRequired())
	return err
}

// TestRotationWhileSigningAndVerifying: over five simulated hours with automatic
// rotations every hour and operator-forced (non-immediate) rotations, two replicas
// sign continuously and five edges verify every token when issued and at its last
// valid moment: no verification fails.
func TestRotationWhileSigningAndVerifying(t *testing.T) {
	t.Parallel()
	s := newRotationSim(t)
	s.run(5*time.Hour, func(at time.Duration, m *Manager) {
		if at == 95*time.Minute || at == 200*time.Minute+20*time.Second {
			if _, err := m.Rotate(context.Background(), RotateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	})
	all, err := s.replicas[0].List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	activated := 0
	for _, k := range all {
		if !k.ActivatedAt.IsZero() {
			activated++
		}
	}
	t.Logf("%d keys activated, %d tokens signed, %d verifications, %d failures", activated, s.signed, s.verified, s.failures)
	if activated < 6 {
		t.Fatalf("only %d keys activated in 5 hours; the simulation did not rotate", activated)
	}
	if s.failures != 0 {
		t.Fatalf("%d verification failures, first: %q", s.failures, s.first)
	}
}

// TestRotationSimDetectsUnsafeRotation shows the simulation above can fail: rotations
// that skip pre-publication, or remove keys too early, make edges refuse tokens.
func TestRotationSimDetectsUnsafeRotation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		setup func(s *rotationSim)
		force func(at time.Duration, m *Manager)
	}{
		{name: "immediate rotations", force: func(at time.Duration, m *Manager) {
			if at%(40*time.Minute) == 0 {
				if _, err := m.Rotate(context.Background(), RotateOptions{Immediate: true}); err != nil {
					panic(err)
				}
			}
		}},
		{name: "pre-publication shorter than the JWKS cache time", setup: func(s *rotationSim) {
			for _, m := range s.replicas {
				m.cfg.PrePublish = 2 * time.Minute
				m.cfg.JWKSMaxAge = 0 // keeps MaxStale positive; the edges use the simulation's own 5m
			}
		}},
		{name: "retired keys removed before their tokens expire", setup: func(s *rotationSim) {
			for _, m := range s.replicas {
				m.cfg.RetireAfter = 4 * time.Minute
				m.cfg.MaxTokenLifetime = 0 // keeps MaxStale positive; tokens still live 11m
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newRotationSim(t)
			if tc.setup != nil {
				tc.setup(s)
			}
			s.run(2*time.Hour, tc.force)
			if s.unknown == 0 || s.unknown != s.failures {
				t.Fatalf("%d verifications: %d failures, %d for an unknown kid; want only unknown-kid failures (first: %q)", s.verified, s.failures, s.unknown, s.first)
			}
			t.Logf("%d of %d verifications failed (unknown kid), first: %s", s.failures, s.verified, s.first[0])
		})
	}
}

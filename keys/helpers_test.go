package keys

import (
	"context"
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/pgtest"
	"github.com/edgeauth/edgeauth/migrations"
	"github.com/jackc/pgx/v5/pgxpool"
)

// newPool returns a pool on a fresh, migrated database.
func newPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := migrations.Apply(ctx, pool); err != nil {
		t.Fatal(err)
	}
	return pool
}

// clock is a settable time source shared by Managers in a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newKEK(t testing.TB) []byte {
	k := make([]byte, KEKSize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// testConfig is a valid configuration with short, round durations.
func testConfig(t testing.TB, c *clock) Config {
	return Config{
		Algorithm:        AlgEdDSA,
		KEK:              newKEK(t),
		Issuer:           "https://auth.example.test",
		JWKSMaxAge:       5 * time.Minute,
		ReloadEvery:      time.Minute,
		PrePublish:       10 * time.Minute,
		RotateEvery:      time.Hour,
		MaxTokenLifetime: 11 * time.Minute,
		RetireAfter:      15 * time.Minute,
		Now:              c.Now,
	}
}

func newManager(t testing.TB, pool *pgxpool.Pool, cfg Config) *Manager {
	t.Helper()
	m, err := NewManager(context.Background(), pool, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

package keys

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// TestReplicasStartTogether: several replicas starting on an empty database create
// exactly one first key and all sign with it.
func TestReplicasStartTogether(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newPool(t)
	cfg := testConfig(t, newClock())
	const n = 4
	ms := make([]*Manager, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			// Each replica has its own pool, as separate processes would.
			p, err := pgxpool.New(ctx, pool.Config().ConnString())
			if err != nil {
				errs[i] = err
				return
			}
			t.Cleanup(p.Close)
			ms[i], errs[i] = NewManager(ctx, p, cfg)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
	}
	got := states(t, ms[0])
	if len(got[StateActive]) != 1 || len(got[StatePending]) != 0 {
		t.Fatalf("keys after a concurrent start: %v, want exactly one active", got)
	}
	for i, m := range ms {
		if a, _ := m.Active(); a.KID != got[StateActive][0] {
			t.Errorf("replica %d signs with %s, want %s", i, a.KID, got[StateActive][0])
		}
	}
}

// TestReplicasRotateConcurrently: two replicas (three goroutines each) advance the
// lifecycle, and now and then force a rotation, at the same moments over 5 simulated
// hours. At every step there is exactly one active key and at most one pending key,
// both replicas sign with it, and at the end the key history (states and times) is
// exactly what a single replica doing the same steps alone produces.
func TestReplicasRotateConcurrently(t *testing.T) {
	t.Parallel()
	concurrent := rotationHistory(t, 2, 3)
	alone := rotationHistory(t, 1, 1)
	if len(concurrent) != len(alone) {
		t.Fatalf("%d keys with concurrent replicas, %d with one replica", len(concurrent), len(alone))
	}
	for i := range alone {
		a, b := alone[i], concurrent[i]
		a.KID, b.KID = "", ""
		if a != b {
			t.Errorf("key %d: concurrent %+v, alone %+v", i, b, a)
		}
	}
	if len(alone) < 7 {
		t.Errorf("only %d keys in 5 hours: the schedule did not rotate", len(alone))
	}
}

// rotationHistory runs the schedule of TestReplicasRotateConcurrently with n replicas
// of g goroutines each and returns the keys made.
func rotationHistory(t *testing.T, n, g int) []KeyInfo {
	ctx := context.Background()
	c := newClock()
	pool := newPool(t)
	cfg := testConfig(t, c)
	var replicas []*Manager
	for range n {
		p, err := pgxpool.New(ctx, pool.Config().ConnString())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		replicas = append(replicas, newManager(t, p, cfg))
	}
	for step := 1; step <= 300; step++ { // one simulated minute each
		c.Add(time.Minute)
		rotate := step%97 == 0 // an operator forces a rotation, on every replica at once
		var wg sync.WaitGroup
		errs := make(chan error, n*g)
		for _, m := range replicas {
			for range g {
				wg.Go(func() {
					var err error
					if rotate {
						_, err = m.Rotate(ctx, RotateOptions{})
					} else {
						err = m.Advance(ctx)
					}
					errs <- err
				})
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
		}
		got := states(t, replicas[0])
		if len(got[StateActive]) != 1 || len(got[StatePending]) > 1 {
			t.Fatalf("step %d: %v, want one active and at most one pending key", step, got)
		}
		for i, m := range replicas {
			if a, _ := m.Active(); a.KID != got[StateActive][0] {
				t.Fatalf("step %d: replica %d signs with %s, database says %s", step, i, a.KID, got[StateActive][0])
			}
		}
	}
	all, err := replicas[0].List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// TestSchemaForbidsTwoActiveKeys: the database itself refuses a second active key and
// a retired or removed key that keeps its private part, whatever code writes to it.
func TestSchemaForbidsTwoActiveKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newManager(t, newPool(t), testConfig(t, newClock()))
	for _, tc := range []struct{ name, sql string }{
		{"second active key", `INSERT INTO signing_keys (kid, alg, state, public_key, private_key, created_at, activate_at, activated_at)
			SELECT kid || 'x', alg, 'active', public_key, private_key, created_at, activate_at, activated_at FROM signing_keys`},
		{"retired with private key", `UPDATE signing_keys SET state = 'retired', retired_at = created_at, remove_at = created_at`},
		{"removed with private key", `UPDATE signing_keys SET state = 'removed'`},
		{"active without private key", `UPDATE signing_keys SET private_key = NULL`},
		{"unknown algorithm", `UPDATE signing_keys SET alg = 'HS256'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := m.pool.Exec(ctx, tc.sql); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

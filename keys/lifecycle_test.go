package keys

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestLifecycle walks one key through pending -> active -> retired -> removed with the
// injected clock (testConfig: RotateEvery 1h, PrePublish 10m, RetireAfter 15m).
func TestLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	t0 := c.Now()
	pool := newPool(t)
	m := newManager(t, pool, testConfig(t, c))

	first, ok := m.Active()
	if !ok || first.State != StateActive || !first.ActivatedAt.Equal(t0) {
		t.Fatalf("first key = %+v, %v; want active since %v", first, ok, t0)
	}
	published := func() []string {
		var kids []string
		for kid := range publicKeys(t, must(m.JWKS())) {
			kids = append(kids, kid)
		}
		slices.Sort(kids)
		return kids
	}
	sorted := func(k ...string) []string { slices.Sort(k); return k }
	step := func(d time.Duration) {
		t.Helper()
		c.Add(d)
		if err := m.Advance(ctx); err != nil {
			t.Fatal(err)
		}
	}

	// Nothing happens before RotateEvery - PrePublish.
	step(49 * time.Minute)
	if got := states(t, m); len(got[StatePending]) != 0 || len(got[StateActive]) != 1 {
		t.Fatalf("at 49m: %v, want only the first key active", got)
	}
	// At 50m the successor is published, due at 60m; the first key still signs.
	step(time.Minute)
	got := states(t, m)
	if len(got[StatePending]) != 1 {
		t.Fatalf("at 50m: %v, want one pending key", got)
	}
	second := got[StatePending][0]
	list, _ := m.List(ctx)
	if due := list[1].ActivateAt; !due.Equal(t0.Add(time.Hour)) {
		t.Errorf("successor due at %v, want %v", due, t0.Add(time.Hour))
	}
	if a, _ := m.Active(); a.KID != first.KID {
		t.Errorf("signing with %s before the successor is due, want %s", a.KID, first.KID)
	}
	if !slices.Equal(published(), sorted(first.KID, second)) {
		t.Errorf("JWKS %v, want pending and active keys", published())
	}
	// Advancing again changes nothing (no second successor).
	step(5 * time.Minute)
	if got := states(t, m); len(got[StatePending]) != 1 {
		t.Fatalf("at 55m: %v, want still one pending key", got)
	}
	// At 60m the successor signs; the first key is retired until 75m.
	step(5 * time.Minute)
	got = states(t, m)
	if !slices.Equal(got[StateActive], []string{second}) || !slices.Equal(got[StateRetired], []string{first.KID}) {
		t.Fatalf("at 60m: %v, want %s active and %s retired", got, second, first.KID)
	}
	if a, _ := m.Active(); a.KID != second {
		t.Errorf("signing with %s, want %s", a.KID, second)
	}
	list, _ = m.List(ctx)
	if r := list[0]; !r.RetiredAt.Equal(t0.Add(time.Hour)) || !r.RemoveAt.Equal(t0.Add(75*time.Minute)) {
		t.Errorf("retired key %+v, want retired at 60m and removed at 75m", r)
	}
	var erased bool
	if err := pool.QueryRow(ctx, `SELECT private_key IS NULL FROM signing_keys WHERE kid = $1`, first.KID).Scan(&erased); err != nil || !erased {
		t.Fatalf("retired key keeps its private key: erased=%v err=%v", erased, err)
	}
	if !slices.Equal(published(), sorted(first.KID, second)) {
		t.Errorf("JWKS %v, want retired and active keys", published())
	}
	// At 74m it is still published; at 75m it is removed.
	step(14 * time.Minute)
	if len(published()) != 2 {
		t.Fatalf("at 74m: JWKS %v, want both keys", published())
	}
	step(time.Minute)
	if !slices.Equal(published(), []string{second}) {
		t.Fatalf("at 75m: JWKS %v, want only %s", published(), second)
	}
	if err := pool.QueryRow(ctx, `SELECT state = 'removed' AND private_key IS NULL AND removed_at IS NOT NULL FROM signing_keys WHERE kid = $1`, first.KID).Scan(&erased); err != nil || !erased {
		t.Fatalf("removed key row: erased=%v err=%v", erased, err)
	}
	// The second key's successor comes RotateEvery after its activation.
	step(34 * time.Minute) // 109m
	if got := states(t, m); len(got[StatePending]) != 0 {
		t.Fatalf("at 109m: %v, want no pending key yet", got)
	}
	step(time.Minute) // 110m
	if got := states(t, m); len(got[StatePending]) != 1 {
		t.Fatalf("at 110m: %v, want the next successor", got)
	}
}

func TestRotate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	t0 := c.Now()
	base := testConfig(t, c)
	m := newManager(t, newPool(t), base)
	first, _ := m.Active()

	// A forced rotation publishes a pending key, due PrePublish later.
	c.Add(time.Minute)
	k, err := m.Rotate(ctx, RotateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if k.State != StatePending || !k.ActivateAt.Equal(t0.Add(11*time.Minute)) {
		t.Fatalf("Rotate() = %+v, want pending due at 11m", k)
	}
	if a, _ := m.Active(); a.KID != first.KID {
		t.Fatalf("Rotate() changed the signing key at once")
	}
	// Rotating again returns the same pending key instead of a second one.
	c.Add(time.Minute)
	again, err := m.Rotate(ctx, RotateOptions{})
	if err != nil || again.KID != k.KID || !again.ActivateAt.Equal(k.ActivateAt) {
		t.Fatalf("second Rotate() = %+v, %v; want %s unchanged", again, err, k.KID)
	}
	c.Add(9 * time.Minute) // 11m
	if err := m.Advance(ctx); err != nil {
		t.Fatal(err)
	}
	if a, _ := m.Active(); a.KID != k.KID {
		t.Fatalf("at 11m signing with %s, want %s", a.KID, k.KID)
	}

	// An immediate rotation signs with a new key at once and drops pending keys.
	c.Add(55 * time.Minute) // 66m: past RotateEvery-PrePublish since 11m, so a successor is pending
	if err := m.Advance(ctx); err != nil {
		t.Fatal(err)
	}
	pendingBefore := states(t, m)[StatePending]
	if len(pendingBefore) != 1 {
		t.Fatalf("want a scheduled successor before the immediate rotation, got %v", states(t, m))
	}
	now, err := m.Rotate(ctx, RotateOptions{Immediate: true})
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := m.Active(); now.State != StateActive || a.KID != now.KID {
		t.Fatalf("immediate Rotate() = %+v, signing with %s", now, a.KID)
	}
	got := states(t, m)
	if !slices.Equal(got[StateRetired], []string{k.KID}) || !slices.Contains(got[StateRemoved], pendingBefore[0]) || len(got[StatePending]) != 0 {
		t.Fatalf("after immediate rotation: %v", got)
	}
	if _, published := publicKeys(t, must(m.JWKS()))[pendingBefore[0]]; published {
		t.Errorf("dropped pending key still published")
	}

	// A scheduled successor due later than now+PrePublish is brought forward by Rotate.
	c.Add(50 * time.Minute)
	if err := m.Advance(ctx); err != nil {
		t.Fatal(err)
	}
	sched, _ := m.List(ctx)
	succ := sched[len(sched)-1]
	if succ.State != StatePending || !succ.ActivateAt.Equal(now.ActivatedAt.Add(time.Hour)) {
		t.Fatalf("scheduled successor %+v, want due RotateEvery after %v", succ, now.ActivatedAt)
	}
	// A replica configured with a shorter PrePublish pulls it forward.
	c.Add(time.Minute)
	cfg := base
	cfg.PrePublish = 7 * time.Minute
	got2, err := newManager(t, m.pool, cfg).Rotate(ctx, RotateOptions{})
	if err != nil || got2.KID != succ.KID {
		t.Fatalf("Rotate() = %+v, %v; want the scheduled successor", got2, err)
	}
	if want := c.Now().Add(7 * time.Minute); !got2.ActivateAt.Equal(want) {
		t.Errorf("successor due %v, want %v", got2.ActivateAt, want)
	}
}

func must(b []byte, _ string) []byte { return b }

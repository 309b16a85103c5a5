package keys

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"testing"
	"time"
)

// TestRun: the background loop advances the lifecycle on its own (here with a fast
// real ticker and the injected clock) and stops when its context ends.
func TestRun(t *testing.T) {
	t.Parallel()
	c := newClock()
	cfg := testConfig(t, c)
	cfg.ReloadEvery = 20 * time.Millisecond // the ticker is real time; the lifecycle uses the clock
	m := newManager(t, newPool(t), cfg)
	first, _ := m.Active()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	// Signing and serving the JWKS go on concurrently (run with -race). Right after
	// the clock jumps, the set is stale until Run's next tick: ErrStale is expected then.
	signed := make(chan error, 1)
	go func() {
		n := 0
		for ctx.Err() == nil {
			if _, err := m.Sign(ctx, claims(c.Now(), time.Minute), "at+jwt"); err != nil && !errors.Is(err, ErrStale) {
				signed <- err
				return
			}
			if body, _ := m.JWKS(); len(body) == 0 {
				signed <- errors.New("empty JWKS")
				return
			}
			n++
		}
		if n == 0 {
			signed <- errors.New("nothing signed")
			return
		}
		signed <- nil
	}()

	c.Add(50 * time.Minute) // successor due
	waitFor(t, func() bool { return len(publicKeys(t, must(m.JWKS()))) == 2 })
	c.Add(10 * time.Minute) // successor active
	waitFor(t, func() bool { a, _ := m.Active(); return a.KID != first.KID })

	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if err := <-signed; err != nil {
		t.Fatalf("concurrent Sign: %v", err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLogsCarryNoKeyMaterial: logs of a whole lifecycle, a forced immediate rotation
// and a failed start with the wrong KEK contain neither the KEK nor any private key.
func TestLogsCarryNoKeyMaterial(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newClock()
	pool := newPool(t)
	cfg := testConfig(t, c)
	cfg.Logger = log
	m, err := NewManager(ctx, pool, cfg)
	if err != nil {
		t.Fatal(err)
	}
	secrets := [][]byte{cfg.KEK}
	collect := func() { secrets = append(secrets, privateBytes(t, m)...) }
	collect()
	for range 3 {
		c.Add(30 * time.Minute)
		if err := m.Advance(ctx); err != nil {
			t.Fatal(err)
		}
		collect()
	}
	if _, err := m.Rotate(ctx, RotateOptions{Immediate: true}); err != nil {
		t.Fatal(err)
	}
	collect()
	wrong := cfg
	wrong.KEK = randomKEK(t)
	secrets = append(secrets, wrong.KEK)
	wrong.Logger = log
	if _, err := NewManager(ctx, pool, wrong); err == nil {
		t.Fatal("wrong KEK accepted")
	} else {
		log.Error("start failed", "err", err)
	}
	if logs.Len() == 0 {
		t.Fatal("nothing logged")
	}
	for _, s := range secrets {
		for _, enc := range []string{string(s), hex.EncodeToString(s), base64.StdEncoding.EncodeToString(s), b64.EncodeToString(s)} {
			if bytes.Contains(logs.Bytes(), []byte(enc)) {
				t.Fatalf("logs contain key material:\n%s", logs.String())
			}
		}
	}
}

// TestStaleReplicaStopsSigning: a replica whose reloads fail for longer than MaxStale
// refuses to sign (its tokens could outlive its key's publication) and reports it for
// readiness; one successful reload restores it.
func TestStaleReplicaStopsSigning(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	m := newManager(t, newPool(t), testConfig(t, c))
	if got, want := m.MaxStale(), 4*time.Minute; got != want { // min(10m-5m, 15m-11m)
		t.Fatalf("MaxStale = %s, want %s", got, want)
	}
	c.Add(4 * time.Minute)
	if _, err := m.Sign(ctx, claims(c.Now(), time.Minute), "at+jwt"); err != nil || m.CheckFresh() != nil {
		t.Fatalf("at the limit: Sign err %v, CheckFresh %v", err, m.CheckFresh())
	}
	c.Add(time.Second)
	if _, err := m.Sign(ctx, claims(c.Now(), time.Minute), "at+jwt"); !errors.Is(err, ErrStale) {
		t.Fatalf("past the limit: Sign err %v, want ErrStale", err)
	}
	if err := m.CheckFresh(); !errors.Is(err, ErrStale) {
		t.Fatalf("CheckFresh = %v, want ErrStale", err)
	}
	if err := m.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Sign(ctx, claims(c.Now(), time.Minute), "at+jwt"); err != nil {
		t.Fatalf("after Reload: %v", err)
	}
}

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

	"github.com/edgeauth/edgeauth/internal/syncbuf"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TestForeignKEKDoesNotFreezeReload: a misconfigured replica (a KEK the others do not
// have: step 2 of a KEK rotation deployed before step 1) re-seals the keys and seals a
// new pending key under its KEK. A correctly configured replica cannot open those
// rows, so its lifecycle step fails; it must still reload what it can read (the new
// key's public half for the JWKS, the active key it already holds), stay fresh and
// keep signing, and say why in its logs without key material. Once the foreign key is
// due to sign, which this replica cannot do, it stops reloading and turns stale (fails
// closed).
func TestForeignKEKDoesNotFreezeReload(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	pool := newPool(t)
	logs := &syncbuf.Buffer{}
	good := testConfig(t, c)
	good.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	a := newManager(t, pool, good)

	bad := testConfig(t, c) // another KEK, with the good one as "previous": it opens and re-seals everything
	bad.PreviousKEKs = [][]byte{good.KEK}
	bad.Logger = slog.New(slog.DiscardHandler)
	bp, err := pgxpool.New(ctx, pool.Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bp.Close)
	b := newManager(t, bp, bad)
	pending, err := b.Rotate(ctx, RotateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	// Later than MaxStale: only a reload since keeps a replica fresh.
	c.Add(a.MaxStale() - time.Second)
	err = a.Advance(ctx)
	if !errors.Is(err, ErrWrongKEK) {
		t.Errorf("Advance over keys sealed under a foreign KEK: %v, want ErrWrongKEK", err)
	}
	c.Add(2 * time.Second)
	if err := a.CheckFresh(); err != nil {
		t.Fatalf("the replica did not reload the keys it can read: %v", err)
	}
	if _, ok := publicKeys(t, mustJWKS(a))[pending.KID]; !ok {
		t.Fatalf("the new pending key %s is not in the replica's JWKS", pending.KID)
	}
	tok, err := a.Sign(ctx, claims(c.Now(), time.Minute), "at+jwt")
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if err := verify(tok, publicKeys(t, mustJWKS(b)), c.Now()); err != nil {
		t.Fatalf("token signed by the replica: %v", err)
	}
	if !bytes.Contains([]byte(logs.String()), []byte(pending.KID)) || !bytes.Contains([]byte(logs.String()), []byte("key-encryption key")) {
		t.Errorf("the logs do not say which key could not be opened, and why:\n%s", logs.String())
	}
	for _, s := range [][]byte{good.KEK, bad.KEK} {
		for _, enc := range []string{string(s), hex.EncodeToString(s), base64.StdEncoding.EncodeToString(s), b64.EncodeToString(s)} {
			if bytes.Contains([]byte(logs.String()), []byte(enc)) {
				t.Fatalf("logs contain a KEK:\n%s", logs.String())
			}
		}
	}

	// The foreign key signs from its activation on: this replica cannot, so it keeps
	// its last set, turns stale and stops signing rather than sign with a retired key.
	c.Add(good.PrePublish)
	if err := b.Advance(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Advance(ctx); !errors.Is(err, ErrWrongKEK) {
		t.Errorf("Advance with the active key sealed under a foreign KEK: %v, want ErrWrongKEK", err)
	}
	c.Add(a.MaxStale())
	if _, err := a.Sign(ctx, claims(c.Now(), time.Minute), "at+jwt"); !errors.Is(err, ErrStale) {
		t.Fatalf("Sign once the key it cannot open is active: %v, want ErrStale", err)
	}
}

func mustJWKS(m *Manager) []byte {
	body, _ := m.JWKS()
	return body
}

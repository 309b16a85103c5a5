package sessionauth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/verifier"
)

// Two replicas may build lists in the same second, one after a revocation committed
// and one before (or a cache holds the second one): a list of the same iat that omits
// a session the held list named may predate its revocation, and must not unrevoke it.
// Only a list issued well after the source learned of a revocation (beyond Leeway)
// drops a session it omits, as for pushed revocations.
func TestSameSecondListDoesNotUnrevoke(t *testing.T) {
	f := newFakeCP(t)
	clk := newClock()
	src, chk := newSource(t, f, clk, nil)
	ctx := context.Background()
	f.revoke("sess-x") // list A: iat T, names sess-x
	if err := src.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	tok := f.token("sess-x", clk.Now())
	if _, err := chk.Check(ctx, tok); !errors.Is(err, verifier.ErrRevoked) {
		t.Fatalf("after list A: %v, want ErrRevoked", err)
	}

	f.mu.Lock()
	f.sids = nil // list B: the same iat T, built before the revocation committed
	f.mu.Unlock()
	if err := src.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := chk.Check(ctx, tok); !errors.Is(err, verifier.ErrRevoked) {
		t.Fatalf("after a list of the same second that omits it: %v, want ErrRevoked", err)
	}

	// A list issued well after (beyond Leeway: the session aged out of the window)
	// drops it.
	clk.Advance(20 * time.Minute)
	f.mu.Lock()
	f.listIat = clk.Now().Unix()
	f.mu.Unlock()
	if err := src.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := src.Revoked("sess-x"); ok {
		t.Fatal("a list issued 20 min later that omits the session still leaves it revoked")
	}
}

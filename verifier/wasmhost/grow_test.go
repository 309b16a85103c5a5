package wasmhost

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/internal/gate/gatetest"
	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
)

// Cold RS256 decisions on the two-phase path, each with a large token so the module's
// heap (and linear memory) grows during the first phase: the compact request must still
// reach the module on the second call, as the native engine decides it.
func TestTwoPhaseDecideSurvivesMemoryGrowth(t *testing.T) {
	ctx := context.Background()
	h, err := NewEmbedded(ctx, Options{PoolSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(ctx)
	n := verifier.NewNative()
	defer n.Close(ctx)
	cfg := gatetest.Config()
	cfg.CacheEntries = 4096
	for _, e := range []verifier.Engine{h, n} {
		if err := e.Configure(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		if err := e.LoadKeys(ctx, vectors.JWKS()); err != nil {
			t.Fatal(err)
		}
	}
	start := h.MemorySize()
	for i := range 400 {
		roles := make([]string, 200)
		for j := range roles {
			roles[j] = fmt.Sprintf("role-%d-%d", i, j)
		}
		c := gatetest.Claims(map[string]any{"sub": fmt.Sprintf("user-%d", i), "roles": roles})
		tok := vectors.RS256Key().Token(c)
		req := verifier.Request{Method: "GET", Path: "/api/x", Cookies: []string{gatetest.AccessName + "=" + tok}}
		before := h.MemorySize()
		got, gerr := h.Decide(ctx, req, gatetest.Now)
		want, werr := n.Decide(ctx, req, gatetest.Now)
		if (gerr == nil) != (werr == nil) || !reflect.DeepEqual(got, want) {
			t.Fatalf("token %d (%d bytes, memory %d -> %d, started at %d): wasm %v %v, native %v %v",
				i, len(tok), before, h.MemorySize(), start, strings.TrimSpace(fmt.Sprint(got.Action, got.Reason)), gerr, want.Action, werr)
		}
	}
	t.Logf("memory %d -> %d", start, h.MemorySize())
}

package conformance

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/wasmhost"
)

// wasmOpts1 is a single-instance pool: every call lands on the same instance.
var wasmOpts1 = wasmhost.Options{PoolSize: 1}

// TestModuleMemoryStaysFlat makes one wasm instance decide 1,000,000 requests: mostly
// cache hits on one token, and every 100th a distinct token, so the bounded cache keeps
// evicting. With a leaking GC the linear memory would grow with every verification; it
// must stop growing after warm-up.
func TestModuleMemoryStaysFlat(t *testing.T) {
	const (
		total    = 1_000_000
		warmUp   = 100_000
		every    = 100 // one distinct token per this many decisions
		cacheCap = 64
	)
	s := signersFor(t)["EdDSA"]
	h := newWasm(t, wasmOpts1)
	setUp(t, h, testConfig(cacheCap, "EdDSA"), s)

	distinct := make([]string, 512) // > cacheCap: reused tokens are evicted by then
	for i := range distinct {
		distinct[i] = s.mint(t, claims(map[string]any{"jti": fmt.Sprint(i), "sub": fmt.Sprintf("user-%d", i)}))
	}
	hot := verifier.Request{Method: "GET", Path: "/app/home",
		Cookies: []string{accessCookie.Name + "=" + s.mint(t, claims(nil))}}
	cold := hot
	start := time.Now()
	var atWarmUp uint32
	for i := range total {
		req := hot
		if i%every == 0 {
			cold.Cookies = []string{accessCookie.Name + "=" + distinct[(i/every)%len(distinct)]}
			req = cold
		}
		d, err := h.Decide(context.Background(), req, testNow)
		if err != nil || d.Action != verifier.ActionAllow {
			t.Fatalf("decision %d: %+v %v", i, d, err)
		}
		if i+1 == warmUp {
			atWarmUp = h.MemorySize()
		}
	}
	final := h.MemorySize()
	elapsed := time.Since(start)
	t.Logf("linear memory: %d KiB after %d decisions, %d KiB after %d; %v (%.2f µs/decision)",
		atWarmUp>>10, warmUp, final>>10, total, elapsed.Round(time.Millisecond),
		float64(elapsed.Microseconds())/total)
	if atWarmUp == 0 || final != atWarmUp {
		t.Fatalf("linear memory grew after warm-up: %d -> %d bytes", atWarmUp, final)
	}
}

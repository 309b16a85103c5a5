package gate_test

import (
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/gate/gatetest"
	"github.com/edgeauth/edgeauth/verifier/internal/strictjson"
)

func hotRequest() []byte {
	return gatetest.MustJSON(verifier.Request{Method: "GET", Path: "/admin/users", Query: "page=2",
		Cookies: []string{"theme=dark; _ga=GA1.2.3", gatetest.AccessName + "=" + gatetest.Valid}})
}

// TestCacheHitAllocations checks that a cache-hit decision allocates nothing beyond
// parsing the request JSON (strictjson builds values): cookie lookup, path matching,
// the cache, the location and the output (appended to the caller's buffer) add none.
func TestCacheHitAllocations(t *testing.T) {
	g := newGate(t, nil)
	out := make([]byte, 0, 1024)
	for _, path := range []string{"/admin/users", "/login", "/dashboard"} {
		r := gatetest.MustJSON(verifier.Request{Path: path, Query: "page=2", Cookies: []string{"theme=dark; _ga=GA1.2.3", gatetest.AccessName + "=" + gatetest.Valid}})
		if path == "/dashboard" {
			r = gatetest.MustJSON(verifier.Request{Path: path, Query: "page=2"}) // redirect with return_to
		}
		parse := testing.AllocsPerRun(200, func() {
			if _, err := strictjson.Parse(r, strictjson.Limits{MaxBytes: 64 << 10, MaxDepth: 3}); err != nil {
				t.Fatal(err)
			}
		})
		g.Decide(r, gatetest.Now, out[:0])
		allocs := testing.AllocsPerRun(200, func() {
			var err error
			if out, err = g.Decide(r, gatetest.Now, out[:0]); err != nil {
				t.Fatal(err)
			}
		})
		t.Logf("%s: decision %.0f allocations, parsing alone %.0f", path, allocs, parse)
		if allocs > parse {
			t.Errorf("%s: decision allocates %.0f times, parsing alone %.0f", path, allocs, parse)
		}
	}
}

func BenchmarkDecideCacheHit(b *testing.B) {
	g := newGate(b, nil)
	req, out := hotRequest(), make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		out, _ = g.Decide(req, gatetest.Now, out[:0])
	}
}

func BenchmarkDecideColdEdDSA(b *testing.B) {
	g := newGate(b, func(c *verifier.Config) { c.CacheEntries = 0 })
	req, out := hotRequest(), make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		out, _ = g.Decide(req, gatetest.Now, out[:0])
	}
}

package gate_test

import (
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/internal/gate/gatetest"
)

func hotRequest() []byte {
	return gatetest.MustJSON(verifier.Request{Method: "GET", Path: "/admin/users", Query: "page=2",
		Cookies: []string{"theme=dark; _ga=GA1.2.3", gatetest.AccessName + "=" + gatetest.Valid}})
}

// TestCacheHitAllocations checks that a cache-hit decision allocates once (the copy
// of the request the reader takes substrings of): cookie lookup, path matching, the
// cache, the location and the output (appended to the caller's buffer) add nothing.
// Allocation is what costs most inside wasm (TinyGo's precise GC).
func TestCacheHitAllocations(t *testing.T) {
	g := newGate(t, nil)
	out := make([]byte, 0, 1024)
	for _, tc := range []struct {
		name string
		req  verifier.Request
	}{
		{"allow", verifier.Request{Path: "/admin/users", Query: "page=2", Cookies: []string{"theme=dark; _ga=GA1.2.3", gatetest.AccessName + "=" + gatetest.Valid}}},
		{"already signed in", verifier.Request{Path: "/login", Cookies: []string{gatetest.AccessName + "=" + gatetest.Valid}}},
		{"deny", verifier.Request{Path: "/ops/x", Cookies: []string{gatetest.AccessName + "=" + gatetest.Valid}}},
		{"redirect with return_to", verifier.Request{Path: "/dashboard", Query: "page=2"}},
	} {
		r := gatetest.MustJSON(tc.req)
		g.Decide(r, gatetest.Now, out[:0])
		allocs := testing.AllocsPerRun(200, func() {
			var err error
			if out, err = g.Decide(r, gatetest.Now, out[:0]); err != nil {
				t.Fatal(err)
			}
		})
		if allocs > 1 {
			t.Errorf("%s: decision allocates %.0f times", tc.name, allocs)
		}
	}
}

// TestCompactCacheHitAllocatesNothing: the compact form reads the request in place, so
// a cache-hit decision and its identity allocate nothing at all.
func TestCompactCacheHitAllocatesNothing(t *testing.T) {
	g := newGate(t, nil)
	out := make([]byte, 0, 1024)
	for _, req := range []verifier.Request{
		{Method: "GET", Path: "/admin/users", Query: "page=2", Cookies: []string{"theme=dark; _ga=GA1.2.3", gatetest.AccessName + "=" + gatetest.Valid}},
		{Method: "GET", Path: "/login", Cookies: []string{gatetest.AccessName + "=" + gatetest.Valid}},
		{Method: "GET", Path: "/ops/x", Cookies: []string{gatetest.AccessName + "=" + gatetest.Valid}},
		{Method: "GET", Path: "/dashboard", Query: "page=2"},
	} {
		in := compactRequest(req)
		g.DecideCompact(in, gatetest.Now, out[:0])
		allocs := testing.AllocsPerRun(200, func() {
			var err error
			if out, err = g.DecideCompact(in, gatetest.Now, out[:0]); err != nil {
				t.Fatal(err)
			}
			out = g.AppendLastIdentity(out[:0])
		})
		if allocs != 0 {
			t.Errorf("%s: compact decision allocates %.0f times", req.Path, allocs)
		}
	}
}

func BenchmarkDecideCompactCacheHit(b *testing.B) {
	g := newGate(b, nil)
	in := compactRequest(verifier.Request{Method: "GET", Path: "/admin/users", Query: "page=2",
		Cookies: []string{"theme=dark; _ga=GA1.2.3", gatetest.AccessName + "=" + gatetest.Valid}})
	out := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		out, _ = g.DecideCompact(in, gatetest.Now, out[:0])
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

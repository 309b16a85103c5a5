package conformance

import (
	"context"
	"runtime"
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
)

// Benchmarks run each case natively ("go") and in wazero ("wasm") side by side; the
// measured table is in verifier/CONFORMANCE.md ("Speed").

// BenchmarkVerifyCold verifies a token with the cache disabled: parse, signature,
// claims, every time. RS256 runs a third time on the two-phase path ("wasm-twophase":
// the module checks everything but the signature, which the host checks with
// crypto/rsa, then the module finishes).
func BenchmarkVerifyCold(b *testing.B) {
	for _, alg := range []string{"EdDSA", "ES256", "RS256"} {
		s := signersFor(b)[alg]
		token := s.mint(b, claims(nil))
		engs := benchEngines
		if alg == "RS256" {
			engs = append(engs[:len(engs):len(engs)], benchTwoPhase)
		}
		for _, eng := range engs {
			b.Run(alg+"/"+eng.name, func(b *testing.B) {
				e := eng.new(b)
				setUp(b, e, testConfig(0, alg), s)
				loop(b, func() {
					if _, err := e.VerifyToken(context.Background(), token, testNow); err != nil {
						b.Fatal(err)
					}
				})
			})
		}
	}
}

// BenchmarkDecideCacheHit decides a protected request whose token is in the
// verified-token cache: cookie parsing, route policy, cache lookup, time and
// revocation re-checks, JSON in and out.
func BenchmarkDecideCacheHit(b *testing.B) {
	s := signersFor(b)["EdDSA"]
	req := verifier.Request{Method: "GET", Path: "/app/home", Query: "tab=1",
		Cookies: []string{"theme=dark; " + accessCookie.Name + "=" + s.mint(b, claims(nil))}}
	for _, eng := range benchEngines {
		b.Run(eng.name, func(b *testing.B) {
			e := eng.new(b)
			setUp(b, e, testConfig(1024, "EdDSA"), s)
			loop(b, func() {
				if d, err := e.Decide(context.Background(), req, testNow); err != nil || d.Action != verifier.ActionAllow {
					b.Fatal(d, err)
				}
			})
		})
	}
}

// loop runs fn b.N times on one locked OS thread and reports, besides wall time, the
// thread's CPU time per operation (cpu-ns/op): the machines this runs on are shared,
// and CPU time is the figure that does not depend on the neighbours.
func loop(b *testing.B, fn func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	fn() // warm up outside the measurement
	start := threadCPU()
	for b.Loop() {
		fn()
	}
	if start != 0 {
		b.ReportMetric(float64(threadCPU()-start)/float64(b.N), "cpu-ns/op")
	}
}

type benchEngine struct {
	name string
	new  func(tb testing.TB) verifier.Engine
}

// benchEngines are the native engine and the module with its own crypto, the wasm one
// with a single instance (a benchmark loop is sequential).
var benchEngines = []benchEngine{
	{"go", newNative},
	{"wasm", func(tb testing.TB) verifier.Engine { return newWasm(tb, moduleSigs(wasmOpts1)) }},
}

// benchTwoPhase is the module on the two-phase path (wasmhost's default), one instance.
var benchTwoPhase = benchEngine{"wasm-twophase", func(tb testing.TB) verifier.Engine { return newWasm(tb, wasmOpts1) }}

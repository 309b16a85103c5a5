package wasmhost

import (
	"context"
	"encoding/json"
	"runtime"
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
)

// benchHost is a one-instance host on the embedded module, configured with the
// vectors' keys and a cache, plus a request whose token is already cached.
func benchHost(b testing.TB) (*Host, verifier.Request) {
	h, err := NewEmbedded(context.Background(), Options{PoolSize: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close(context.Background()) })
	cookie := verifier.Cookie{Name: "__Host-edgeauth", Path: "/", Secure: true, HTTPOnly: true, SameSite: "Lax"}
	cfg := verifier.Config{
		EdgeConfig: verifier.EdgeConfig{
			Issuer: vectors.Issuer, Audience: vectors.Audience, Algorithms: []string{"EdDSA"}, LeewaySeconds: 30,
			AccessCookie: cookie, RefreshCookie: verifier.Cookie{Name: "__Secure-edgeauth-refresh", Path: "/auth", Secure: true, HTTPOnly: true, SameSite: "Lax"},
			LoginPath: "/login", RefreshPath: "/auth/refresh",
		},
		LocalConfig: verifier.LocalConfig{PublicPaths: []string{"/login", "/auth/"}, DefaultProtected: true, CacheEntries: 1024},
	}
	if err := h.Configure(context.Background(), cfg); err != nil {
		b.Fatal(err)
	}
	if err := h.LoadKeys(context.Background(), vectors.JWKS()); err != nil {
		b.Fatal(err)
	}
	req := verifier.Request{Method: "GET", Path: "/app/home", Query: "tab=1",
		Cookies: []string{"theme=dark; " + cookie.Name + "=" + vectors.EdDSAKey().Token(vectors.Claims(vectors.Now))}}
	if d, err := h.Decide(context.Background(), req, vectors.Now); err != nil || d.Action != verifier.ActionAllow {
		b.Fatal(d, err)
	}
	return h, req
}

// BenchmarkDecideCacheHitParts splits a cache-hit decision into the guest's share
// (writing the request JSON into the buffer and calling decide) and the host's
// (encoding the request, decoding the decision), beside a cache-hit verify_token and an
// empty call (abi_version) for scale.
func BenchmarkDecideCacheHitParts(b *testing.B) {
	h, req := benchHost(b)
	input, _ := json.Marshal(req)
	b.Run("guest", func(b *testing.B) {
		in, err := h.get(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		defer h.put(in)
		loop(b, func() {
			if _, err := in.call(context.Background(), in.decide, input, vectors.Now, true); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("guest-compact", func(b *testing.B) {
		in, err := h.get(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		defer h.put(in)
		loop(b, func() {
			if _, err := in.decideCompactCall(context.Background(), req, vectors.Now); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("guest-verify_token", func(b *testing.B) {
		in, err := h.get(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		defer h.put(in)
		token := []byte(req.Cookies[0][len("theme=dark; __Host-edgeauth="):])
		loop(b, func() {
			if _, err := in.call(context.Background(), in.verifyToken, token, vectors.Now, true); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("guest-abi_version", func(b *testing.B) {
		in, err := h.get(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		defer h.put(in)
		fn := in.mod.ExportedFunction("abi_version")
		loop(b, func() {
			if err := fn.CallWithStack(context.Background(), in.stack[:]); err != nil {
				b.Fatal(err)
			}
		})
	})
	out, _ := json.Marshal(verifier.Decision{Action: verifier.ActionAllow, Reason: "authenticated",
		Identity: &verifier.Identity{Subject: "user-42", SessionID: "c2Vzc2lvbi0xMjM0NTY3ODkwYWJjZGVm", Roles: []string{"admin", "billing"}, ExpiresAt: vectors.Now + 540}})
	b.Run("host-encode-request", func(b *testing.B) {
		loop(b, func() {
			if _, err := json.Marshal(req); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("host-decode-decision", func(b *testing.B) {
		loop(b, func() {
			if _, err := decodeDecision(out); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("host-decode-decision-encoding-json", func(b *testing.B) {
		loop(b, func() {
			var d verifier.Decision
			if err := json.Unmarshal(out, &d); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("total", func(b *testing.B) {
		loop(b, func() {
			if _, err := h.Decide(context.Background(), req, vectors.Now); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("total-json", func(b *testing.B) {
		loop(b, func() {
			if _, err := h.decideJSON(context.Background(), req, vectors.Now); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// BenchmarkDecideCacheHit is a repeat visitor's decision through the Engine interface:
// the wasm host (compact form, the default), the wasm host through the JSON export,
// and the native engine, in one run.
func BenchmarkDecideCacheHit(b *testing.B) {
	h, req := benchHost(b)
	n := verifier.NewNative()
	defer n.Close(context.Background())
	if err := replayInto(h, n); err != nil {
		b.Fatal(err)
	}
	for _, e := range []struct {
		name   string
		decide func() (verifier.Decision, error)
	}{
		{"wasm", func() (verifier.Decision, error) { return h.Decide(context.Background(), req, vectors.Now) }},
		{"wasm-json", func() (verifier.Decision, error) { return h.decideJSON(context.Background(), req, vectors.Now) }},
		{"native", func() (verifier.Decision, error) { return n.Decide(context.Background(), req, vectors.Now) }},
	} {
		if d, err := e.decide(); err != nil || d.Identity == nil {
			b.Fatal(e.name, d, err)
		}
		b.Run(e.name, func(b *testing.B) {
			b.ReportAllocs()
			loop(b, func() {
				if _, err := e.decide(); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// replayInto gives engine the host's configuration and keys.
func replayInto(h *Host, engine verifier.Engine) error {
	h.mu.Lock()
	st := h.state
	h.mu.Unlock()
	var cfg verifier.Config
	if err := json.Unmarshal(st.config, &cfg); err != nil {
		return err
	}
	if err := engine.Configure(context.Background(), cfg); err != nil {
		return err
	}
	return engine.LoadKeys(context.Background(), st.keys)
}

// loop runs fn b.N times on one locked OS thread and reports the thread's CPU time
// per operation (cpu-ns/op), which does not depend on a loaded machine's neighbours.
func loop(b *testing.B, fn func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	fn()
	start := threadCPU()
	for b.Loop() {
		fn()
	}
	if start != 0 {
		b.ReportMetric(float64(threadCPU()-start)/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkDecideCacheHitParallel is a repeat visitor's decision as a Go edge makes it:
// Host.Decide from GOMAXPROCS goroutines on a host with the default pool (one instance
// per CPU), beside the native engine (one gate behind a mutex). ns/op is wall time per
// decision over all goroutines: on a shared machine, compare the two within one run.
func BenchmarkDecideCacheHitParallel(b *testing.B) {
	_, req := benchHost(b)
	h, err := NewEmbedded(context.Background(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close(context.Background())
	one, _ := benchHost(b)
	if err := replayInto(one, h); err != nil {
		b.Fatal(err)
	}
	n := verifier.NewNative()
	defer n.Close(context.Background())
	if err := replayInto(one, n); err != nil {
		b.Fatal(err)
	}
	for _, e := range []struct {
		name   string
		engine verifier.Engine
	}{{"wasm", h}, {"native", n}} {
		b.Run(e.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if d, err := e.engine.Decide(context.Background(), req, vectors.Now); err != nil || d.Identity == nil {
						b.Fatal(d, err)
					}
				}
			})
		})
	}
}

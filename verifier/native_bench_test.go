package verifier

import (
	"context"
	"runtime"
	"testing"

	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
)

// BenchmarkNativeDecideCacheHit is a repeat visitor's decision through the native
// engine: Decide (the compact form) beside the JSON form it replaced (encoding/json in
// and out of gate.Decide), in one run. The request and configuration are those of
// wasmhost's BenchmarkDecideCacheHit.
func BenchmarkNativeDecideCacheHit(b *testing.B) {
	n := NewNative().(*native)
	defer n.Close(context.Background())
	access := Cookie{Name: "__Host-edgeauth", Path: "/", Secure: true, HTTPOnly: true, SameSite: "Lax"}
	cfg := Config{
		EdgeConfig: EdgeConfig{
			Issuer: vectors.Issuer, Audience: vectors.Audience, Algorithms: []string{"EdDSA"}, LeewaySeconds: 30,
			AccessCookie: access, RefreshCookie: Cookie{Name: "__Secure-edgeauth-refresh", Path: "/auth", Secure: true, HTTPOnly: true, SameSite: "Lax"},
			LoginPath: "/login", RefreshPath: "/auth/refresh",
		},
		LocalConfig: LocalConfig{PublicPaths: []string{"/login", "/auth/"}, DefaultProtected: true, CacheEntries: 1024},
	}
	if err := n.Configure(context.Background(), cfg); err != nil {
		b.Fatal(err)
	}
	if err := n.LoadKeys(context.Background(), vectors.JWKS()); err != nil {
		b.Fatal(err)
	}
	req := Request{Method: "GET", Path: "/app/home", Query: "tab=1",
		Cookies: []string{"theme=dark; " + access.Name + "=" + vectors.EdDSAKey().Token(vectors.Claims(vectors.Now))}}
	for _, form := range []struct {
		name   string
		decide func() (Decision, error)
	}{
		{"compact", func() (Decision, error) { return n.Decide(context.Background(), req, vectors.Now) }},
		{"json", func() (Decision, error) { return n.decideJSON(context.Background(), req, vectors.Now) }},
	} {
		if d, err := form.decide(); err != nil || d.Identity == nil {
			b.Fatal(form.name, d, err)
		}
		b.Run(form.name, func(b *testing.B) {
			b.ReportAllocs()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			start := threadCPU()
			for b.Loop() {
				if _, err := form.decide(); err != nil {
					b.Fatal(err)
				}
			}
			if start != 0 {
				b.ReportMetric(float64(threadCPU()-start)/float64(b.N), "cpu-ns/op")
			}
		})
	}
}

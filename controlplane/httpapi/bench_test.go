package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// Published documents served from memory through the whole handler (routing,
// headers, logging, metrics), as the README's "Speed" section reports them.
func BenchmarkPublished(b *testing.B) {
	h := newEnv(b, envOptions{quiet: true}).app.Handler
	for _, bc := range []struct {
		name, path string
		revalidate bool
	}{
		{"jwks", "/.well-known/jwks.json", false},
		{"jwks_304", "/.well-known/jwks.json", true},
		{"revocations", "/.well-known/edgeauth/revocations", false},
		{"revocations_304", "/.well-known/edgeauth/revocations", true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", bc.path, nil))
			etag := w.Header().Get("ETag")
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := httptest.NewRequest("GET", bc.path, nil)
					if bc.revalidate {
						r.Header.Set("If-None-Match", etag)
					}
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					if w.Code != http.StatusOK && w.Code != http.StatusNotModified {
						b.Fatalf("%d", w.Code)
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

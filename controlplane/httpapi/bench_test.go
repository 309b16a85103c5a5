package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"syscall"
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

// A refresh through the whole handler (routing, CSRF, cookies, the rotation on
// PostgreSQL, signing, JSON, logging, metrics), called in-process with an httptest
// recorder, one after another. cpu-ns/op is this process's CPU time per refresh: the
// service's share of a rotation (the server's runs in its own process); the README's
// "Speed" reports what the binary does over HTTP (make bench-controlplane).
func BenchmarkRefreshHandler(b *testing.B) {
	e := newEnv(b, envOptions{quiet: true})
	e.createUser(testEmail, testPassword)
	_, refresh := e.login(testEmail, testPassword)
	h, origin, name := e.app.Handler, e.cfg.PublicOrigin(), e.cfg.RefreshCookie().Name
	b.ReportAllocs()
	start := processCPU(b)
	b.ResetTimer()
	for range b.N {
		r := httptest.NewRequest("POST", "/auth/refresh", nil)
		r.Header.Set("Origin", origin)
		r.AddCookie(&http.Cookie{Name: name, Value: refresh.Value})
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
		for _, c := range w.Result().Cookies() {
			if c.Name == name {
				refresh = c
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(processCPU(b)-start)/float64(b.N), "cpu-ns/op")
}

// processCPU is this process's user and system CPU time so far, in nanoseconds.
func processCPU(b *testing.B) int64 {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		b.Fatal(err)
	}
	return u.Utime.Nano() + u.Stime.Nano()
}

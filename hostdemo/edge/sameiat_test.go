package edge_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/hostdemo/edge"
	"github.com/edgeauth/edgeauth/internal/cptest"
	"github.com/edgeauth/edgeauth/sessionauth"
	"github.com/edgeauth/edgeauth/verifier"
)

// A cache in front of the control plane (or a replica that built its list in the same
// second, before the revocation committed) serves a list of the same iat as the one the
// edge holds, without the session it names. The engine reloads it and forgets the
// session; the gate must not: the source keeps a revocation that a list of about the
// same time omits (sessionauth, applyList), and the gate asks it.
func TestSameSecondListDoesNotUnrevokeAtTheGate(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine verifier.Engine) {
		frozen := time.Now().Truncate(time.Second) // every list the control plane builds has this iat
		cp := cptest.Start(t, cptest.Options{Now: func() time.Time { return frozen }})
		cp.CreateUser(t, "ada@example.test", "correct horse battery staple")
		laptop := cp.Login(t, "ada@example.test", "correct horse battery staple", "laptop")
		before := cp.Do(t, http.MethodGet, sessionauth.RevocationsPath, nil, nil)
		cached, err := io.ReadAll(before.Body)
		before.Body.Close()
		if err != nil || before.StatusCode != http.StatusOK {
			t.Fatalf("list before the logout: %s %v", before.Status, err)
		}

		target, _ := url.Parse(cp.URL)
		proxy := httputil.NewSingleHostReverseProxy(target)
		var useCache atomic.Bool
		front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == sessionauth.RevocationsPath && useCache.Load() {
				w.Write(cached)
				return
			}
			proxy.ServeHTTP(w, r)
		}))
		t.Cleanup(front.Close)

		quiet := slog.New(slog.DiscardHandler)
		ctx := context.Background()
		src, err := sessionauth.NewSource(sessionauth.SourceConfig{ControlPlane: front.URL, Issuer: cp.Config.Issuer,
			Algorithms: []string{"EdDSA"}, Engine: engine, NoStream: true, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		conf := &edge.Configurator{URL: cp.URL + edge.EdgeConfigPath, Engine: engine, Source: src, Local: verifier.LocalConfig{
			PublicPaths: []string{"/"}, Protected: []verifier.ProtectedRoute{{Prefix: "/app/"}},
		}}
		if _, err := conf.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		gate := &edge.Gate{Engine: engine, Source: src, Logger: quiet, Upstream: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})}
		get := func() int {
			r := httptest.NewRequest(http.MethodGet, "/app/report", nil)
			r.AddCookie(laptop.Access)
			rec := httptest.NewRecorder()
			gate.ServeHTTP(rec, r)
			return rec.Code
		}
		if code := get(); code != http.StatusOK {
			t.Fatalf("signed in: %d", code)
		}

		if resp := cp.Do(t, http.MethodPost, "/auth/logout", nil, http.Header{"Cookie": {laptop.Header()}}); resp.StatusCode/100 != 2 {
			t.Fatalf("logout: %s", resp.Status)
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if err := src.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			if _, ok := src.Revoked(laptop.SessionID); ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no list named the session")
			}
		}
		if code := get(); code != http.StatusFound {
			t.Fatalf("after the list naming the session: %d, want 302", code)
		}

		useCache.Store(true)
		if err := src.Sync(ctx); err != nil {
			t.Fatalf("the cached list of the same second: %v", err)
		}
		if code := get(); code != http.StatusFound {
			t.Fatalf("after a list of the same second that omits the session: %d, want 302", code)
		}
	})
}

package edge_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/hostdemo/edge"
	"github.com/edgeauth/edgeauth/sessionauth"
	"github.com/edgeauth/edgeauth/verifier"
)

// issuerEdge is hostdemo's edge on a stand-in control plane: a Configurator and a
// Source feeding one engine, and the gate in front of an app that answers 200.
type issuerEdge struct {
	cp   *standIn
	conf *edge.Configurator
	src  *sessionauth.Source
	gate *edge.Gate
}

func newIssuerEdge(t *testing.T) *issuerEdge {
	t.Helper()
	ctx := context.Background()
	now := time.Now().Unix()
	clock := func() time.Time { return time.Unix(now, 0) }
	quiet := slog.New(slog.DiscardHandler)
	cp := newStandIn(t, "https://old.example.test", now)
	cp.set("https://old.example.test", "s-old")
	e := verifier.NewNative()
	t.Cleanup(func() { e.Close(ctx) })
	src, err := sessionauth.NewSource(sessionauth.SourceConfig{ControlPlane: cp.srv.URL, Engine: e, NoStream: true, Now: clock, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	conf := &edge.Configurator{URL: cp.srv.URL + edge.EdgeConfigPath, Engine: e, Source: src,
		Local: verifier.LocalConfig{Protected: []verifier.ProtectedRoute{{Prefix: "/app/"}}}}
	if _, err := conf.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := src.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("app")) })
	return &issuerEdge{cp: cp, conf: conf, src: src, gate: &edge.Gate{Engine: e, Source: src, Upstream: app, Now: clock, Logger: quiet}}
}

// get answers a request for /app/ with token as the access cookie.
func (ie *issuerEdge) get(token string) int {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/app/", nil)
	req.Header.Set("Cookie", "at="+token)
	ie.gate.ServeHTTP(rec, req)
	return rec.Code
}

// When the control plane's issuer changed, the configurator configured the engine with
// it and the engine dropped its revocation list (the old issuer's, which no longer
// verifies), while the source still said fresh until its next poll: a session the new
// issuer's list revokes was allowed. The list is fetched again at once, and nothing is
// decided without one meanwhile.
func TestIssuerChangeKeepsTheEngineRevocationList(t *testing.T) {
	ie := newIssuerEdge(t)
	ie.cp.set("https://new.example.test", "s-gone")
	if _, err := ie.conf.Sync(context.Background()); err != nil { // hostdemo's poll of the edge configuration
		t.Fatal(err)
	}
	revoked := ie.cp.token("ada", "s-gone", []string{"member"}, nil)
	if code := ie.get(revoked); code == http.StatusOK {
		t.Fatalf("a session the new issuer's list revokes: %d, source fresh: %v", code, ie.src.Fresh())
	}
	if err := ie.src.Fresh(); err != nil {
		t.Errorf("after the configurator's sync: %v, want the new issuer's list loaded at once", err)
	}
	if code := ie.get(ie.cp.token("ada", "s-live", []string{"member"}, nil)); code != http.StatusOK {
		t.Errorf("a live session of the new issuer: %d", code)
	}
}

// The other order: the source polled first, learned the new issuer, and kept serving
// the old issuer's list as the current one (the engine, configured for the old issuer
// still, refused the new list): a Checker (wsauth) accepted a session the new list
// revokes. A source whose issuer changed is stale until a list of the new issuer loads.
func TestIssuerChangeSourceFirst(t *testing.T) {
	ctx := context.Background()
	ie := newIssuerEdge(t)
	chk, err := sessionauth.NewChecker(ie.src, sessionauth.CheckerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ie.cp.set("https://new.example.test", "s-gone")
	ie.src.Sync(ctx) // the engine, still on the old issuer, may refuse the new list
	revoked := ie.cp.token("ada", "s-gone", []string{"member"}, nil)
	if _, err := chk.Check(ctx, revoked); err == nil {
		t.Fatalf("a session the new issuer's list revokes was accepted; source fresh: %v", ie.src.Fresh())
	} else if !errors.Is(err, sessionauth.ErrStale) && !errors.Is(err, verifier.ErrRevoked) {
		t.Fatalf("refused with %v, want stale or revoked", err)
	}
	if _, err := ie.conf.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ie.src.Fresh(); err != nil {
		t.Fatalf("after the configurator's sync: %v", err)
	}
	if _, err := chk.Check(ctx, revoked); !errors.Is(err, verifier.ErrRevoked) {
		t.Errorf("after the configurator's sync: %v, want revoked", err)
	}
	if code := ie.get(revoked); code == http.StatusOK {
		t.Errorf("the gate allowed a revoked session")
	}
}

package edge_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/edgeauth/edgeauth/hostdemo/edge"
	"github.com/edgeauth/edgeauth/sessionauth"
	"github.com/edgeauth/edgeauth/verifier"
)

// wsRoute stands for wsauth.Proxy: a handler that checks credentials its own way.
type wsRoute struct {
	accepts bool // whether its own check accepts the request's token
	served  bool // whether it served (upgraded) the request
}

func (h *wsRoute) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.ServePermitted(w, r, nil) }

func (h *wsRoute) ServePermitted(w http.ResponseWriter, _ *http.Request, permit func(sessionauth.Identity) error) {
	err := errors.New("no token")
	if h.accepts {
		err = nil
		if permit != nil {
			err = permit(sessionauth.Identity{Subject: "member", Roles: []string{"member"}})
		}
	}
	if err != nil {
		sessionauth.WriteError(w, err)
		return
	}
	h.served = true
}

// A request the gate finds no valid token in goes to the route's handler, which
// refuses it its own way; one the handler's own check would accept all the same (the
// two read a token differently) is refused: the route's roles were never checked for it.
func TestRouteRulesRefuseWhatOnlyTheHandlerAccepts(t *testing.T) {
	ctx := context.Background()
	e := verifier.NewNative()
	defer e.Close(ctx)
	cookie := verifier.Cookie{Name: "at", Path: "/", HTTPOnly: true, SameSite: "Lax"}
	if err := e.Configure(ctx, verifier.Config{
		EdgeConfig: verifier.EdgeConfig{Issuer: "https://auth.example.test", Audience: "https://auth.example.test",
			AccessCookie: cookie, RefreshCookie: verifier.Cookie{Name: "rt", Path: "/auth", HTTPOnly: true, SameSite: "Lax"},
			LoginPath: "/login", RefreshPath: "/auth/refresh"},
		LocalConfig: verifier.LocalConfig{Protected: []verifier.ProtectedRoute{{Prefix: "/ws/admin", Roles: []string{"admin"}}}},
	}); err != nil {
		t.Fatal(err)
	}
	g := &edge.Gate{Engine: e}
	for _, accepts := range []bool{false, true} {
		route := &wsRoute{accepts: accepts}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/ws/admin/console", nil)
		req.Header.Set("Authorization", "Bearer not-a-token-the-gate-reads")
		g.RouteRules(route).ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized || route.served {
			t.Errorf("handler accepts: %v: status %d, handler served: %v", accepts, rec.Code, route.served)
		}
		if rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("refused with %q, not the JSON a WebSocket route answers", rec.Header().Get("Content-Type"))
		}
	}
}

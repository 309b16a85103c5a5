package edge_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
)

// A handler behind RouteRules that authorizes requests itself (not an Authorizer) is
// still past an edge: no client-sent identity header reaches it, in any spelling, so
// that what it or an upstream behind it reads as X-Edgeauth-Second-Factor is never the
// browser's word (verifier/ABI.md, "Identity headers": every request an edge forwards).
func TestRouteRulesStripClientIdentityHeaders(t *testing.T) {
	g, cp := newStandInGate(t, nil)
	var seen http.Header
	h := g.RouteRules(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = r.Header.Clone() }))
	weak := cp.token("ada", "s-1", []string{"member"}, map[string]any{"amr": []string{"pwd"}})
	for _, c := range []struct{ name, path, cookie string }{
		{"protected, signed in without a second factor", "/app/x", "at=" + weak},
		{"public, signed in without a second factor", "/pub/x", "at=" + weak},
		{"public, no token", "/pub/x", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			seen = nil
			req := httptest.NewRequest("GET", c.path, nil)
			if c.cookie != "" {
				req.Header.Set("Cookie", c.cookie)
			}
			req.Header.Set("X-Edgeauth-Second-Factor", "true")
			req.Header["X_edgeauth_second_factor"] = []string{"true"}
			req.Header.Add("X-Edgeauth-Roles", "admin")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if seen == nil {
				t.Fatalf("not handed on: %d %s", rec.Code, rec.Body)
			}
			for name, v := range seen {
				if verifier.IsReservedHeader(name) {
					t.Errorf("the handler got the client's %s: %q", name, v)
				}
			}
		})
	}
}

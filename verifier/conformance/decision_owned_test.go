package conformance

import (
	"context"
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/internal/gate/gatetest"
)

// A Decision belongs to its caller: changing one (its clearing cookies, its roles)
// changes no other decision, earlier or later, of the same engine.
func TestDecisionsShareNothingACallerCanChange(t *testing.T) {
	eachEngine(t, func(t *testing.T, e verifier.Engine) {
		ctx := context.Background()
		loadGateTable(t, e)
		bad := verifier.Request{Method: "GET", Path: "/dashboard", Cookies: []string{gatetest.AccessName + "=" + gatetest.BadSig}}
		good := verifier.Request{Method: "GET", Path: "/dashboard", Cookies: []string{gatetest.AccessName + "=" + gatetest.Valid}}
		decide := func(req verifier.Request) verifier.Decision {
			t.Helper()
			d, err := e.Decide(ctx, req, gatetest.Now)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		d0 := decide(bad)
		if len(d0.ClearCookies) != 2 || d0.ClearCookies[0] != gatetest.ClearAccess {
			t.Fatalf("clearing cookies: %q", d0.ClearCookies)
		}
		d1 := decide(bad)
		d1.ClearCookies[0] += "; Partitioned" // a caller adapting its copy
		if d0.ClearCookies[0] != gatetest.ClearAccess {
			t.Errorf("another decision's ClearCookies changed with it: %q", d0.ClearCookies[0])
		}
		if d2 := decide(bad); d2.ClearCookies[0] != gatetest.ClearAccess {
			t.Errorf("a later decision's ClearCookies: %q", d2.ClearCookies[0])
		}

		a0 := decide(good)
		a1 := decide(good)
		a1.Identity.Roles[0] = "changed"
		a1.Identity.Subject = "changed"
		if a0.Identity.Roles[0] == "changed" || a0.Identity.Subject == "changed" {
			t.Errorf("another decision's identity changed with it: %+v", a0.Identity)
		}
		if a2 := decide(good); a2.Identity.Roles[0] == "changed" || a2.Identity.Subject == "changed" {
			t.Errorf("a later decision's identity: %+v", a2.Identity)
		}
	})
}

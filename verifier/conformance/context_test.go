package conformance

import (
	"context"
	"errors"
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/internal/gate/gatetest"
)

// Every engine call with a context that is already cancelled returns at once with an
// error wrapping context.Canceled, changes nothing, and the engine keeps working.
// (A context done while a call runs inside the module: wasmhost's context_test.go.)
func TestCancelledContextRefusedBothEngines(t *testing.T) {
	eachEngine(t, func(t *testing.T, e verifier.Engine) {
		loadGateTable(t, e)
		cancelled, cancel := context.WithCancel(context.Background())
		cancel()
		bad := gatetest.Config()
		bad.Issuer = "https://other.example.test"
		req := verifier.Request{Method: "GET", Path: "/dashboard", Cookies: []string{gatetest.AccessName + "=" + gatetest.Valid}}
		for name, call := range map[string]func() error{
			"Configure":       func() error { return e.Configure(cancelled, bad) },
			"LoadKeys":        func() error { return e.LoadKeys(cancelled, gatetest.JWKS()) },
			"LoadRevocations": func() error { return e.LoadRevocations(cancelled, gatetest.Revocations(), gatetest.Now) },
			"Decide":          func() error { _, err := e.Decide(cancelled, req, gatetest.Now); return err },
			"VerifyToken":     func() error { _, err := e.VerifyToken(cancelled, gatetest.Valid, gatetest.Now); return err },
		} {
			if err := call(); !errors.Is(err, context.Canceled) {
				t.Errorf("%s with a cancelled context: %v", name, err)
			}
		}
		d, err := e.Decide(context.Background(), req, gatetest.Now)
		if err != nil || d.Action != verifier.ActionAllow || d.Identity == nil || d.Identity.Subject != "user-42" {
			t.Fatalf("after the cancelled calls (configuration unchanged): %+v %v", d, err)
		}
	})
}

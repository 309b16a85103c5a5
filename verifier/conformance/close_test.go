package conformance

import (
	"context"
	"errors"
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/internal/gate/gatetest"
)

// After Close every call of every engine fails with an error wrapping
// verifier.ErrClosed (wasmhost.ErrClosed too, for the wasm host), and Close may be called
// again.
func TestClosedEngineSaysSo(t *testing.T) {
	eachEngine(t, func(t *testing.T, e verifier.Engine) {
		ctx := context.Background()
		loadGateTable(t, e)
		if err := e.Close(ctx); err != nil {
			t.Fatal(err)
		}
		req := verifier.Request{Method: "GET", Path: "/dashboard", Cookies: []string{gatetest.AccessName + "=" + gatetest.Valid}}
		for name, call := range map[string]func() error{
			"Configure":       func() error { return e.Configure(ctx, gatetest.Config()) },
			"LoadKeys":        func() error { return e.LoadKeys(ctx, gatetest.JWKS()) },
			"LoadRevocations": func() error { return e.LoadRevocations(ctx, gatetest.Revocations(), gatetest.Now) },
			"Decide":          func() error { _, err := e.Decide(ctx, req, gatetest.Now); return err },
			"VerifyToken":     func() error { _, err := e.VerifyToken(ctx, gatetest.Valid, gatetest.Now); return err },
		} {
			if err := call(); !errors.Is(err, verifier.ErrClosed) {
				t.Errorf("%s after Close: %v", name, err)
			}
		}
		if err := e.Close(ctx); err != nil {
			t.Fatal("second Close:", err)
		}
	})
}

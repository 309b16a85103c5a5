package conformance

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/gate/gatetest"
)

// A cancelled context refuses every call with ctx.Err(), whatever the input's size: both
// engines answer an oversized input under a cancelled context alike.
func TestCancelledContextBeatsInputSize(t *testing.T) {
	huge := strings.Repeat("a", abi.BufferCap+1)
	eachEngine(t, func(t *testing.T, e verifier.Engine) {
		loadGateTable(t, e)
		cancelled, cancel := context.WithCancel(context.Background())
		cancel()
		cfg := gatetest.Config()
		cfg.PublicPaths = append(cfg.PublicPaths, "/"+huge)
		for name, call := range map[string]func() error{
			"Configure":       func() error { return e.Configure(cancelled, cfg) },
			"LoadKeys":        func() error { return e.LoadKeys(cancelled, []byte(huge)) },
			"LoadRevocations": func() error { return e.LoadRevocations(cancelled, []byte(huge), gatetest.Now) },
			"Decide": func() error {
				_, err := e.Decide(cancelled, verifier.Request{Method: "GET", Path: "/", Cookies: []string{huge}}, gatetest.Now)
				return err
			},
			"VerifyToken": func() error {
				_, err := e.VerifyToken(cancelled, huge, gatetest.Now)
				return err
			},
		} {
			if err := call(); !errors.Is(err, context.Canceled) {
				t.Errorf("%s with a cancelled context and an oversized input: %v", name, err)
			}
		}
	})
}

package conformance

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/abi"
)

// TestLargeInputsAnswerAlike sends large requests to both engines: one that fits the
// module's buffer gets the same decision or status from both (the gate refuses
// oversized requests itself), and one that does not fit is refused by both with
// ErrInputTooLarge.
func TestLargeInputsAnswerAlike(t *testing.T) {
	s := signersFor(t)["EdDSA"]
	native, wasm := newNative(t), newWasm(t, wasmOpts1)
	for _, e := range []verifier.Engine{native, wasm} {
		setUp(t, e, testConfig(16, "EdDSA"), s)
	}
	for _, tc := range []struct {
		name    string
		req     verifier.Request
		tooLong bool
	}{
		{"long path", verifier.Request{Method: "GET", Path: "/app/" + strings.Repeat("a", 100<<10)}, false},
		{"long query to escape", verifier.Request{Method: "GET", Path: "/app/x", Query: strings.Repeat("%/", 30<<10)}, false},
		{"many cookies", verifier.Request{Method: "GET", Path: "/app/x", Cookies: []string{strings.Repeat("a=b; ", 40<<10)}}, false},
		{"request beyond the buffer", verifier.Request{Method: "GET", Path: "/app/" + strings.Repeat("a", abi.BufferCap)}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dn, errN := native.Decide(context.Background(), tc.req, testNow)
			dw, errW := wasm.Decide(context.Background(), tc.req, testNow)
			if abi.StatusOf(errN) != abi.StatusOf(errW) || !reflect.DeepEqual(dn, dw) {
				t.Fatalf("engines differ:\ngo   %.200v %v\nwasm %.200v %v", dn, errN, dw, errW)
			}
			if tc.tooLong != errors.Is(errN, abi.ErrInputTooLarge) {
				t.Fatalf("got %v (status %d)", errN, abi.StatusOf(errN))
			}
			if abi.StatusOf(errN) == abi.StatusInternal {
				t.Fatalf("internal error: %v", errN)
			}
			t.Logf("status %d, action %q, reason %q", abi.StatusOf(errN), dn.Action, dn.Reason)
		})
	}
}

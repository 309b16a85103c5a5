package wasmhost

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/gate/gatetest"
)

// TestCompactAndJSONFormsAgree decides the gate's decision table through
// decide_compact (Decide) and through decide (JSON), cold and cached, and expects the
// table's decisions from both; plus requests with invalid UTF-8, which both forms
// read as encoding/json does (U+FFFD).
func TestCompactAndJSONFormsAgree(t *testing.T) {
	h, err := NewEmbedded(context.Background(), Options{PoolSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	if err := h.Configure(context.Background(), gatetest.Config()); err != nil {
		t.Fatal(err)
	}
	if err := h.LoadKeys(context.Background(), gatetest.JWKS()); err != nil {
		t.Fatal(err)
	}
	if err := h.LoadRevocations(context.Background(), gatetest.Revocations(), gatetest.Now); err != nil {
		t.Fatal(err)
	}
	for _, pass := range []string{"cold", "cached"} {
		for _, c := range gatetest.Cases() {
			compact, err := h.Decide(context.Background(), c.Req, gatetest.Now)
			if err != nil {
				t.Fatalf("%s %s: compact: %v", pass, c.Name, err)
			}
			json, err := h.decideJSON(context.Background(), c.Req, gatetest.Now)
			if err != nil {
				t.Fatalf("%s %s: json: %v", pass, c.Name, err)
			}
			if !reflect.DeepEqual(compact, c.Want) || !reflect.DeepEqual(json, c.Want) {
				t.Errorf("%s %s:\n compact %+v\n json    %+v\n want    %+v", pass, c.Name, compact, json, c.Want)
			}
		}
	}
	for _, req := range []verifier.Request{
		{Method: "GET", Path: "/app/\xff\xfe", Cookies: []string{gatetest.AccessName + "=" + gatetest.Valid}},
		{Method: "GET", Path: "/", Query: "a=\xc3", Cookies: []string{"x=\xff; " + gatetest.AccessName + "=" + gatetest.Valid}},
	} {
		compact, err1 := h.Decide(context.Background(), req, gatetest.Now)
		json, err2 := h.decideJSON(context.Background(), req, gatetest.Now)
		if !reflect.DeepEqual(compact, json) || !errors.Is(err1, abi.StatusOf(err2).Err()) {
			t.Errorf("%q: compact %+v (%v), json %+v (%v)", req.Path, compact, err1, json, err2)
		}
	}
	big := verifier.Request{Path: "/", Cookies: []string{string(make([]byte, abi.BufferCap))}}
	if _, err := h.Decide(context.Background(), big, gatetest.Now); !errors.Is(err, abi.ErrInputTooLarge) {
		t.Fatalf("oversized request: %v", err)
	}
}

package conformance

import (
	"context"
	"reflect"
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/abi"
)

// FuzzDecideBothEngines sends the same request to the native engine and to the module
// and requires the same decision (or the same status). The seeds cover valid, expired,
// tampered and duplicated cookies, bearer tokens, odd paths and return_to material.
func FuzzDecideBothEngines(f *testing.F) {
	s := signersFor(f)["EdDSA"]
	valid := s.mint(f, claims(nil))
	expired := s.mint(f, claims(map[string]any{"exp": testNow - 5}))
	admin := s.mint(f, claims(map[string]any{"roles": []string{"admin"}}))
	ck := accessCookie.Name + "="
	for _, seed := range []struct{ method, path, query, cookie, auth string }{
		{"GET", "/app/home", "tab=1", ck + valid, ""},
		{"GET", "/admin/users", "", ck + valid, ""},
		{"GET", "/admin/users", "", "a=b; " + ck + admin, ""},
		{"GET", "/app/home", "", ck + expired, ""},
		{"GET", "/app/home", "", ck + valid + "x", ""},
		{"GET", "/app/home", "", ck + valid + "; " + ck + valid, ""},
		{"GET", "/login", "return_to=%2Fapp%2F", ck + valid, ""},
		{"GET", "/login", "return_to=https://evil.test/", "", ""},
		{"POST", "/app/%2e%2e/admin", "", "", "Bearer " + valid},
		{"GET", "/assets/app.js", "", ck + "garbage", ""},
		{"GET", "//evil.test/x", "a=\x00", refreshCookie.Name + "=r", ""},
		{"GET", "/app/\u00e9", "q=\u2028", "", ""},
	} {
		f.Add(seed.method, seed.path, seed.query, seed.cookie, seed.auth)
	}
	cfg := testConfig(16, "EdDSA")
	cfg.AllowBearer = true
	native, wasm := newNative(f), newWasm(f, wasmOpts1)
	for _, e := range []verifier.Engine{native, wasm} {
		setUp(f, e, cfg, s)
	}
	f.Fuzz(func(t *testing.T, method, path, query, cookie, auth string) {
		req := verifier.Request{Method: method, Path: path, Query: query, Authorization: auth}
		if cookie != "" {
			req.Cookies = []string{cookie}
		}
		dn, errN := native.Decide(context.Background(), req, testNow)
		dw, errW := wasm.Decide(context.Background(), req, testNow)
		if abi.StatusOf(errN) != abi.StatusOf(errW) || !reflect.DeepEqual(dn, dw) {
			t.Fatalf("engines differ on %+v:\ngo   %+v %v\nwasm %+v %v", req, dn, errN, dw, errW)
		}
		if st := abi.StatusOf(errN); st == abi.StatusInternal {
			t.Fatalf("internal error on %+v: %v / %v", req, errN, errW)
		}
	})
}

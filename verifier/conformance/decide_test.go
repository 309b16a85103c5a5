package conformance

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/gate/gatetest"
	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
	"github.com/edgeauth/edgeauth/verifier/wasmhost"
)

// The gate's decision table (verifier/internal/gate/gatetest) through both engines: every
// named request must get the same decision from the Go core and from verifier.wasm.

// loadGateTable configures e with gatetest's configuration, keys and revocation list.
func loadGateTable(t *testing.T, e verifier.Engine) {
	t.Helper()
	if err := e.Configure(context.Background(), gatetest.Config()); err != nil {
		t.Fatal("configure:", err)
	}
	if err := e.LoadKeys(context.Background(), gatetest.JWKS()); err != nil {
		t.Fatal("load keys:", err)
	}
	if err := e.LoadRevocations(context.Background(), gatetest.Revocations(), gatetest.Now); err != nil {
		t.Fatal("load revocations:", err)
	}
}

func TestDecisionTable(t *testing.T) {
	eachEngine(t, func(t *testing.T, e verifier.Engine) {
		loadGateTable(t, e)
		// The second pass is answered from the verified-token cache.
		for _, pass := range []string{"cold", "cached"} {
			t.Run(pass, func(t *testing.T) {
				for _, c := range gatetest.Cases() {
					t.Run(c.Name, func(t *testing.T) {
						got, err := e.Decide(context.Background(), c.Req, gatetest.Now)
						if err != nil {
							t.Fatal(err)
						}
						if !reflect.DeepEqual(got, c.Want) {
							t.Fatalf("decision\n got  %+v\n want %+v", got, c.Want)
						}
					})
				}
			})
		}
	})
}

func TestDecisionErrorsMatch(t *testing.T) {
	eachEngine(t, func(t *testing.T, e verifier.Engine) {
		if _, err := e.Decide(context.Background(), verifier.Request{Path: "/"}, gatetest.Now); !errors.Is(err, verifier.ErrNotConfigured) {
			t.Fatalf("unconfigured Decide: %v", err)
		}
		loadGateTable(t, e)
		bad := gatetest.Config()
		bad.LoginPath = "/admin/login" // protected: would loop
		if err := e.Configure(context.Background(), bad); !errors.Is(err, verifier.ErrInvalidConfig) {
			t.Fatalf("looping configuration: %v", err)
		}
		if err := e.Configure(context.Background(), verifier.Config{EdgeConfig: verifier.EdgeConfig{Issuer: "x"}}); !errors.Is(err, verifier.ErrInvalidConfig) {
			t.Fatalf("incomplete configuration: %v", err)
		}
		stale := gatetest.RevocationList(vectors.EdDSAKey(), "edgeauth-revocations+jwt", map[string]any{
			"iss": vectors.Issuer, "iat": gatetest.Now - 100, "exp": gatetest.Now + 200, "sids": []string{}})
		if err := e.LoadRevocations(context.Background(), stale, gatetest.Now); !errors.Is(err, verifier.ErrInvalidRevocationList) {
			t.Fatalf("rolled-back revocation list: %v", err)
		}
		if _, err := e.Decide(context.Background(), verifier.Request{Path: "/", Cookies: []string{string(make([]byte, 40<<10))}}, gatetest.Now); !errors.Is(err, verifier.ErrInvalidRequest) {
			t.Fatalf("oversized cookies: %v", err)
		}
		// Still the table's state: the refused inputs changed nothing.
		for _, tc := range []struct {
			token string
			want  error
		}{
			{gatetest.Valid, nil},
			{gatetest.Revoked, verifier.ErrRevoked},
			{gatetest.BadSig, verifier.ErrSignatureInvalid},
			{gatetest.Expired, verifier.ErrExpired},
			{gatetest.UnknownKey, verifier.ErrUnknownKey},
		} {
			c, err := e.VerifyToken(context.Background(), tc.token, gatetest.Now)
			if !errors.Is(err, tc.want) {
				t.Fatalf("VerifyToken: %v, want %v", err, tc.want)
			}
			if err == nil && (c.Subject != "user-42" || c.SessionID != gatetest.ValidSID || c.ExpiresAt != gatetest.Now+540) {
				t.Fatalf("claims %+v", c)
			}
		}
		d, err := e.Decide(context.Background(), verifier.Request{Path: "/dashboard", Cookies: []string{gatetest.AccessName + "=" + gatetest.Revoked}}, gatetest.Now)
		if err != nil || d.Reason != abi.ReasonRevoked {
			t.Fatalf("revoked after refused inputs: %+v %v", d, err)
		}
	})
}

// BenchmarkGateDecideInGuest measures the decide export alone inside the committed
// module (request already in the buffer, no host-side JSON), the cost an edge pays
// per request besides its own encoding.
func BenchmarkGateDecideInGuest(b *testing.B) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	mod, err := rt.InstantiateWithConfig(ctx, verifier.Module, wazero.NewModuleConfig().WithStartFunctions(abi.ExportInitialize))
	if err != nil {
		b.Fatal(err)
	}
	res, err := mod.ExportedFunction(abi.ExportBufPtr).Call(ctx)
	if err != nil {
		b.Fatal(err)
	}
	ptr := uint32(res[0])
	call := func(name string, in []byte, args ...uint64) abi.Status {
		if !mod.Memory().Write(ptr, in) {
			b.Fatal("input does not fit")
		}
		res, err := mod.ExportedFunction(name).Call(ctx, append([]uint64{uint64(len(in))}, args...)...)
		if err != nil {
			b.Fatal(err)
		}
		st, _ := abi.Unpack(res[0])
		return st
	}
	if call(abi.ExportConfigure, gatetest.MustJSON(gatetest.Config())) != abi.StatusOK ||
		call(abi.ExportLoadKeys, gatetest.JWKS()) != abi.StatusOK {
		b.Fatal("set-up failed")
	}
	for _, tc := range []struct {
		name string
		req  verifier.Request
	}{
		{"cache-hit", verifier.Request{Method: "GET", Path: "/admin/users", Query: "tab=1",
			Cookies: []string{"theme=dark; _ga=GA1.2.3", gatetest.AccessName + "=" + gatetest.Valid}}},
		{"no-token", verifier.Request{Method: "GET", Path: "/dashboard", Query: "tab=1"}},
	} {
		req := gatetest.MustJSON(tc.req)
		b.Run(tc.name, func(b *testing.B) {
			decide := mod.ExportedFunction(abi.ExportDecide)
			for b.Loop() {
				mod.Memory().Write(ptr, req) // the previous output overwrote it
				res, err := decide.Call(ctx, uint64(len(req)), uint64(gatetest.Now))
				if err != nil {
					b.Fatal(err)
				}
				if st, _ := abi.Unpack(res[0]); st != abi.StatusOK {
					b.Fatal(st.Err())
				}
			}
		})
	}
}

// Path spellings (case, escapes, Unicode the fold table maps, separators, dot segments,
// control characters) get the same decision from both engines: the fold and its
// generated table behave alike under Go and TinyGo.
func TestPathSpellingsBothEngines(t *testing.T) {
	native, wasm := newNative(t), newWasm(t, wasmhost.Options{})
	loadGateTable(t, native)
	loadGateTable(t, wasm)
	pieces := []string{"/", "admin", "ADMIN", "adm%C4%B1n", "%EF%BD%81", "%61", "%2561", "static", "..", "%2E", "%20",
		"%2F", "%5C", "\\", ";x", ":x", "%C2%AD", "%EF%BC%8F", "%E2%88%95", "%09", "%C0%AE", "%FF", "%E2%80%8B", "."}
	member := []string{gatetest.AccessName + "=" + gatetest.Member}
	n := 0
	for _, a := range pieces {
		for _, b := range pieces {
			for _, path := range []string{"/" + a + b + "/users", "/" + a + "/" + b} {
				req := verifier.Request{Method: "GET", Path: path, Cookies: member}
				want, err1 := native.Decide(context.Background(), req, gatetest.Now)
				got, err2 := wasm.Decide(context.Background(), req, gatetest.Now)
				if err1 != nil || err2 != nil || !reflect.DeepEqual(got, want) {
					t.Fatalf("%q: native %+v (%v), wasm %+v (%v)", path, want, err1, got, err2)
				}
				n++
			}
		}
	}
	t.Logf("%d paths, identical decisions", n)
}

// TestRepeatVisitorIdentities decides two visitors' cached tokens in turns: each
// decision carries its own token's identity (the wasm host keeps the identity it read
// under the token's identity key, the native engine reads the gate's), and a caller
// that changes the roles of a Decision it got changes no later decision.
func TestRepeatVisitorIdentities(t *testing.T) {
	eachEngine(t, func(t *testing.T, e verifier.Engine) {
		loadGateTable(t, e)
		want := map[string]verifier.Identity{
			gatetest.Valid:  {Subject: "user-42", SessionID: gatetest.ValidSID, Roles: []string{"admin", "billing"}, ExpiresAt: gatetest.Now + 540},
			gatetest.Member: {Subject: "user-7", SessionID: gatetest.MemberSID, Roles: []string{"member"}, ExpiresAt: gatetest.Now + 540},
		}
		for i, token := range []string{gatetest.Valid, gatetest.Valid, gatetest.Member, gatetest.Valid, gatetest.Member, gatetest.Member, gatetest.Valid} {
			req := verifier.Request{Method: "GET", Path: "/dashboard", Cookies: []string{gatetest.AccessName + "=" + token}}
			d, err := e.Decide(context.Background(), req, gatetest.Now)
			if err != nil {
				t.Fatal(err)
			}
			if d.Identity == nil || !reflect.DeepEqual(*d.Identity, want[token]) {
				t.Fatalf("decision %d: identity %+v, want %+v", i, d.Identity, want[token])
			}
			d.Identity.Roles[0] = "changed by the caller"
			d.Identity.Subject = "changed too"
		}
	})
}

// An empty Request.Path is a host that did not fill the request in (or an HTTP request
// with no path, as CONNECT's authority form): no rule was written for it and no upstream
// serves it. Every Go engine refuses it with ErrInvalidRequest (an edge answers 400)
// rather than decide it as a protected path (a redirect without a token, an allow
// with one), with a valid token as without one. A path the engine can read stays decided.
func TestEmptyPathIsRefused(t *testing.T) {
	eachEngine(t, func(t *testing.T, e verifier.Engine) {
		loadGateTable(t, e)
		for _, cookies := range [][]string{nil, {gatetest.AccessName + "=" + gatetest.Valid}} {
			d, err := e.Decide(context.Background(), verifier.Request{Method: "GET", Cookies: cookies}, gatetest.Now)
			if !errors.Is(err, verifier.ErrInvalidRequest) {
				t.Errorf("empty path, cookies %d: %+v %v, want ErrInvalidRequest", len(cookies), d, err)
			}
		}
		if d, err := e.Decide(context.Background(), verifier.Request{Method: "GET", Path: "/dashboard"}, gatetest.Now); err != nil || d.Action != verifier.ActionRedirect {
			t.Errorf("/dashboard: %+v %v", d, err)
		}
	})
}

package gate_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/gate"
	"github.com/edgeauth/edgeauth/verifier/internal/gate/gatetest"
)

// newGate returns a gate with gatetest's configuration, keys and revocation list.
func newGate(t testing.TB, mutate func(c *verifier.Config)) *gate.Gate {
	t.Helper()
	cfg := gatetest.Config()
	if mutate != nil {
		mutate(&cfg)
	}
	g := gate.New()
	if err := g.Configure(gatetest.MustJSON(cfg)); err != nil {
		t.Fatal("configure:", err)
	}
	if err := g.LoadKeys(gatetest.JWKS()); err != nil {
		t.Fatal("load keys:", err)
	}
	if err := g.LoadRevocations(gatetest.Revocations(), gatetest.Now); err != nil {
		t.Fatal("load revocations:", err)
	}
	return g
}

func decide(t testing.TB, g *gate.Gate, req verifier.Request, now int64) verifier.Decision {
	t.Helper()
	out, err := g.Decide(gatetest.MustJSON(req), now, nil)
	if err != nil {
		t.Fatalf("Decide: %v", err)
	}
	var d verifier.Decision
	dec := json.NewDecoder(bytesReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("decision %s: %v", out, err)
	}
	return d
}

// compactRequest is req in the compact layout.
func compactRequest(req verifier.Request) []byte {
	return abi.AppendCompactRequest(nil, req.Method, req.Path, req.Query, req.Authorization, req.Cookies)
}

// decideCompact decides req with DecideCompact and reads the identity as a host does.
func decideCompact(t testing.TB, g *gate.Gate, req verifier.Request, now int64) verifier.Decision {
	t.Helper()
	out, err := g.DecideCompact(compactRequest(req), now, nil)
	if err != nil {
		t.Fatalf("DecideCompact: %v", err)
	}
	return recordDecision(t, g, out)
}

func recordDecision(t testing.TB, g *gate.Gate, out []byte) verifier.Decision {
	t.Helper()
	rec, ok := abi.ParseDecisionRecord(out)
	if !ok {
		t.Fatalf("record %x does not parse", out)
	}
	d := verifier.Decision{Action: verifier.Action(abi.Actions[rec.Action]), Reason: abi.Reasons[rec.Reason],
		Status: int(rec.Status), Location: string(rec.Location)}
	if rec.Flags&abi.FlagClearCookies != 0 {
		d.ClearCookies = []string{string(rec.ClearAccess), string(rec.ClearRefresh)}
	}
	id := g.AppendLastIdentity(nil)
	if (rec.Flags&abi.FlagIdentity != 0) != (len(id) > 0) {
		t.Fatalf("identity flag %v, identity %x", rec.Flags&abi.FlagIdentity != 0, id)
	}
	if len(id) > 0 {
		sub, sid, roles, exp, mfa, ok := abi.ParseIdentity(id)
		if !ok {
			t.Fatalf("identity %x does not parse", id)
		}
		d.Identity = &verifier.Identity{Subject: sub, SessionID: sid, Roles: roles, ExpiresAt: exp, SecondFactor: mfa}
	}
	return d
}

func TestDecisionTable(t *testing.T) {
	g := newGate(t, nil)
	// Twice through the same gate: the second pass is served by the token cache and
	// must decide identically.
	for _, pass := range []string{"cold", "cached"} {
		t.Run(pass, func(t *testing.T) {
			for _, c := range gatetest.Cases() {
				t.Run(c.Name, func(t *testing.T) {
					got := decide(t, g, c.Req, gatetest.Now)
					if !reflect.DeepEqual(got, c.Want) {
						t.Fatalf("decision\n got  %+v\n want %+v", got, c.Want)
					}
					if got := decideCompact(t, g, c.Req, gatetest.Now); !reflect.DeepEqual(got, c.Want) {
						t.Fatalf("compact decision\n got  %+v\n want %+v", got, c.Want)
					}
				})
			}
		})
	}
}

func TestEveryReasonIsCovered(t *testing.T) {
	seen := map[abi.Reason]bool{}
	for _, c := range gatetest.Cases() {
		seen[c.Want.Reason] = true
	}
	for _, r := range abi.Reasons {
		if !seen[r] {
			t.Errorf("reason %q has no case in the decision table", r)
		}
	}
	if len(seen) != len(abi.Reasons) {
		t.Errorf("the table uses %d reasons, abi.Reasons lists %d", len(seen), len(abi.Reasons))
	}
}

func TestBearerDisabled(t *testing.T) {
	g := newGate(t, func(c *verifier.Config) { c.AllowBearer = false })
	d := decide(t, g, verifier.Request{Path: "/api/orders", Authorization: "Bearer " + gatetest.Valid}, gatetest.Now)
	if d.Action != verifier.ActionRedirect || d.Reason != abi.ReasonNoToken {
		t.Fatalf("bearer honoured while disabled: %+v", d)
	}
}

func TestDecideInvalidRequests(t *testing.T) {
	g := newGate(t, nil)
	tests := []struct {
		name string
		req  string
	}{
		{"empty", ``},
		{"not an object", `["/"]`},
		{"missing path", `{"method":"GET"}`},
		{"unknown member", `{"path":"/","host":"x"}`},
		{"path not a string", `{"path":1}`},
		{"cookies not an array", `{"path":"/","cookies":"a=1"}`},
		{"cookie not a string", `{"path":"/","cookies":[1]}`},
		{"duplicate member", `{"path":"/","path":"/admin/"}`},
		{"trailing data", `{"path":"/"} {}`},
		{"invalid UTF-8", "{\"path\":\"/\xff\"}"},
		{"too deep", `{"path":"/","cookies":[[["a"]]]}`},
		{"too many cookie pairs", `{"path":"/","cookies":["` + repeat("a=1;", 400) + `"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := g.Decide([]byte(tt.req), gatetest.Now, []byte("keep"))
			if !errors.Is(err, abi.ErrInvalidRequest) {
				t.Fatalf("err = %v, want ErrInvalidRequest", err)
			}
			if string(out) != "keep" {
				t.Fatalf("out changed to %q on error", out)
			}
		})
	}
	// null members count as absent.
	out, err := g.Decide([]byte(`{"method":null,"path":"/","query":null,"cookies":null,"authorization":null}`), gatetest.Now, nil)
	if err != nil || string(out) != `{"action":"allow","reason":"public"}` {
		t.Fatalf("nulls: %s %v", out, err)
	}
}

func TestNotConfigured(t *testing.T) {
	g := gate.New()
	if _, err := g.Decide([]byte(`{"path":"/"}`), 0, nil); !errors.Is(err, abi.ErrNotConfigured) {
		t.Fatalf("Decide: %v", err)
	}
	if _, err := g.VerifyToken([]byte(gatetest.Valid), gatetest.Now, nil); !errors.Is(err, abi.ErrNotConfigured) {
		t.Fatalf("VerifyToken: %v", err)
	}
	if err := g.LoadRevocations(gatetest.Revocations(), gatetest.Now); !errors.Is(err, abi.ErrNotConfigured) {
		t.Fatalf("LoadRevocations: %v", err)
	}
	// Configured but no keys: tokens name an unknown key, public paths still work.
	if err := g.Configure(gatetest.MustJSON(gatetest.Config())); err != nil {
		t.Fatal(err)
	}
	d := decide(t, g, verifier.Request{Path: "/dashboard", Cookies: []string{gatetest.AccessName + "=" + gatetest.Valid}}, gatetest.Now)
	if d.Reason != abi.ReasonUnknownKey {
		t.Fatalf("without keys: %+v", d)
	}
	if err := g.LoadRevocations(gatetest.Revocations(), gatetest.Now); !errors.Is(err, abi.ErrInvalidRevocationList) {
		t.Fatalf("LoadRevocations without keys: %v", err)
	}
}

func TestDecisionOutputAppends(t *testing.T) {
	g := newGate(t, nil)
	out, err := g.Decide(gatetest.MustJSON(verifier.Request{Path: "/dashboard?x"}), gatetest.Now, []byte("prefix:"))
	if err != nil {
		t.Fatal(err)
	}
	want := `prefix:{"action":"redirect","reason":"no_token","status":302,"location":"/login"}`
	if string(out) != want {
		t.Fatalf("got %s\nwant %s", out, want)
	}
}

func repeat(s string, n int) string {
	b := make([]byte, 0, len(s)*n)
	for range n {
		b = append(b, s...)
	}
	return string(b)
}

type byteReader struct {
	b []byte
}

func (r *byteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, errEOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

var errEOF = errors.New("EOF")

func bytesReader(b []byte) *byteReader { return &byteReader{b} }

func TestDecideCompactInvalidRequests(t *testing.T) {
	g := newGate(t, nil)
	valid := compactRequest(verifier.Request{Method: "GET", Path: "/", Cookies: []string{"a=1"}})
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"truncated", valid[:len(valid)-1]},
		{"trailing data", append(append([]byte{}, valid...), 0)},
		{"length beyond the input", []byte{0xff, 0xff, 0xff, 0x7f}},
		{"invalid UTF-8 in the path", compactRequest(verifier.Request{Path: "/\xff"})},
		{"invalid UTF-8 in a cookie", compactRequest(verifier.Request{Path: "/", Cookies: []string{"a=\xc3"}})},
		{"too many cookie headers", compactRequest(verifier.Request{Path: "/", Cookies: make([]string, 301)})},
		{"too large", compactRequest(verifier.Request{Path: "/", Query: repeat("a", 64<<10)})},
		{"too many cookie pairs", compactRequest(verifier.Request{Path: "/", Cookies: []string{repeat("a=1;", 400)}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := g.DecideCompact(tt.in, gatetest.Now, []byte("keep"))
			if !errors.Is(err, abi.ErrInvalidRequest) {
				t.Fatalf("err = %v, want ErrInvalidRequest", err)
			}
			if string(out) != "keep" {
				t.Fatalf("out changed to %q on error", out)
			}
			if id := g.AppendLastIdentity(nil); len(id) != 0 {
				t.Fatalf("a refused request left an identity: %x", id)
			}
		})
	}
	if _, err := gate.New().DecideCompact(valid, 0, nil); !errors.Is(err, abi.ErrNotConfigured) {
		t.Fatalf("unconfigured: %v", err)
	}
}

// TestIdentityKey checks the identity key of a compact decision: the same for every
// hit of one cached token, another for another token, none when the cache is off.
func TestIdentityKey(t *testing.T) {
	key := func(g *gate.Gate, token string) uint32 {
		out, err := g.DecideCompact(compactRequest(verifier.Request{Path: "/app/x", Cookies: []string{gatetest.AccessName + "=" + token}}), gatetest.Now, nil)
		if err != nil {
			t.Fatal(err)
		}
		rec, _ := abi.ParseDecisionRecord(out)
		if rec.Flags&abi.FlagIdentity == 0 {
			t.Fatalf("no identity: %+v", rec)
		}
		return rec.IdentityKey
	}
	g := newGate(t, nil)
	a1, a2 := key(g, gatetest.Valid), key(g, gatetest.Valid)
	if a1 == 0 || a1 != a2 {
		t.Fatalf("keys of one token: %d, %d", a1, a2)
	}
	if err := g.LoadKeys(gatetest.JWKS()); err != nil { // flushes the cache
		t.Fatal(err)
	}
	if b := key(g, gatetest.Valid); b == 0 || b == a1 {
		t.Fatalf("key after a flush: %d (before %d)", b, a1)
	}
	off := newGate(t, func(c *verifier.Config) { c.CacheEntries = 0 })
	if k := key(off, gatetest.Valid); k != 0 {
		t.Fatalf("uncached token has key %d", k)
	}
}

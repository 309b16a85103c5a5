package gate_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/gate/gatetest"
)

// FuzzDecide feeds any bytes as a request: Decide must never panic and must return
// either ErrInvalidRequest (leaving out untouched) or exactly one decision that
// decodes into verifier.Decision with a known action and reason and a consistent
// status.
func FuzzDecide(f *testing.F) {
	for _, c := range gatetest.Cases() {
		f.Add(gatetest.MustJSON(c.Req))
	}
	f.Add([]byte(`{"path":"/","cookies":["a=1; a=2"],"query":"return_to=%2F%2Fx"}`))
	f.Add([]byte(`{"path":"/login","query":"return_to=/\\x"}`))
	f.Add([]byte(`{"path":"\u0000"}`))
	reasons := map[abi.Reason]bool{}
	for _, r := range abi.Reasons {
		reasons[r] = true
	}
	g := newGate(f, nil)
	f.Fuzz(func(t *testing.T, req []byte) {
		out, err := g.Decide(req, gatetest.Now, []byte{})
		if err != nil {
			if !errors.Is(err, abi.ErrInvalidRequest) || len(out) != 0 {
				t.Fatalf("error %v with output %q", err, out)
			}
			return
		}
		var d verifier.Decision
		if err := json.Unmarshal(out, &d); err != nil {
			t.Fatalf("decision %q: %v", out, err)
		}
		if !reasons[d.Reason] {
			t.Fatalf("unknown reason in %q", out)
		}
		switch d.Action {
		case verifier.ActionAllow:
			if d.Status != 0 || d.Location != "" {
				t.Fatalf("allow with status or location: %q", out)
			}
		case verifier.ActionRedirect, verifier.ActionRefresh:
			if d.Status != 302 || d.Location == "" || d.Location[0] != '/' || (len(d.Location) > 1 && (d.Location[1] == '/' || d.Location[1] == '\\')) {
				t.Fatalf("redirect to an unsafe location: %q", out)
			}
		case verifier.ActionDeny:
			forbidden := d.Reason == abi.ReasonMissingRole || d.Reason == abi.ReasonMFARequired
			if !(d.Status == 403 && forbidden || d.Status == 400 && d.Reason == abi.ReasonInvalidPath) ||
				d.Identity != nil || len(d.ClearCookies) != 0 {
				t.Fatalf("bad deny: %q", out)
			}
		default:
			t.Fatalf("unknown action in %q", out)
		}
	})
}

// FuzzDecideCompact feeds any bytes as a compact request: DecideCompact must never
// panic, must refuse with ErrInvalidRequest (leaving out untouched) or return a record
// that parses; and a request it accepts, sent as JSON, gets the same decision.
func FuzzDecideCompact(f *testing.F) {
	for _, c := range gatetest.Cases() {
		f.Add(compactRequest(c.Req))
	}
	f.Add([]byte{})
	f.Add(compactRequest(verifier.Request{Path: "/\x00", Cookies: []string{"", "a=1; a=2"}}))
	jsonGate, compactGate := newGate(f, nil), newGate(f, nil)
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := compactGate.DecideCompact(in, gatetest.Now, []byte{})
		if err != nil {
			if !errors.Is(err, abi.ErrInvalidRequest) || len(out) != 0 {
				t.Fatalf("error %v with output %q", err, out)
			}
			return
		}
		got := recordDecision(t, compactGate, out)
		lens, count, pos, _ := abi.CompactRequestHeader(in, 300)
		var req verifier.Request
		fields := make([]string, 4)
		for i := range fields {
			fields[i] = string(in[pos : pos+int(lens[i])])
			pos += int(lens[i])
		}
		req.Method, req.Path, req.Query, req.Authorization = fields[0], fields[1], fields[2], fields[3]
		for i := 0; i < int(count); i++ {
			n := int(abi.CompactCookieLen(in, i))
			req.Cookies = append(req.Cookies, string(in[pos:pos+n]))
			pos += n
		}
		if want := decide(t, jsonGate, req, gatetest.Now); !reflect.DeepEqual(got, want) {
			t.Fatalf("compact %+v, json %+v", got, want)
		}
	})
}

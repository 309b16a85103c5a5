package edge

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
)

// setIdentity is verifier.SetIdentityHeaders on headers already stripped: the same
// headers, whatever the identity.
func TestSetIdentityIsSetIdentityHeaders(t *testing.T) {
	for name, id := range map[string]*verifier.Identity{
		"none":      nil,
		"no roles":  {Subject: "u1", SessionID: "s1", ExpiresAt: 1767225600},
		"one role":  {Subject: "u1", SessionID: "s1", Roles: []string{"admin"}, ExpiresAt: 1767225600},
		"two roles": {Subject: "u2", SessionID: "s2", Roles: []string{"admin", "reader"}, ExpiresAt: 2000000000},
		"empty":     {},
	} {
		t.Run(name, func(t *testing.T) {
			sent := http.Header{"Cookie": {"a=b"}, "X-Edgeauth-Subject": {"forged"}, "X_edgeauth_roles": {"admin"}, "Connection": {"X-Edgeauth-Session, keep-alive"}}
			want, got := sent.Clone(), sent.Clone()
			verifier.SetIdentityHeaders(want, id)
			verifier.StripIdentityHeaders(got)
			setIdentity(got, id)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("setIdentity: %v\nSetIdentityHeaders: %v", got, want)
			}
		})
	}
}

func TestSetIdentityAllocatesOnce(t *testing.T) {
	id := &verifier.Identity{Subject: "u1", SessionID: "s1", Roles: []string{"admin"}, ExpiresAt: 1767225600}
	h := http.Header{}
	allocs := testing.AllocsPerRun(100, func() { setIdentity(h, id) })
	if allocs > 2 { // the values, and the formatted expiry
		t.Errorf("%v allocations per call, want at most 2", allocs)
	}
}

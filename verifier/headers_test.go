package verifier_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
)

// identityHeaderTable is verifier/testdata/identity-headers.json, the test table every
// edge (Go and JS) checks its header stripping against.
type identityHeaderTable struct {
	Reserved    []string `json:"reserved"`
	NotReserved []string `json:"not_reserved"`
}

func readIdentityHeaderTable(t *testing.T) identityHeaderTable {
	t.Helper()
	b, err := os.ReadFile("testdata/identity-headers.json")
	if err != nil {
		t.Fatal(err)
	}
	var table identityHeaderTable
	if err := json.Unmarshal(b, &table); err != nil {
		t.Fatal(err)
	}
	if len(table.Reserved) == 0 || len(table.NotReserved) == 0 {
		t.Fatal("empty table")
	}
	return table
}

func TestIsReservedHeader(t *testing.T) {
	table := readIdentityHeaderTable(t)
	for _, name := range table.Reserved {
		if !verifier.IsReservedHeader(name) {
			t.Errorf("%q is not reserved", name)
		}
	}
	for _, name := range table.NotReserved {
		if verifier.IsReservedHeader(name) {
			t.Errorf("%q is reserved", name)
		}
	}
	// Every name an upstream reads identity from is reserved in every spelling CGI
	// would give it.
	for _, name := range []string{verifier.HeaderSubject, verifier.HeaderSession, verifier.HeaderRoles, verifier.HeaderExpiresAt, verifier.HeaderSecondFactor} {
		for _, spelling := range []string{name, strings.ToLower(name), strings.ToUpper(name), strings.ReplaceAll(name, "-", "_")} {
			if !verifier.IsReservedHeader(spelling) {
				t.Errorf("%q is not reserved", spelling)
			}
		}
	}
}

// Whatever a client sends in any reserved spelling, only the edge's five values
// remain, each exactly once; other headers are untouched; Connection can no longer
// name an identity header.
func TestSetIdentityHeaders(t *testing.T) {
	table := readIdentityHeaderTable(t)
	h := http.Header{}
	for _, name := range table.Reserved {
		h[name] = []string{"forged"}
	}
	for _, name := range table.NotReserved {
		if name != "" {
			h[name] = []string{"kept"}
		}
	}
	h["Connection"] = []string{"X-Edgeauth-Subject, keep-alive", "x_edgeauth_roles"}
	verifier.SetIdentityHeaders(h, &verifier.Identity{Subject: "user-1", SessionID: "sid-1", Roles: []string{"a", "b"}, ExpiresAt: 1767225600, SecondFactor: true})
	want := http.Header{
		"X-Edgeauth-Subject":       {"user-1"},
		"X-Edgeauth-Session":       {"sid-1"},
		"X-Edgeauth-Roles":         {"a,b"},
		"X-Edgeauth-Expires-At":    {"2026-01-01T00:00:00Z"},
		"X-Edgeauth-Second-Factor": {"true"},
		"Connection":               {"keep-alive"},
	}
	for _, name := range table.NotReserved {
		if name != "" {
			want[name] = []string{"kept"}
		}
	}
	if !reflect.DeepEqual(h, want) {
		t.Fatalf("headers:\n%v\nwant:\n%v", h, want)
	}

	h = http.Header{"X_edgeauth_subject": {"forged"}, "Connection": {"x-edgeauth-session"}}
	verifier.SetIdentityHeaders(h, nil)
	if len(h) != 0 {
		t.Fatalf("anonymous request keeps %v", h)
	}
}

// The identity values share one backing array; each header's slice is capped at
// its own value, so an upstream adding to one header cannot overwrite the next.
func TestSetIdentityHeadersValuesAreIndependent(t *testing.T) {
	h := http.Header{}
	verifier.SetIdentityHeaders(h, &verifier.Identity{Subject: "user-1", SessionID: "sid-1", Roles: []string{"a"}, ExpiresAt: 1767225600})
	h.Add(verifier.HeaderSubject, "appended")
	if got := h[verifier.HeaderSession]; len(got) != 1 || got[0] != "sid-1" {
		t.Fatalf("session header after adding to the subject: %v", got)
	}
	h.Add(verifier.HeaderExpiresAt, "appended")
	if got := h[verifier.HeaderSecondFactor]; len(got) != 1 || got[0] != "false" {
		t.Fatalf("second-factor header after adding to the expiry: %v", got)
	}
}

// An edge calls SetIdentityHeaders on every request it forwards: on a browser's
// headers with nothing to strip it allocates the values and the formatted expiry only.
func TestSetIdentityHeadersAllocations(t *testing.T) {
	id := &verifier.Identity{Subject: "user-1", SessionID: "sid-1", Roles: []string{"admin"}, ExpiresAt: 1767225600}
	h := http.Header{"Accept": {"text/html"}, "Cookie": {"a=b"}, "User-Agent": {"test"}, "Accept-Language": {"en"}}
	if n := testing.AllocsPerRun(100, func() { verifier.SetIdentityHeaders(h, id) }); n > 2 {
		t.Errorf("%v allocations per call, want at most 2", n)
	}
}

func TestBearerToken(t *testing.T) {
	BearerToken, ErrDuplicateAuthorization := verifier.BearerToken, verifier.ErrDuplicateAuthorization
	for _, tc := range []struct {
		values []string
		want   string
		err    error
	}{
		{nil, "", nil},
		{[]string{"Bearer abc"}, "abc", nil},
		{[]string{"bEaReR \t abc \t"}, "abc", nil},
		{[]string{"Bearer abc\u00a0"}, "abc\u00a0", nil},
		{[]string{"Bearer "}, "", nil},
		{[]string{"Bearer    "}, "", nil},
		{[]string{"Basic abc"}, "", nil},
		{[]string{"Bearerabc"}, "", nil},
		{[]string{"Bearer a", "Bearer b"}, "", ErrDuplicateAuthorization},
	} {
		got, err := BearerToken(http.Header{"Authorization": tc.values})
		if got != tc.want || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("%q: %q, %v; want %q, %v", tc.values, got, err, tc.want, tc.err)
		}
	}
	if _, err := BearerToken(http.Header{"Authorization": {"a", "b"}}); !errors.Is(err, verifier.ErrInvalidRequest) {
		t.Errorf("sent twice: %v does not wrap ErrInvalidRequest", err)
	}
}

package sessionauth_test

import (
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/edgeauth/edgeauth/sessionauth"
)

// The Checker reads an Authorization header's bearer token exactly as the gate does
// (verifier/internal/gate's bearer: scheme in any case, then spaces and tabs trimmed),
// so a WebSocket route's role rule, applied by the gate, holds for the token the
// Checker accepts: a Unicode space stays part of the token, which then fails to verify.
func TestTokenReadsBearerAsTheGateDoes(t *testing.T) {
	f := newFakeCP(t)
	_, chk := newSource(t, f, newClock(), nil)
	for header, want := range map[string]string{
		"Bearer abc":             "abc",
		"bearer \t abc \t":       "abc",
		"BEARER abc":             "abc",
		"Bearer abc\u00a0":       "abc\u00a0",
		"Bearer \u00a0abc":       "\u00a0abc",
		"Bearer abc\u0085":       "abc\u0085",
		"Bearer \u3000abc\u2003": "\u3000abc\u2003",
		"Bearer ":                "",
		"Bearer \t ":             "",
		"Basic abc":              "",
	} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Authorization", header)
		tok, viaCookie, err := chk.Token(req)
		if want == "" {
			if !errors.Is(err, sessionauth.ErrNoToken) {
				t.Errorf("%q: token %q, %v; want ErrNoToken", header, tok, err)
			}
			continue
		}
		if err != nil || viaCookie || tok != want {
			t.Errorf("%q: token %q (cookie %v), %v; want %q", header, tok, viaCookie, err, want)
		}
	}
}

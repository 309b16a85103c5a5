package httpapi_test

import (
	"net/http"
	"testing"
)

// Every 401 carries a WWW-Authenticate challenge (RFC 9110, 15.5.2; RATIONALE.md, "A 401
// carries a Bearer challenge"): Bearer alone without a token, error="invalid_token"
// for a token refused.
func TestUnauthorizedCarriesChallenge(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.createUser(testEmail, testPassword)
	for _, tc := range []struct {
		name string
		q    req
		code string
		want string
	}{
		{"no token", req{method: "GET", path: "/auth/me"}, "unauthenticated", `Bearer`},
		{"bad token", req{method: "GET", path: "/auth/session", header: map[string]string{"Authorization": "Bearer x.y.z"}}, "unauthenticated", `Bearer error="invalid_token"`},
		{"wrong password", req{method: "POST", path: "/auth/login", body: `{"email":"` + testEmail + `","password":"wrong password here"}`}, "invalid_credentials", `Bearer`},
		{"no refresh token", req{method: "POST", path: "/auth/refresh"}, "refresh_token_missing", `Bearer`},
		{"unknown refresh token", req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{{Name: e.cfg.RefreshCookie().Name, Value: "nope"}}}, "refresh_token_invalid", `Bearer`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.q)
			if r.StatusCode != 401 || r.errorCode() != tc.code {
				t.Fatalf("%d %s", r.StatusCode, r.body)
			}
			if got := r.Header.Get("WWW-Authenticate"); got != tc.want {
				t.Fatalf("WWW-Authenticate %q, want %q", got, tc.want)
			}
		})
	}
	// A revoked session's token is refused as a token.
	access, _ := e.login(testEmail, testPassword)
	if r := e.do(req{method: "POST", path: "/auth/logout", cookies: []*http.Cookie{access}}); r.StatusCode != 204 {
		t.Fatalf("logout %d", r.StatusCode)
	}
	r := e.do(req{method: "GET", path: "/auth/me", cookies: []*http.Cookie{access}})
	if r.StatusCode != 401 || r.Header.Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
		t.Fatalf("revoked: %d %q %s", r.StatusCode, r.Header.Get("WWW-Authenticate"), r.body)
	}
}

package httpapi_test

import (
	"net/http"
	"testing"
)

// Authorization is a singleton field (RFC 9110, 11.6.2): a request that sends it twice
// is malformed, whichever copy a reader would take. Every endpoint that accepts a
// Bearer token answers it 400 invalid_request before reading any credential (with the
// access cookie too) and changes nothing: not the first copy's session, not the second's.
func TestAuthorizationSentTwiceIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.createUser(testEmail, testPassword)
	first, _ := e.login(testEmail, testPassword)
	second, _ := e.login(testEmail, testPassword)
	twice := http.Header{"Authorization": {"Bearer " + first.Value, "Bearer " + second.Value}}
	for _, tc := range []struct {
		name string
		q    req
	}{
		{"introspection", req{method: "GET", path: "/auth/session", added: twice}},
		{"me", req{method: "GET", path: "/auth/me", added: twice}},
		{"sessions", req{method: "GET", path: "/auth/sessions", added: twice}},
		{"me, with the cookie", req{method: "GET", path: "/auth/me", cookies: []*http.Cookie{first}, added: twice}},
		{"logout", req{method: "POST", path: "/auth/logout", added: twice}},
		{"logout, with the cookie", req{method: "POST", path: "/auth/logout", cookies: []*http.Cookie{first}, added: twice}},
		{"logout-all", req{method: "POST", path: "/auth/logout-all", added: twice}},
		{"logout-others", req{method: "POST", path: "/auth/logout-others", added: twice}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.counts("live_sessions")
			r := e.do(tc.q)
			if r.StatusCode != http.StatusBadRequest || r.errorCode() != "invalid_request" {
				t.Errorf("%d %s, want 400 invalid_request", r.StatusCode, r.body)
			}
			if after := e.counts("live_sessions"); after["live_sessions"] != before["live_sessions"] {
				t.Errorf("live sessions %d, were %d", after["live_sessions"], before["live_sessions"])
			}
		})
	}
}

// A bearer token is read as the edges read it (verifier.BearerToken: spaces and tabs
// around it trimmed, nothing else), so a request the edge refused as carrying an invalid
// token is not accepted here: "<token>\u00a0" is not the token.
func TestBearerTokenReadAsTheEdgesReadIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.createUser(testEmail, testPassword)
	access, _ := e.login(testEmail, testPassword)
	for _, tc := range []struct {
		name   string
		header string
		status int
	}{
		{"plain", "Bearer " + access.Value, http.StatusOK},
		{"spaces and tabs around", "bearer \t " + access.Value + " \t", http.StatusOK},
		{"a no-break space after", "Bearer " + access.Value + "\u00a0", http.StatusUnauthorized},
		{"a no-break space before", "Bearer \u00a0" + access.Value, http.StatusUnauthorized},
	} {
		r := e.do(req{method: "GET", path: "/auth/me", added: http.Header{"Authorization": {tc.header}}})
		if r.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, r.StatusCode, tc.status)
		}
	}
}

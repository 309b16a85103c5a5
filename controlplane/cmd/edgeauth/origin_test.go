package main

import (
	"net/http"
	"testing"
)

// A public_url or an allowed origin written with upper-case letters or the default
// port is the origin browsers send in lower case and without the port: a login from
// either origin passes the CSRF check.
func TestBinaryOriginsAsBrowsersSendThem(t *testing.T) {
	t.Parallel()
	s := startServer(t, false, "EDGEAUTH_PUBLIC_URL=https://Auth.Example.test:443", "EDGEAUTH_ALLOWED_ORIGINS=https://App.Example.test")
	s.createUser(ownerEmail, ownerPassword)
	for _, origin := range []string{"https://auth.example.test", "https://app.example.test"} {
		r := s.do("POST", "/auth/login", loginBody(ownerEmail, ownerPassword), http.Header{"Origin": {origin}})
		if r.status != 200 {
			t.Errorf("login with Origin %s: %d %s", origin, r.status, r.body)
		}
	}
}

package httpapi_test

import (
	"net/http"
	"testing"
)

// A 405 names in Allow the methods the path answers (RFC 9110, 15.5.6 and 10.2.1):
// /auth/refresh answers GET and POST, and refuses HEAD (a HEAD must not rotate), so
// neither the HEAD's answer may leave POST out nor another method's name HEAD.
func TestRefreshMethodNotAllowedNamesItsMethods(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	for _, m := range []string{"HEAD", "PUT", "PATCH", "DELETE"} {
		t.Run(m, func(t *testing.T) {
			r := e.do(req{method: m, path: "/auth/refresh"})
			if r.StatusCode != http.StatusMethodNotAllowed {
				t.Fatalf("%d %s", r.StatusCode, r.body)
			}
			if got := r.Header.Get("Allow"); got != "GET, POST" {
				t.Fatalf("Allow %q, want %q", got, "GET, POST")
			}
		})
	}
}

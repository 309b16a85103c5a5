package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/edgeauth/edgeauth/controlplane/config"
)

const testApp = "https://app.example.test"

// A path that is not in canonical form (//, dot segments) names no endpoint: the API
// answers its JSON 404, as for any unknown path, rather than ServeMux's 301 redirect
// to the cleaned path with an HTML body; a preflight for it is refused too.
func TestNonCanonicalPathsAnswerJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{mod: func(c *config.Config) { c.AllowedOrigins = []string{testApp} }})
	for _, path := range []string{"//auth/session", "/auth//session", "/auth/./session", "/auth/x/../session", "//.well-known/jwks.json"} {
		t.Run(path, func(t *testing.T) {
			r := e.do(req{method: "GET", path: path})
			if r.StatusCode != 404 || r.errorCode() != "not_found" || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Location") != "" {
				t.Fatalf("GET %s: %d %q Location %q %s", path, r.StatusCode, r.Header.Get("Content-Type"), r.Header.Get("Location"), r.body)
			}
		})
	}
	r := e.do(req{method: "POST", path: "//auth/login", body: `{"email":"a","password":"b"}`})
	if r.StatusCode != 404 || r.errorCode() != "not_found" {
		t.Fatalf("POST //auth/login: %d %s", r.StatusCode, r.body)
	}
	// A preflight from an allowed origin for such a path is not approved.
	pre := e.do(req{method: http.MethodOptions, path: "//auth/login", noOrigin: true, header: map[string]string{
		"Origin": testApp, "Access-Control-Request-Method": "POST"}})
	if pre.StatusCode == http.StatusNoContent || pre.errorCode() == "" {
		t.Fatalf("preflight for //auth/login: %d %s", pre.StatusCode, pre.body)
	}
	// Measured as no route: the cleaned path's route did not answer.
	if v := metricValue(t, e, `edgeauth_http_request_duration_seconds_count{code="4xx",method="GET",route="unmatched"}`); v != "5" {
		t.Fatalf("unmatched GETs measured: %q, want 5", v)
	}
}

package sessionauth_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/edgeauth/edgeauth/internal/cptest"
	"github.com/edgeauth/edgeauth/sessionauth"
)

// The access cookie is sent by the browser on its own, from any page of the site
// (SameSite=Lax lets a sibling subdomain's page post with it; SameSite=None any site's):
// Middleware admits a state-changing request authorized by the cookie only from the
// API's own origin or one of CheckerConfig.AllowedOrigins, as the control plane admits
// its own (cross_site_request, 403), and the handler never runs otherwise. A Bearer
// token, which no page can make a browser send, and the safe methods are not
// concerned; nor is a request without Sec-Fetch-Site and Origin (not a browser's).
func TestMiddlewareRefusesCrossSiteRequestsAuthorizedByTheCookie(t *testing.T) {
	cp := cptest.Start(t, cptest.Options{})
	cp.CreateUser(t, "ada@example.test", "correct horse battery staple")
	src, err := sessionauth.NewSource(sessionauth.SourceConfig{ControlPlane: cp.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	chk, err := sessionauth.NewChecker(src, sessionauth.CheckerConfig{AllowBearer: true, AllowedOrigins: []string{"https://app.example.test"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"https://*.example.test", "https://app.example.test/path", "app.example.test", "null"} {
		if _, err := sessionauth.NewChecker(src, sessionauth.CheckerConfig{AllowedOrigins: []string{bad}}); err == nil {
			t.Errorf("AllowedOrigins %q accepted", bad)
		}
	}
	var ran atomic.Int64
	api := httptest.NewServer(chk.Middleware()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran.Add(1)
		w.WriteHeader(http.StatusNoContent)
	})))
	defer api.Close()
	laptop := cp.Login(t, "ada@example.test", "correct horse battery staple", "laptop")
	cookie := laptop.Header()
	bearer := "Bearer " + laptop.Access.Value

	for _, tc := range []struct {
		name   string
		method string
		header map[string]string
		status int
		code   string
	}{
		{"cross-site form post", "POST", map[string]string{"Cookie": cookie, "Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, 403, "cross_site_request"},
		{"a sibling subdomain's page (same-site, not allowed)", "POST", map[string]string{"Cookie": cookie, "Sec-Fetch-Site": "same-site", "Origin": "https://blog.example.test"}, 403, "cross_site_request"},
		{"DELETE from another site", "DELETE", map[string]string{"Cookie": cookie, "Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, 403, "cross_site_request"},
		{"an old browser: Origin only, another site", "POST", map[string]string{"Cookie": cookie, "Origin": "https://evil.example"}, 403, "cross_site_request"},
		{"Origin null (a sandboxed page)", "PUT", map[string]string{"Cookie": cookie, "Origin": "null"}, 403, "cross_site_request"},
		{"same-origin", "POST", map[string]string{"Cookie": cookie, "Sec-Fetch-Site": "same-origin", "Origin": api.URL}, 204, ""},
		{"an old browser: its own Origin", "POST", map[string]string{"Cookie": cookie, "Origin": api.URL}, 204, ""},
		{"an allowed origin", "POST", map[string]string{"Cookie": cookie, "Sec-Fetch-Site": "same-site", "Origin": "https://app.example.test"}, 204, ""},
		{"not a browser (neither header)", "POST", map[string]string{"Cookie": cookie}, 204, ""},
		{"Bearer from anywhere", "POST", map[string]string{"Authorization": bearer, "Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, 204, ""},
		{"GET with the cookie from another site", "GET", map[string]string{"Cookie": cookie, "Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, 204, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := ran.Load()
			req, _ := http.NewRequest(tc.method, api.URL+"/orders", nil)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			var e struct {
				Error struct{ Code string } `json:"error"`
			}
			_ = json.Unmarshal(b, &e)
			if resp.StatusCode != tc.status || e.Error.Code != tc.code {
				t.Fatalf("got %d %s, want %d %s", resp.StatusCode, b, tc.status, tc.code)
			}
			if handled := ran.Load() != before; handled != (tc.status < 400) {
				t.Fatalf("the handler ran: %v", handled)
			}
		})
	}
}

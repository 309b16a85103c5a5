package edge_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/hostdemo/edge"
)

// An upstream the edge cannot reach is a 502 upstream_unreachable, as the JS edge's
// edge.fetch answers it: JSON to an API request, text to a page, no-store; the log
// names the upstream's host and the error, never the request's path or query.
func TestProxyErrorAnswersAsTheJSEdge(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := &url.URL{Scheme: "http", Host: ln.Addr().String()}
	ln.Close() // nothing listens there now
	var logs bytes.Buffer

	gate := &edge.Gate{APIPrefixes: []string{"/api/"}, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ErrorHandler = gate.ProxyError
	for _, c := range []struct {
		path     string
		header   http.Header
		json     bool
		mimeType string
	}{
		{"/api/orders?token=s3cret", nil, true, "application/json"},
		{"/dashboard", nil, false, "text/plain; charset=utf-8"},
		{"/dashboard", http.Header{"Sec-Fetch-Mode": {"cors"}, "Content-Type": {"application/json"}}, true, "application/json"},
	} {
		method := http.MethodGet
		if c.header != nil {
			method = http.MethodPost
		}
		r := httptest.NewRequest(method, "http://app.test"+c.path, strings.NewReader("{}"))
		for k, v := range c.header {
			r.Header[k] = v
		}
		w := httptest.NewRecorder()
		proxy.ServeHTTP(w, r)
		if w.Code != http.StatusBadGateway || w.Header().Get("Content-Type") != c.mimeType || w.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("%s %s: %d %q %q, want 502 %q no-store", method, c.path, w.Code, w.Header().Get("Content-Type"), w.Header().Get("Cache-Control"), c.mimeType)
		}
		if c.json {
			var body struct{ Error struct{ Code string } }
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error.Code != "upstream_unreachable" {
				t.Fatalf("%s %s: %s, want error.code upstream_unreachable", method, c.path, w.Body)
			}
		}
	}
	if !strings.Contains(logs.String(), `"upstream":"`+target.Host+`"`) || strings.Contains(logs.String(), "s3cret") {
		t.Fatalf("log:\n%s", logs.String())
	}
}

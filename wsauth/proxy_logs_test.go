package wsauth_test

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/internal/syncbuf"
	"github.com/edgeauth/edgeauth/sessionauth"
	"github.com/edgeauth/edgeauth/wsauth"
	"github.com/gorilla/websocket"
)

// An upstream the proxy cannot reach is logged by its host, as the HTTP proxy's
// (edge.ProxyError) is: not with the upstream URL's query, which the proxy keeps
// (WebSocket servers take an API key there, a browser sending no headers), nor with
// the client's query appended to it.
func TestProxyLogsHoldNoQueryToken(t *testing.T) {
	const apiKey, clientToken = "Upstream-Api-K3y", "Client-Query-T0ken"
	w := newWorld(t, worldOptions{})
	w.cp.CreateUser(t, "ada@example.test", password)
	chk, err := sessionauth.NewChecker(w.src, sessionauth.CheckerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var logs syncbuf.Buffer
	srv, err := wsauth.New(wsauth.Config{Checker: chk, AllowedOrigins: []string{appOrigin},
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := ln.Addr().String()
	ln.Close()
	target, _ := url.Parse("http://" + gone + "/socket?api_key=" + apiKey)
	proxy := httptest.NewServer(&wsauth.Proxy{Server: srv, Upstream: target})
	defer proxy.Close()
	l := w.cp.Login(t, "ada@example.test", password, "laptop")
	_, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(proxy.URL, "http")+"/live?token="+clientToken,
		http.Header{"Origin": {appOrigin}, "Cookie": {l.Header()}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("an unreachable upstream: %v %s, want 502", err, status(resp))
	}
	out := logs.String()
	if !strings.Contains(out, "upstream refused the connection") || !strings.Contains(out, gone) {
		t.Fatalf("the failure is not logged with the upstream's host:\n%s", out)
	}
	for _, secret := range []string{apiKey, clientToken} {
		if strings.Contains(out, secret) {
			t.Fatalf("a query's token reached the log:\n%s", strings.ReplaceAll(strings.ReplaceAll(out, apiKey, "<secret>"), clientToken, "<secret>"))
		}
	}
}

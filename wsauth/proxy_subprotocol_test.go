package wsauth_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/sessionauth"
	"github.com/edgeauth/edgeauth/wsauth"
	"github.com/gorilla/websocket"
)

// The proxy answers the client with the subprotocol the upstream chose, also when the
// Server it shares with an application's own socket handler has Upgrader.Subprotocols:
// those are the application's to choose from, and choosing among them for a proxied
// socket would tell the client one protocol while the upstream speaks another.
func TestProxyAnswersTheUpstreamsSubprotocol(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.cp.CreateUser(t, "ada@example.test", password)
	chk, err := sessionauth.NewChecker(w.src, sessionauth.CheckerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := wsauth.New(wsauth.Config{Checker: chk, AllowedOrigins: []string{appOrigin}, Logger: slog.New(slog.DiscardHandler),
		Upgrader: websocket.Upgrader{Subprotocols: []string{"chat.v2", "chat.v1"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	up := newUpstream(t) // speaks chat.v1 only
	target, _ := url.Parse(up.srv.URL)
	proxy := httptest.NewServer(&wsauth.Proxy{Server: srv, Upstream: target})
	defer proxy.Close()
	l := w.cp.Login(t, "ada@example.test", password, "laptop")
	c, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(proxy.URL, "http")+"/live",
		http.Header{"Origin": {appOrigin}, "Cookie": {l.Header()}, "Sec-Websocket-Protocol": {"chat.v2, chat.v1"}})
	if err != nil {
		t.Fatalf("through the proxy: %v %s", err, status(resp))
	}
	defer c.Close()
	if got := c.Subprotocol(); got != "chat.v1" {
		t.Fatalf("the client was answered subprotocol %q; the upstream speaks chat.v1", got)
	}
	// An upstream that chooses none: the client is answered none.
	plain := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		c, err := (&websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}).Upgrade(rw, r, nil)
		if err == nil {
			c.Close()
		}
	}))
	defer plain.Close()
	target2, _ := url.Parse(plain.URL)
	proxy2 := httptest.NewServer(&wsauth.Proxy{Server: srv, Upstream: target2})
	defer proxy2.Close()
	c2, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(proxy2.URL, "http")+"/live",
		http.Header{"Origin": {appOrigin}, "Cookie": {l.Header()}, "Sec-Websocket-Protocol": {"chat.v2"}})
	if err != nil {
		t.Fatalf("through the proxy: %v %s", err, status(resp))
	}
	defer c2.Close()
	if got := c2.Subprotocol(); got != "" {
		t.Fatalf("the client was answered subprotocol %q; the upstream chose none", got)
	}
}

package wsauth_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/wsauth"
	"github.com/gorilla/websocket"
)

// An upstream that drops its connection without a close frame (it crashed, was killed,
// or the network between went) is not a normal closure: the proxy closes the client
// with 1011 upstream_gone, on which a client reconnects later, never with 1000, which
// tells it the server meant to end the conversation. An upstream that does close with a
// code still has it relayed.
func TestProxyUpstreamDroppedIsNotANormalClosure(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.cp.CreateUser(t, "ada@example.test", password)
	drop := make(chan struct{}, 1)
	upg := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	upsrv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		c, err := upg.Upgrade(rw, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		c.WriteMessage(websocket.TextMessage, []byte("hello"))
		if r.URL.Query().Has("close") {
			<-drop
			c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4321, "bye"))
			c.ReadMessage()
			return
		}
		<-drop
		c.UnderlyingConn().Close() // no close frame
	}))
	defer upsrv.Close()
	target, _ := url.Parse(upsrv.URL)
	proxy := httptest.NewServer(&wsauth.Proxy{Server: w.ws, Upstream: target})
	defer proxy.Close()
	l := w.cp.Login(t, "ada@example.test", password, "laptop")
	for _, tc := range []struct {
		query  string
		code   int
		reason string
	}{
		{"", 1011, "upstream_gone"},
		{"?close", 4321, "bye"},
	} {
		c, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(proxy.URL, "http")+"/live"+tc.query,
			http.Header{"Origin": {appOrigin}, "Cookie": {l.Header()}})
		if err != nil {
			t.Fatalf("through the proxy: %v %s", err, status(resp))
		}
		defer c.Close()
		if _, msg, err := c.ReadMessage(); err != nil || string(msg) != "hello" {
			t.Fatalf("greeting %q, %v", msg, err)
		}
		drop <- struct{}{}
		if code, text := closed(t, c); code != tc.code || text != tc.reason {
			t.Errorf("upstream%s: the client was closed with %d %q, want %d %q", tc.query, code, text, tc.code, tc.reason)
		}
	}
	w.waitCount(0)
}

// A client that goes without a close frame (its network dropped, its process killed) is
// passed on to the upstream as 1001 going away, as a browser leaving the page says it,
// not as 1000, a conversation ended on purpose.
func TestProxyClientGoneIsGoingAway(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.cp.CreateUser(t, "ada@example.test", password)
	up := newUpstream(t)
	target, _ := url.Parse(up.srv.URL)
	proxy := httptest.NewServer(&wsauth.Proxy{Server: w.ws, Upstream: target})
	defer proxy.Close()
	l := w.cp.Login(t, "ada@example.test", password, "laptop")
	c, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(proxy.URL, "http")+"/live",
		http.Header{"Origin": {appOrigin}, "Cookie": {l.Header()}})
	if err != nil {
		t.Fatalf("through the proxy: %v %s", err, status(resp))
	}
	if _, _, err := c.ReadMessage(); err != nil { // the upstream's greeting
		t.Fatal(err)
	}
	alive(t, c, "proxied socket")
	c.UnderlyingConn().Close() // no close frame
	if code := up.closed(t); code != websocket.CloseGoingAway {
		t.Fatalf("upstream after the client went without a word: %d, want 1001", code)
	}
	w.waitCount(0)
}

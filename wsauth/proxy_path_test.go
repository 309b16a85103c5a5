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

// pathRecorder starts a WebSocket server that sends the escaped path and query of each
// upgrade it is asked for on seen, and returns its URL.
func pathRecorder(t *testing.T) (string, <-chan string) {
	seen := make(chan string, 3)
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	upstream := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		seen <- r.URL.EscapedPath() + "?" + r.URL.RawQuery
		c, err := up.Upgrade(rw, r, nil)
		if err == nil {
			c.Close()
		}
	}))
	t.Cleanup(upstream.Close)
	return upstream.URL, seen
}

// The proxy relays the request's path as the client sent it: an encoded slash in a
// path segment (a room named "a/b") stays one segment at the upstream.
func TestProxyKeepsTheEncodedPath(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.cp.CreateUser(t, "ada@example.test", password)
	upstream, seen := pathRecorder(t)
	target, _ := url.Parse(upstream + "/base")
	proxy := httptest.NewServer(&wsauth.Proxy{Server: w.ws, Upstream: target})
	defer proxy.Close()
	l := w.cp.Login(t, "ada@example.test", password, "laptop")
	c, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(proxy.URL, "http")+"/rooms/a%2Fb?x=1",
		http.Header{"Origin": {appOrigin}, "Cookie": {l.Header()}})
	if err != nil {
		t.Fatalf("%v %s", err, status(resp))
	}
	c.Close()
	if got := <-seen; got != "/base/rooms/a%2Fb?x=1" {
		t.Fatalf("upstream asked for %q, want %q", got, "/base/rooms/a%2Fb?x=1")
	}
}

// An upstream URL's own query (a key the WebSocket server expects, say) is kept, the
// request's appended to it, as httputil.ReverseProxy joins them: neither is dropped.
func TestProxyKeepsTheUpstreamsQuery(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.cp.CreateUser(t, "ada@example.test", password)
	upstream, seen := pathRecorder(t)
	target, _ := url.Parse(upstream + "/base?key=k1")
	proxy := httptest.NewServer(&wsauth.Proxy{Server: w.ws, Upstream: target})
	defer proxy.Close()
	l := w.cp.Login(t, "ada@example.test", password, "laptop")
	for _, tc := range []struct{ query, want string }{
		{"?room=1", "/base/live?key=k1&room=1"},
		{"", "/base/live?key=k1"},
	} {
		c, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(proxy.URL, "http")+"/live"+tc.query,
			http.Header{"Origin": {appOrigin}, "Cookie": {l.Header()}})
		if err != nil {
			t.Fatalf("%v %s", err, status(resp))
		}
		c.Close()
		if got := <-seen; got != tc.want {
			t.Errorf("request %q: upstream asked for %q, want %q", "/live"+tc.query, got, tc.want)
		}
	}
}

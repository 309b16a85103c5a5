package wsauth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/wsauth"
	"github.com/gorilla/websocket"
)

// An upstream that stops reading (hung, deadlocked, overloaded) does not hold the
// proxied connection forever: a write to it that stalls for the proxy's write timeout
// (10 s by default) ends the relay, the client is closed with 1011 upstream_gone, and
// nothing stays registered. Before, the relay blocked on that write until the session
// ended (days), and read nothing more from the client, not even its close.
func TestProxyGivesUpAStuckUpstream(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.cp.CreateUser(t, "ada@example.test", password)
	upg := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	stop := make(chan struct{})
	upsrv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		c, err := upg.Upgrade(rw, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		<-stop // never reads
	}))
	defer upsrv.Close()
	defer close(stop)
	target, _ := url.Parse(upsrv.URL)
	proxy := httptest.NewServer(&wsauth.Proxy{Server: w.ws, Upstream: target})
	defer proxy.Close()
	l := w.cp.Login(t, "ada@example.test", password, "laptop")
	c, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(proxy.URL, "http")+"/live",
		http.Header{"Origin": {appOrigin}, "Cookie": {l.Header()}})
	if err != nil {
		t.Fatalf("through the proxy: %v %s", err, status(resp))
	}
	defer c.Close()
	// Send until every buffer on the way to the upstream is full.
	chunk := make([]byte, 64<<10)
	for sent := 0; ; sent++ {
		c.SetWriteDeadline(time.Now().Add(500 * time.Millisecond))
		if err := c.WriteMessage(websocket.BinaryMessage, chunk); err != nil {
			t.Logf("the client's writes stall after %d KiB", sent*64)
			break
		}
		if sent > 4096 {
			t.Fatal("256 MiB reached an upstream that reads nothing")
		}
	}
	start := time.Now()
	if code, text := closed(t, c); code != wsauth.CloseUpstreamGone || text != "upstream_gone" {
		t.Fatalf("client: %d %q, want 1011 upstream_gone", code, text)
	}
	t.Logf("closed after %v", time.Since(start).Round(time.Millisecond))
	w.waitCount(0)
}

// A client that stops reading does not hold the upstream forever either: once a write
// to it has stalled for the write timeout, the upstream is closed with 1001 going_away
// (the client is gone as far as it can tell) and nothing stays registered.
func TestProxyGivesUpAClientThatStopsReading(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.cp.CreateUser(t, "ada@example.test", password)
	upg := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	upClosed := make(chan int, 1)
	upsrv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		c, err := upg.Upgrade(rw, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		go func() {
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					var ce *websocket.CloseError
					if errors.As(err, &ce) {
						upClosed <- ce.Code
					} else {
						upClosed <- -1
					}
					return
				}
			}
		}()
		chunk := make([]byte, 64<<10)
		for c.WriteMessage(websocket.BinaryMessage, chunk) == nil {
		}
	}))
	defer upsrv.Close()
	target, _ := url.Parse(upsrv.URL)
	proxy := httptest.NewServer(&wsauth.Proxy{Server: w.ws, Upstream: target})
	defer proxy.Close()
	l := w.cp.Login(t, "ada@example.test", password, "laptop")
	c, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(proxy.URL, "http")+"/live",
		http.Header{"Origin": {appOrigin}, "Cookie": {l.Header()}})
	if err != nil {
		t.Fatalf("through the proxy: %v %s", err, status(resp))
	}
	defer c.Close() // and never reads
	select {
	case code := <-upClosed:
		if code != websocket.CloseGoingAway {
			t.Fatalf("upstream: closed with %d, want 1001", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the upstream is still held 30 s after the client stopped reading")
	}
	w.waitCount(0)
}

package wsauth_test

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/sessionauth"
	"github.com/edgeauth/edgeauth/wsauth"
	"github.com/gorilla/websocket"
)

// hijackHook holds an upgrade between its authorization and its registration: the
// upgrader's Hijack waits until the test releases it.
type hijackHook struct {
	http.ResponseWriter
	entered chan<- struct{}
	release <-chan struct{}
}

func (h hijackHook) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h.entered <- struct{}{}
	<-h.release
	return h.ResponseWriter.(http.Hijacker).Hijack()
}

// A source that turns stale while an upgrade it authorized is being completed tells
// its watchers once, before that socket is registered: the socket is closed with 1013
// all the same, not left open while revocations are unknown.
func TestSocketRegisteredAfterStaleIsClosed(t *testing.T) {
	var offset atomic.Int64
	srcNow := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	w := newWorld(t, worldOptions{srcNow: srcNow, maxStale: time.Minute, pollEvery: 20 * time.Millisecond})
	w.cp.CreateUser(t, "ada@example.test", password)
	l := w.cp.Login(t, "ada@example.test", password, "laptop")

	entered, release := make(chan struct{}), make(chan struct{})
	app := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		c, err := w.ws.Upgrade(hijackHook{rw, entered, release}, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}))
	defer app.Close()

	type dialed struct {
		c   *websocket.Conn
		err error
	}
	done := make(chan dialed, 1)
	go func() {
		c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(app.URL, "http"),
			http.Header{"Origin": {appOrigin}, "Cookie": {l.Header()}})
		done <- dialed{c, err}
	}()
	select {
	case <-entered: // authorized, not yet registered
	case <-time.After(30 * time.Second):
		t.Fatal("the upgrade was not authorized")
	}

	// The control plane goes away and the source turns stale; watchers hear it now.
	stale := make(chan struct{})
	var once sync.Once
	defer w.src.Watch(func(c sessionauth.Change) {
		if c.Stale {
			once.Do(func() { close(stale) })
		}
	})()
	w.cp.Server.Listener.Close()
	w.cp.Server.CloseClientConnections()
	w.cp.App.Revocations.EndStreams()
	for heard := false; !heard; {
		offset.Add(int64(time.Minute)) // a poll that got through just before may stamp a later time
		select {
		case <-stale:
			heard = true
		case <-time.After(20 * time.Millisecond):
		}
	}

	close(release)
	d := <-done
	if d.err != nil {
		t.Fatalf("dial: %v", d.err)
	}
	defer d.c.Close()
	if code, text := closed(t, d.c); code != wsauth.CloseAuthUnavailable || text != "auth_unavailable" {
		t.Fatalf("socket registered after the source turned stale: %d %q", code, text)
	}
	w.waitCount(0)
}

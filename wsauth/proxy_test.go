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

// upstream is a WebSocket server behind the proxy: it sends back the identity headers
// it received, echoes, and reports how each connection was closed.
type upstream struct {
	srv    *httptest.Server
	closes chan int
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{closes: make(chan int, 16)}
	// It trusts the edge's Origin check (the page's origin is not its own host here).
	up := websocket.Upgrader{Subprotocols: []string{"chat.v1"}, CheckOrigin: func(*http.Request) bool { return true }}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		var seen []string
		for name, v := range r.Header {
			if strings.Contains(strings.ToLower(name), "edgeauth") {
				seen = append(seen, name+"="+strings.Join(v, ","))
			}
		}
		c.WriteMessage(websocket.TextMessage, []byte(strings.Join(sorted(seen), "; ")))
		for {
			kind, msg, err := c.ReadMessage()
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				u.closes <- ce.Code
				return
			}
			if err != nil {
				u.closes <- -1
				return
			}
			c.WriteMessage(kind, msg)
		}
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func sorted(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

func (u *upstream) closed(t *testing.T) int {
	t.Helper()
	select {
	case code := <-u.closes:
		return code
	case <-time.After(30 * time.Second):
		t.Fatal("upstream connection not closed")
	}
	return 0
}

// The proxy relays an authorized socket to the upstream with the identity headers
// (client-sent spellings removed), negotiates the upstream's subprotocol, and when the
// session ends closes both sides with the session's close code; a client closing is
// passed on too.
func TestProxy(t *testing.T) {
	w := newWorld(t, worldOptions{})
	user := w.cp.CreateUser(t, "ada@example.test", password, "editor")
	up := newUpstream(t)
	target, _ := url.Parse(up.srv.URL + "/base")
	proxy := httptest.NewServer(&wsauth.Proxy{Server: w.ws, Upstream: target})
	defer proxy.Close()
	proxyURL := "ws" + strings.TrimPrefix(proxy.URL, "http") + "/live?room=1"

	l := w.cp.Login(t, "ada@example.test", password, "laptop")
	h := http.Header{"Origin": {appOrigin}, "Cookie": {l.Header()}, "Sec-Websocket-Protocol": {"chat.v1"},
		"X-Edgeauth-Subject": {"mallory"}, "X_Edgeauth_Roles": {"admin"}, "X-EdgeAuth-session": {"stolen"}}
	c, resp, err := websocket.DefaultDialer.Dial(proxyURL, h)
	if err != nil {
		t.Fatalf("through the proxy: %v %s", err, status(resp))
	}
	defer c.Close()
	if c.Subprotocol() != "chat.v1" {
		t.Fatalf("subprotocol %q", c.Subprotocol())
	}
	_, msg, err := c.ReadMessage()
	want := "X-Edgeauth-Expires-At=" // then the other four, exactly these
	if err != nil || !strings.HasPrefix(string(msg), want) || !strings.Contains(string(msg), "X-Edgeauth-Roles=editor;") ||
		!strings.Contains(string(msg), "X-Edgeauth-Second-Factor=false;") ||
		!strings.Contains(string(msg), "X-Edgeauth-Session="+l.SessionID+";") || !strings.HasSuffix(string(msg), "X-Edgeauth-Subject="+user.ID) ||
		strings.Count(string(msg), "=") != 5 {
		t.Fatalf("upstream saw %q, %v", msg, err)
	}
	alive(t, c, "proxied socket")

	// Refused like a direct upgrade, and nothing reaches the upstream.
	_, resp, err = websocket.DefaultDialer.Dial(proxyURL, http.Header{"Origin": {"https://evil.example"}, "Cookie": {l.Header()}})
	if st, code, _ := refusal(t, resp, err); st != 403 || code != "origin_not_allowed" {
		t.Fatalf("foreign origin through the proxy: %d %s", st, code)
	}

	// The session ends: both sides close with its code.
	if resp := w.cp.As(t, l, http.MethodPost, "/auth/logout"); resp.StatusCode != http.StatusNoContent {
		t.Fatal(resp.Status)
	}
	if code, text := closed(t, c); code != wsauth.CloseLogout || text != "logout" {
		t.Fatalf("client after logout: %d %q", code, text)
	}
	if code := up.closed(t); code != wsauth.CloseLogout {
		t.Fatalf("upstream after logout: %d", code)
	}

	// A client that closes: the upstream hears the same code.
	l2 := w.cp.Login(t, "ada@example.test", password, "phone")
	c2, _, err := websocket.DefaultDialer.Dial(proxyURL, http.Header{"Origin": {appOrigin}, "Cookie": {l2.Header()}})
	if err != nil {
		t.Fatal(err)
	}
	c2.ReadMessage()
	c2.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4321, "bye"))
	if code := up.closed(t); code != 4321 {
		t.Fatalf("upstream after the client closed: %d", code)
	}
	c2.Close()
	w.waitCount(0)

	// An upstream that is down: 502 before the client is upgraded.
	up.srv.Close()
	_, resp, err = websocket.DefaultDialer.Dial(proxyURL, http.Header{"Origin": {appOrigin}, "Cookie": {l2.Header()}})
	if st, code, _ := refusal(t, resp, err); st != 502 || code != "upstream_unavailable" {
		t.Fatalf("upstream down: %d %s", st, code)
	}
}

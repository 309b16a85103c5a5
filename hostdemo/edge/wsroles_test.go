package edge_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/hostdemo/edge"
	"github.com/edgeauth/edgeauth/sessionauth"
	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/wsauth"
	"github.com/gorilla/websocket"
)

const wsOrigin = "https://app.example.test"

// socketRoute is an edge with two WebSocket routes, /ws/admin/ for role admin and
// /ws/vault/ for a sign-in with a second factor (the URL returned is /ws/admin/'s), relayed
// by wsauth.Proxy behind Gate.RouteRules to an upstream that greets each connection
// with the subject the edge forwarded. checker builds the proxy's checker.
func socketRoute(t *testing.T, cp *standIn, now int64, checker func(*sessionauth.Source) *sessionauth.Checker) string {
	t.Helper()
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	clock := func() time.Time { return time.Unix(now, 0) }
	e := verifier.NewNative()
	t.Cleanup(func() { e.Close(ctx) })
	if err := e.Configure(ctx, verifier.Config{EdgeConfig: cp.edgeConfig(), LocalConfig: verifier.LocalConfig{
		Protected: []verifier.ProtectedRoute{{Prefix: "/ws/admin/", Roles: []string{"admin"}}, {Prefix: "/ws/vault/", MFA: true}}}}); err != nil {
		t.Fatal(err)
	}
	src, err := sessionauth.NewSource(sessionauth.SourceConfig{ControlPlane: cp.srv.URL, Engine: e, NoStream: true, Now: clock, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	sockets, err := wsauth.New(wsauth.Config{Checker: checker(src), AllowedOrigins: []string{wsOrigin}, Logger: quiet,
		CloseHandshake: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sockets.Close() })
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		c.WriteMessage(websocket.TextMessage, []byte("hello "+r.Header.Get("X-Edgeauth-Subject")))
		c.ReadMessage()
	}))
	t.Cleanup(upstream.Close)
	up, _ := url.Parse("ws" + strings.TrimPrefix(upstream.URL, "http"))
	g := &edge.Gate{Engine: e, Source: src, Now: clock, Logger: quiet}
	front := httptest.NewServer(g.RouteRules(&wsauth.Proxy{Server: sockets, Upstream: up}))
	t.Cleanup(front.Close)
	return "ws" + strings.TrimPrefix(front.URL, "http") + "/ws/admin/console"
}

// refusedBeforeUpgrade dials u and wants a refusal with status want and a JSON body,
// not an upgraded socket.
func refusedBeforeUpgrade(t *testing.T, u string, h http.Header, want int) {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial(u, h)
	if err == nil {
		_, msg, _ := c.ReadMessage()
		c.Close()
		t.Fatalf("upgraded at /ws/admin/ (role admin); the upstream greeted: %q", msg)
	}
	if resp == nil {
		t.Fatalf("no answer: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("answered %d %q %s, want %d with JSON", resp.StatusCode, resp.Header.Get("Content-Type"), body, want)
	}
}

// The route's roles apply to the identity the proxy authorises, not to the token the
// gate read: a proxy whose checker reads another cookie than the gate (here one named
// by CheckerConfig.AccessCookie) accepted a member's token under /ws/admin/ while the
// gate had checked role admin on an admin's token, and the member's socket opened.
func TestRouteRulesCheckTheIdentityTheProxyAuthorises(t *testing.T) {
	now := time.Now().Unix()
	cp := newStandIn(t, "https://auth.example.test", now)
	u := socketRoute(t, cp, now, func(src *sessionauth.Source) *sessionauth.Checker {
		chk, err := sessionauth.NewChecker(src, sessionauth.CheckerConfig{AccessCookie: "other"})
		if err != nil {
			t.Fatal(err)
		}
		return chk
	})
	admin := cp.token("root", "s-admin", []string{"admin"}, nil)
	member := cp.token("ada", "s-member", []string{"member"}, nil)
	refusedBeforeUpgrade(t, u, http.Header{"Origin": {wsOrigin}, "Cookie": {"at=" + admin + "; other=" + member}}, http.StatusForbidden)

	// The admin's token, read by both: upgraded, as the admin.
	c, resp, err := websocket.DefaultDialer.Dial(u, http.Header{"Origin": {wsOrigin}, "Cookie": {"at=" + admin + "; other=" + admin}})
	if err != nil {
		t.Fatalf("admin: %v %v", err, resp)
	}
	defer c.Close()
	if _, msg, _ := c.ReadMessage(); string(msg) != "hello root" {
		t.Fatalf("admin: greeted %q", msg)
	}
}

// A second factor the route asks for applies to the identity the proxy authorises too:
// the gate read a token with one, the proxy's checker (another cookie) one without.
func TestRouteRulesCheckTheSecondFactorOfTheIdentityTheProxyAuthorises(t *testing.T) {
	now := time.Now().Unix()
	cp := newStandIn(t, "https://auth.example.test", now)
	u := strings.Replace(socketRoute(t, cp, now, func(src *sessionauth.Source) *sessionauth.Checker {
		chk, err := sessionauth.NewChecker(src, sessionauth.CheckerConfig{AccessCookie: "other"})
		if err != nil {
			t.Fatal(err)
		}
		return chk
	}), "/ws/admin/", "/ws/vault/", 1)
	strong := cp.token("ada", "s-1", []string{}, map[string]any{"amr": []string{"pwd", "otp", "mfa"}})
	weak := cp.token("ada", "s-2", []string{}, map[string]any{"amr": []string{"pwd"}})
	refusedBeforeUpgrade(t, u, http.Header{"Origin": {wsOrigin}, "Cookie": {"at=" + weak + "; other=" + weak}}, http.StatusForbidden)
	refusedBeforeUpgrade(t, u, http.Header{"Origin": {wsOrigin}, "Cookie": {"at=" + strong + "; other=" + weak}}, http.StatusForbidden)

	c, resp, err := websocket.DefaultDialer.Dial(u, http.Header{"Origin": {wsOrigin}, "Cookie": {"at=" + strong + "; other=" + strong}})
	if err != nil {
		t.Fatalf("with a second factor: %v %v", err, resp)
	}
	defer c.Close()
	if _, msg, _ := c.ReadMessage(); string(msg) != "hello ada" {
		t.Fatalf("greeted %q", msg)
	}
}

// The proxy authorises an upgrade once, and the route's roles are checked on that
// identity: RouteRules used to ask the proxy's Authorize about a request the gate
// found no valid token in, and hand it on when refused, after which the proxy
// authorised it again. A token the second check accepts (here one whose nbf the
// proxy's clock reaches between the two checks) opened a member's socket under
// /ws/admin/.
func TestRouteRulesAuthoriseOnce(t *testing.T) {
	now := time.Now().Unix()
	cp := newStandIn(t, "https://auth.example.test", now)
	var calls atomic.Int64
	u := socketRoute(t, cp, now, func(src *sessionauth.Source) *sessionauth.Checker {
		chk, err := sessionauth.NewChecker(src, sessionauth.CheckerConfig{
			Now: func() time.Time { return time.Unix(now+calls.Add(1)-1, 0) }}) // a second per check
		if err != nil {
			t.Fatal(err)
		}
		return chk
	})
	member := cp.token("ada", "s-member", []string{"member"}, map[string]any{"nbf": now + 1})
	c, resp, err := websocket.DefaultDialer.Dial(u, http.Header{"Origin": {wsOrigin}, "Cookie": {"at=" + member}})
	if err == nil {
		_, msg, _ := c.ReadMessage()
		c.Close()
		t.Fatalf("upgraded at /ws/admin/ (role admin) after %d checks; the upstream greeted: %q", calls.Load(), msg)
	}
	if resp == nil || resp.StatusCode/100 != 4 {
		t.Fatalf("answered %v %v, want a 4xx refusal", resp, err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("the token was checked %d times, want once", n)
	}
}

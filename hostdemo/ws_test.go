package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/auth"
	"github.com/gorilla/websocket"
)

// identityEcho is an upstream WebSocket server that greets each connection with every
// request header it received whose name mentions "edgeauth" (any case or spelling),
// as "Name=value" lines, sorted.
func identityEcho(t *testing.T) string {
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var seen []string
		for k, vs := range r.Header {
			if strings.Contains(strings.ToLower(k), "edgeauth") {
				for _, v := range vs {
					seen = append(seen, k+"="+v)
				}
			}
		}
		sort.Strings(seen)
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		c.WriteMessage(websocket.TextMessage, []byte(strings.Join(seen, "\n")))
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// cookie returns the name and value of the browser's cookie whose name ends in suffix
// (edgeauth_at, edgeauth_rt).
func (d *demo) cookie(suffix string) (string, string) {
	d.t.Helper()
	u, _ := url.Parse(d.url + "/auth/refresh") // within both cookies' paths
	for _, c := range d.browser.Jar.Cookies(u) {
		if strings.HasSuffix(c.Name, suffix) {
			return c.Name, c.Value
		}
	}
	d.t.Fatalf("no cookie *%s", suffix)
	return "", ""
}

// Through the hostdemo binary (a WebSocket route relayed by wsauth.Proxy): identity
// headers a client forges, in any spelling, never reach the upstream, which sees the
// edge's four; an access token that has expired while its session is live is answered
// 401 token_expired (refresh and retry, no redirect), and after POST /auth/refresh the
// same client's retry is upgraded.
func TestBinarySocketRefreshAndRetryAndForgedIdentity(t *testing.T) {
	d := startDemo(t, demoOptions{args: []string{"--ws", "/sock=" + identityEcho(t)}})
	u := d.signIn("ada@example.test", "editor")
	wsURL := "ws" + strings.TrimPrefix(d.url, "http") + "/sock"
	accessToken := func() string { _, v := d.cookie("edgeauth_at"); return v }
	dial := func(token string, extra http.Header) (*websocket.Conn, *http.Response, error) {
		access, _ := d.cookie("edgeauth_at")
		refresh, rt := d.cookie("edgeauth_rt")
		h := http.Header{"Origin": {d.url}, "Cookie": {access + "=" + token + "; " + refresh + "=" + rt}}
		for k, v := range extra {
			h[k] = v
		}
		return websocket.DefaultDialer.Dial(wsURL, h)
	}
	greeting := func(c *websocket.Conn) string {
		t.Helper()
		_, msg, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		return string(msg)
	}

	// Forged identity headers: gone; the upstream sees exactly the edge's values.
	c, resp, err := dial(accessToken(), http.Header{
		"X-Edgeauth-Subject": {"mallory"}, "X_Edgeauth_Roles": {"admin"}, "X-EdgeAuth-session": {"stolen"},
		"X.Edgeauth.Expires.At": {"2099-01-01T00:00:00Z"},
	})
	if err != nil {
		t.Fatalf("socket: %v %v", err, resp)
	}
	seen := greeting(c)
	c.Close()
	lines := strings.Split(seen, "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "X-Edgeauth-Expires-At=") || lines[1] != "X-Edgeauth-Roles=editor" ||
		lines[2] != "X-Edgeauth-Second-Factor=false" ||
		!strings.HasPrefix(lines[3], "X-Edgeauth-Session=") || lines[3] == "X-Edgeauth-Session=stolen" || lines[4] != "X-Edgeauth-Subject="+u.ID {
		t.Fatalf("the upstream saw:\n%s", seen)
	}

	// The same session's access token, expired: signed by the control plane's active
	// key like every token, exp five minutes ago (past the one-minute leeway).
	claims := accessClaims(t, accessToken())
	now := time.Now().Unix()
	claims.IssuedAt, claims.NotBefore, claims.ExpiresAt = now-15*60, now-15*60, now-5*60
	expired, err := d.cp.Keys.Sign(context.Background(), claims, "at+jwt")
	if err != nil {
		t.Fatal(err)
	}
	_, resp, err = dial(expired, nil)
	if !errors.Is(err, websocket.ErrBadHandshake) || resp == nil {
		t.Fatalf("expired token: %v", err)
	}
	var body struct {
		Error struct{ Code, Message string }
	}
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &body)
	if resp.StatusCode != http.StatusUnauthorized || body.Error.Code != "token_expired" || !strings.Contains(body.Error.Message, "refresh") ||
		resp.Header.Get("Location") != "" {
		t.Fatalf("expired token with a live session: %s %s (Location %q)", resp.Status, b, resp.Header.Get("Location"))
	}
	// Refresh through the edge, as the page does, then retry: upgraded, same session.
	if resp, b := d.do(http.MethodPost, "/auth/refresh", "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh: %s %s", resp.Status, b)
	}
	c, resp, err = dial(accessToken(), nil)
	if err != nil {
		t.Fatalf("retry after refresh: %v %v", err, resp)
	}
	defer c.Close()
	if seen := greeting(c); !strings.Contains(seen, "X-Edgeauth-Session="+claims.SessionID+"\n") {
		t.Fatalf("after refresh the upstream saw:\n%s", seen)
	}
}

// accessClaims decodes an access token's payload (already verified by whoever issued it).
func accessClaims(t *testing.T, token string) auth.AccessClaims {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c auth.AccessClaims
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// A WebSocket route under a prefix the edge's routes reserve for a role (/admin/ for
// role admin, the default routes) must not let a signed-in user without that role in.
func TestBinaryWebSocketRouteKeepsRouteRoles(t *testing.T) {
	d := startDemo(t, demoOptions{args: []string{"--ws", "/admin/console=" + identityEcho(t)}})
	d.signIn("ada@example.test", "editor") // no admin role
	if resp, _ := d.do(http.MethodGet, "/admin/", "", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("GET /admin/ without the role: %s, want 403", resp.Status)
	}
	access, at := d.cookie("edgeauth_at")
	c, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(d.url, "http")+"/admin/console",
		http.Header{"Origin": {d.url}, "Cookie": {access + "=" + at}})
	if err == nil {
		_, msg, _ := c.ReadMessage()
		c.Close()
		t.Fatalf("socket at /admin/console without role admin: upgraded (%s); the upstream saw:\n%s", resp.Status, msg)
	}
	if resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("socket at /admin/console without role admin: %v %v, want 403", err, resp)
	}
	// With the role: upgraded.
	d.signIn("root@example.test", "admin")
	access, at = d.cookie("edgeauth_at")
	c, resp, err = websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(d.url, "http")+"/admin/console",
		http.Header{"Origin": {d.url}, "Cookie": {access + "=" + at}})
	if err != nil {
		t.Fatalf("socket at /admin/console with role admin: %v %v", err, resp)
	}
	c.Close()
}

// A WebSocket route's role rule held for the access cookie but not for a bearer token
// whose header ended in a Unicode space (U+00A0): the gate read no valid token (a
// redirect) while the proxy's checker trimmed the space and upgraded the member's
// socket under /admin/ without role admin. Now the checker reads a bearer header as
// the gate does, and RouteRules has the proxy authorize once (wsauth.Proxy.ServePermitted)
// and checks the route's rules on the identity it authorized: a path the gate found no
// valid token for admits none. Through the binary with allow_bearer: every spelling of
// a bearer header is refused without role admin, and an admin's token still opens the
// socket.
func TestBinaryWebSocketRouteKeepsRouteRolesForBearerTokens(t *testing.T) {
	routes := filepath.Join(t.TempDir(), "routes.json")
	if err := os.WriteFile(routes, []byte(`{"public_paths":["/","/auth/","/.well-known/"],`+
		`"protected":[{"prefix":"/app/"},{"prefix":"/admin/","roles":["admin"]}],"allow_bearer":true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDemo(t, demoOptions{args: []string{"--routes", routes, "--ws", "/admin/console=" + identityEcho(t)}})
	wsURL := "ws" + strings.TrimPrefix(d.url, "http") + "/admin/console"
	d.signIn("ada@example.test", "editor") // no admin role
	_, member := d.cookie("edgeauth_at")
	for _, spelling := range []string{"Bearer %s", "Bearer %s\u00a0", "Bearer \u00a0%s", "bearer  %s\u0085", "Bearer %s\u3000"} {
		header := fmt.Sprintf(spelling, member)
		c, resp, err := websocket.DefaultDialer.Dial(wsURL, http.Header{"Authorization": {header}})
		if err == nil {
			_, msg, _ := c.ReadMessage()
			c.Close()
			t.Fatalf("Authorization %q without role admin: upgraded at /admin/console; the upstream saw:\n%s", header, msg)
		}
		if resp == nil || resp.StatusCode/100 != 4 {
			t.Fatalf("Authorization %q without role admin: %v %v, want a 4xx refusal", header, err, resp)
		}
	}
	d.browser.Jar, _ = cookiejar.New(nil)
	d.signIn("root@example.test", "admin")
	_, admin := d.cookie("edgeauth_at")
	c, resp, err := websocket.DefaultDialer.Dial(wsURL, http.Header{"Authorization": {"Bearer " + admin}})
	if err != nil {
		t.Fatalf("bearer token with role admin: %v %v", err, resp)
	}
	c.Close()
}

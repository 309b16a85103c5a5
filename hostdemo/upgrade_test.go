package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// switchingApp is an upstream that switches protocols whenever a request asks to (as
// an h2c-capable server does for "Upgrade: h2c"), then reads the next request from the
// switched connection as HTTP/1.1 and records it. It returns the upstream's URL and
// what it has seen: the Upgrade header of each ordinary request, and each request that
// arrived over a switched connection.
func switchingApp(t *testing.T) (string, func() (upgrades, tunneled []string)) {
	var mu sync.Mutex
	var upgrades, tunneled []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		up := r.Header.Get("Upgrade")
		mu.Lock()
		upgrades = append(upgrades, up)
		mu.Unlock()
		if up == "" {
			io.WriteString(w, "upstream")
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprintf(conn, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: %s\r\n\r\n", up)
		next, err := http.ReadRequest(brw.Reader)
		if err != nil {
			return
		}
		mu.Lock()
		tunneled = append(tunneled, fmt.Sprintf("%s %s subject=%q roles=%q", next.Method, next.RequestURI,
			next.Header.Get("X-Edgeauth-Subject"), next.Header.Get("X-Edgeauth-Roles")))
		mu.Unlock()
		io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\ntunneled")
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() ([]string, []string) {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), upgrades...), append([]string(nil), tunneled...)
	}
}

// An upgrade on a gated (non-WebSocket) route was relayed to the upstream by the
// reverse proxy, and once the upstream switched protocols the edge turned the
// connection into a raw tunnel: every later request on it (an h2c upgrade's HTTP/2
// streams, or plain HTTP/1.1 as here) reached the upstream without being decided, with
// whatever identity headers the client wrote, and a WebSocket opened this way outlived
// the session. Through the binary: an anonymous client asking for h2c on the public
// page, and a member asking for a WebSocket on /app/, get the upstream's ordinary answer;
// the upstream never sees an Upgrade, and nothing reaches it that the gate did not decide.
func TestBinaryDoesNotSwitchProtocolsOnGatedRoutes(t *testing.T) {
	upstream, seen := switchingApp(t)
	d := startDemo(t, demoOptions{args: []string{"--upstream", upstream}})
	addr := strings.TrimPrefix(d.url, "http://")
	d.signIn("member@example.test")
	access, at := d.cookie("edgeauth_at")

	for _, tc := range []struct{ name, request string }{
		{"h2c on a public page", "GET / HTTP/1.1\r\nHost: " + addr + "\r\n" +
			"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n"},
		{"websocket on a protected page", "GET /app/ HTTP/1.1\r\nHost: " + addr + "\r\nOrigin: " + d.url + "\r\n" +
			"Cookie: " + access + "=" + at + "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
			"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := dialRaw(t, addr)
			conn.SetDeadline(time.Now().Add(30 * time.Second)) // only keeps a broken edge from hanging the test
			io.WriteString(conn, tc.request)
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode == http.StatusSwitchingProtocols {
				// What a client can do with the switched connection: a request the gate never sees.
				fmt.Fprintf(conn, "GET /admin/users HTTP/1.1\r\nHost: %s\r\nX-Edgeauth-Subject: mallory\r\nX-Edgeauth-Roles: admin\r\n\r\n", addr)
				if resp, err := http.ReadResponse(br, nil); err == nil {
					io.Copy(io.Discard, resp.Body)
				}
				_, tunneled := seen()
				t.Fatalf("the edge switched protocols on a gated route; over the switched connection the upstream got %q", tunneled)
			}
			if resp.StatusCode != http.StatusOK || string(body) != "upstream" {
				t.Fatalf("%s %q, want the upstream's ordinary answer", resp.Status, body)
			}
		})
	}
	upgrades, tunneled := seen()
	for _, up := range upgrades {
		if up != "" {
			t.Fatalf("the upstream was asked to switch to %q (all Upgrade headers it saw: %q)", up, upgrades)
		}
	}
	if len(tunneled) != 0 {
		t.Fatalf("requests reached the upstream undecided: %q", tunneled)
	}
}

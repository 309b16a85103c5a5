package edge_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
)

// A chunked body may end with trailers its headers never announced, and net/http's
// server merges them into Request.Trailer once the body is read: after the gate has
// decided. Whatever serves the request past the gate (its Upstream, a handler behind
// RouteRules) finds no client-sent identity header there either, in any spelling.
func TestUnannouncedTrailersCarryNoIdentityHeader(t *testing.T) {
	seen := make(chan http.Header, 1)
	upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		seen <- r.Trailer.Clone()
	})
	g, cp := newStandInGate(t, upstream)
	mux := http.NewServeMux()
	mux.Handle("/", g)
	mux.Handle("/rr/", g.RouteRules(upstream))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	tok := cp.token("ada", "s-1", []string{"member"}, nil)
	for _, c := range []struct{ name, path, announce string }{
		{"gate, protected", "/app/x", ""},
		{"gate, public", "/pub/x", ""},
		{"gate, another trailer announced", "/app/x", "Trailer: Foo\r\n"},
		{"route rules", "/rr/x", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: app.example.test\r\nCookie: at=%s\r\nTransfer-Encoding: chunked\r\n%s\r\n"+
				"3\r\nabc\r\n0\r\nX-Edgeauth-Subject: admin\r\nX_Edgeauth_Roles: admin\r\nFoo: bar\r\n\r\n", c.path, tok, c.announce)
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			select {
			case tr := <-seen:
				for name, v := range tr {
					if verifier.IsReservedHeader(name) {
						t.Errorf("the upstream read the client's trailer %s: %q", name, v)
					}
				}
			default:
				t.Fatalf("not forwarded: %s", res.Status)
			}
		})
	}
}

package app_test

import (
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/revocation"
	"github.com/edgeauth/edgeauth/internal/cptest"
	"github.com/edgeauth/edgeauth/internal/pgtest"
	"github.com/golang-jwt/jwt/v5"
)

// failoverProxy stands between a control plane and PostgreSQL as a managed database's
// address does: Failover leaves the connections open until then hanging (the old
// primary gone from the network: nothing refused, nothing answered) while new
// connections reach the database (the new primary).
type failoverProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	pairs []*proxied
}

type proxied struct {
	client, server net.Conn
	hole           bool // cut by Failover: the client side stays open and silent
}

func newFailoverProxy(t *testing.T, target string) *failoverProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &failoverProxy{ln: ln, target: target}
	t.Cleanup(p.close)
	go p.serve()
	return p
}

func (p *failoverProxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

func (p *failoverProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		pr := &proxied{client: c, server: s}
		p.mu.Lock()
		p.pairs = append(p.pairs, pr)
		p.mu.Unlock()
		// When a side ends, the other is closed, unless Failover made the pair a black
		// hole: its client side then stays open and silent until the test ends.
		pipe := func(dst, src net.Conn) {
			_, _ = io.Copy(dst, src)
			p.mu.Lock()
			hole := pr.hole
			p.mu.Unlock()
			s.Close()
			if !hole {
				c.Close()
			}
		}
		go pipe(s, c)
		go pipe(c, s)
	}
}

// Failover cuts every open connection from the database without telling its client.
func (p *failoverProxy) Failover() {
	p.mu.Lock()
	for _, pr := range p.pairs {
		pr.hole = true
	}
	old := slices.Clone(p.pairs)
	p.mu.Unlock()
	for _, pr := range old {
		pr.server.Close()
	}
}

func (p *failoverProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range p.pairs {
		pr.client.Close()
		pr.server.Close()
	}
}

// TestRevocationsHeardAfterAFailover: a managed database's failover can leave a
// replica's connections to the old primary open and silent, while the new primary
// answers new connections. A session revoked through another replica then must still
// reach this replica's revocation list (served over HTTP) without a restart: its
// LISTEN connection and its rebuilds must not wait on the old primary for good.
//
// It takes 30-60 s (a cluster of its own, two control planes, and the listener's
// bounds to run out), so it runs only with EDGEAUTH_LONG_TESTS=1.
func TestRevocationsHeardAfterAFailover(t *testing.T) {
	if os.Getenv("EDGEAUTH_LONG_TESTS") != "1" {
		t.Skip("takes 30-60 s: set EDGEAUTH_LONG_TESTS=1")
	}
	t.Parallel()
	pg := pgtest.StartServer(t)
	direct := pg.NewDatabase(t)
	proxy := newFailoverProxy(t, "127.0.0.1:"+strconv.Itoa(pg.Port()))
	viaProxy := strings.Replace(direct, ":"+strconv.Itoa(pg.Port())+"/", ":"+strconv.Itoa(proxy.port())+"/", 1)
	a := cptest.Start(t, cptest.Options{DatabaseURL: viaProxy})
	b := cptest.Start(t, cptest.Options{DatabaseURL: direct}) // the other replica
	b.CreateUser(t, "ada@example.test", "correct horse battery staple")
	s := b.Login(t, "ada@example.test", "correct horse battery staple", "device")
	waitFor(t, "replica a's revocation listener", func() bool { return a.App.Revocations.Ready() == nil })

	proxy.Failover()
	if r := b.As(t, s, http.MethodPost, "/auth/logout"); r.StatusCode != http.StatusNoContent {
		t.Fatalf("logout through replica b: %s", r.Status)
	}
	// Replica a's list names the session once it hears of the revocation. The bound is
	// a guard against waiting for good (its rebuilds alone come every 20 s).
	deadline := time.Now().Add(90 * time.Second)
	for {
		r := a.Do(t, http.MethodGet, "/.well-known/edgeauth/revocations", nil, nil)
		body, _ := io.ReadAll(r.Body)
		var c revocation.Claims
		if r.StatusCode == http.StatusOK {
			if _, _, err := jwt.NewParser().ParseUnverified(string(body), &c); err != nil {
				t.Fatal(err)
			}
			if slices.Contains(c.SessionIDs, s.SessionID) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica a still does not list the session revoked after the failover: %s %.60s", r.Status, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

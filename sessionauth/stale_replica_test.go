package sessionauth_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/httpapi"
	"github.com/edgeauth/edgeauth/internal/cptest"
	"github.com/edgeauth/edgeauth/internal/pgtest"
	"github.com/edgeauth/edgeauth/sessionauth"
)

// pgLink relays TCP connections to PostgreSQL until cut: then every connection is
// closed and new ones are dropped, as when a replica loses its network path to the
// database.
type pgLink struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	cut   bool
}

func newPGLink(t *testing.T, target string) *pgLink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &pgLink{ln: ln}
	t.Cleanup(func() { ln.Close(); l.sever() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			l.mu.Lock()
			if err != nil || l.cut {
				l.mu.Unlock()
				c.Close()
				if up != nil {
					up.Close()
				}
				continue
			}
			l.conns = append(l.conns, c, up)
			l.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	return l
}

func (l *pgLink) sever() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cut = true
	for _, c := range l.conns {
		c.Close()
	}
}

// Two replicas behind a balancer; an edge's revocation stream lands on replica A, which
// then loses PostgreSQL: it hears no revocation and its list expires (it answers 503 to
// a fetch of its list and to a new stream), but the stream it holds went on with
// heartbeats alone, so the edge never reconnected to B and learned of a logout made on B
// only from a list poll. A replica whose list has expired ends its streams, and their
// clients resume on another replica, which replays what they missed.
func TestStaleReplicaEndsItsStreams(t *testing.T) {
	db := pgtest.NewDatabase(t)
	dbURL, err := url.Parse(db)
	if err != nil {
		t.Fatal(err)
	}
	link := newPGLink(t, dbURL.Host)
	viaLink := *dbURL
	viaLink.Host = link.ln.Addr().String()

	lb := httptest.NewUnstartedServer(nil)
	lbURL := "http://" + lb.Listener.Addr().String()
	var aLate atomic.Int64 // how far replica A's clock is ahead
	a := cptest.Start(t, cptest.Options{DatabaseURL: viaLink.String(), PublicURL: lbURL,
		Now: func() time.Time { return time.Now().Add(time.Duration(aLate.Load())) }})
	b := cptest.Start(t, cptest.Options{DatabaseURL: db, PublicURL: lbURL})
	// The first stream goes to A, every later one and everything else to B.
	to := func(u string) *httputil.ReverseProxy {
		target, _ := url.Parse(u)
		return httputil.NewSingleHostReverseProxy(target)
	}
	toA, toB := to(a.URL), to(b.URL)
	var streams atomic.Int64
	lb.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == sessionauth.StreamPath && streams.Add(1) == 1 {
			toA.ServeHTTP(w, r)
			return
		}
		toB.ServeHTTP(w, r)
	})
	lb.Start()
	t.Cleanup(lb.Close)

	b.CreateUser(t, "ada@example.test", "correct horse battery staple")
	laptop := b.Login(t, "ada@example.test", "correct horse battery staple", "laptop")

	src, err := sessionauth.NewSource(sessionauth.SourceConfig{ControlPlane: lbURL, Issuer: b.Config.Issuer,
		PollEvery: time.Minute, MaxStale: 5 * time.Minute, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	t.Cleanup(func() { cancel(); <-ran }) // first: the stream ends before the servers close
	if err := src.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	go func() { defer close(ran); src.Run(ctx) }()
	for deadline := time.Now().Add(10 * time.Second); !src.Streaming(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the revocation stream did not connect")
		}
	}

	link.sever()
	aLate.Store(int64(2 * time.Minute)) // past the exp of A's last list (60 s after it was built)
	if resp := b.Do(t, http.MethodPost, "/auth/logout", nil, http.Header{"Cookie": {laptop.Header()}}); resp.StatusCode/100 != 2 {
		t.Fatalf("logout on B: %s", resp.Status)
	}
	wait := httpapi.StreamHeartbeat + 10*time.Second
	for deadline := time.Now().Add(wait); ; time.Sleep(50 * time.Millisecond) {
		if _, ok := src.Revoked(laptop.SessionID); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a logout on replica B not known %s later (streams opened: %d; the first, to A, whose list expired, still connected: %v)",
				wait, streams.Load(), streams.Load() == 1 && src.Streaming())
		}
	}
}

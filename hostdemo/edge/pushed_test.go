package edge_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/auth"
	"github.com/edgeauth/edgeauth/hostdemo/edge"
	"github.com/edgeauth/edgeauth/keys"
	"github.com/edgeauth/edgeauth/sessionauth"
	"github.com/edgeauth/edgeauth/verifier"
)

// listHold stands in front of a control plane and, while held, keeps every revocation
// list from the edge behind it: a fetch of the list stalls (until released), and the
// lists its revocation stream carries are dropped; the stream's other events (a
// pushed "revoked") pass. So a replica slow to rebuild or serve its list looks.
type listHold struct {
	srv     *httptest.Server
	held    atomic.Bool
	stalled atomic.Int64 // list fetches stalled
	release chan struct{}
}

func newListHold(t *testing.T, controlPlane string) *listHold {
	t.Helper()
	target, _ := url.Parse(controlPlane)
	proxy := httputil.NewSingleHostReverseProxy(target)
	h := &listHold{release: make(chan struct{})}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == sessionauth.RevocationsPath && h.held.Load():
			h.stalled.Add(1)
			select {
			case <-h.release:
			case <-r.Context().Done():
				return
			}
		case r.URL.Path == sessionauth.StreamPath:
			h.relayStream(w, r, controlPlane)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(h.srv.Close)
	t.Cleanup(func() { close(h.release) }) // before Close, which waits for stalled fetches
	return h
}

// relayStream relays the revocation stream event by event, without its lists while
// held.
func (h *listHold) relayStream(w http.ResponseWriter, r *http.Request, controlPlane string) {
	req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, controlPlane+r.URL.RequestURI(), nil)
	for _, k := range []string{"Accept", "Last-Event-ID"} {
		if v := r.Header.Get(k); v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	br := bufio.NewReader(resp.Body)
	var event []byte
	for {
		line, err := br.ReadBytes('\n')
		if err != nil {
			return
		}
		event = append(event, line...)
		if len(bytes.TrimRight(line, "\r\n")) > 0 {
			continue
		}
		if !h.held.Load() || !bytes.Contains(event, []byte("event: revocations\n")) {
			w.Write(event)
			w.(http.Flusher).Flush()
		}
		event = event[:0]
	}
}

// heldEdge is a gate whose source follows a real control plane (the world's) through
// a listHold, holding its revocation stream (Run) and polling every 100 ms.
type heldEdge struct {
	w    *world
	hold *listHold
	src  *sessionauth.Source
	gate *edge.Gate
	sid  atomic.Value // the session of the last request forwarded
}

func newHeldEdge(t *testing.T, engine verifier.Engine) *heldEdge {
	t.Helper()
	native := verifier.NewNative() // the world's own gate, for signing in
	t.Cleanup(func() { native.Close(context.Background()) })
	e := &heldEdge{w: newWorld(t, native)}
	if _, err := e.w.cp.Auth.CreateUser(context.Background(), auth.NewUser{Email: "ada@example.test", Password: "correct horse battery staple"}); err != nil {
		t.Fatal(err)
	}
	e.hold = newListHold(t, e.w.cpSrv.URL)
	// Ended first: the stream held through hold ends before hold's server closes.
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	t.Cleanup(func() { cancel(); <-ran })
	quiet := slog.New(slog.DiscardHandler)
	var err error
	e.src, err = sessionauth.NewSource(sessionauth.SourceConfig{
		ControlPlane: e.hold.srv.URL, Issuer: e.w.cp.Config.Issuer, Algorithms: []string{"EdDSA"},
		Engine: engine, PollEvery: 100 * time.Millisecond, MaxStale: 5 * time.Minute, Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	conf := &edge.Configurator{URL: e.w.cpSrv.URL + edge.EdgeConfigPath, Engine: engine, Source: e.src, Local: verifier.LocalConfig{
		PublicPaths: []string{"/"}, Protected: []verifier.ProtectedRoute{{Prefix: "/app/"}},
	}}
	if _, err := conf.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.src.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	go func() { defer close(ran); e.src.Run(ctx) }()
	e.gate = &edge.Gate{Engine: engine, Source: e.src, Logger: quiet,
		Upstream: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { e.sid.Store(r.Header.Get(verifier.HeaderSession)) })}
	for deadline := time.Now().Add(10 * time.Second); !e.src.Streaming(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the revocation stream did not connect")
		}
	}
	return e
}

// get asks the gate for a protected page with the access cookie c.
func (e *heldEdge) get(c *http.Cookie) *http.Response {
	r := httptest.NewRequest(http.MethodGet, "/app/report", nil)
	r.AddCookie(c)
	rec := httptest.NewRecorder()
	e.gate.ServeHTTP(rec, r)
	return rec.Result()
}

// A session whose revocation the stream has pushed is refused by the gate at once,
// though no list naming it has reached the engine: the list is held back (its fetch
// stalls, the stream carries none), as when a replica is slow to rebuild or serve it.
// The refusal is the engine's own for a revoked token: a login redirect clearing the
// cookies.
func TestPushedRevocationRefusedBeforeTheList(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine verifier.Engine) {
		e := newHeldEdge(t, engine)
		w, hold, src, get := e.w, e.hold, e.src, e.get

		w.login("ada@example.test", "correct horse battery staple")
		stolen := w.accessCookie()
		if resp := get(stolen); resp.StatusCode != http.StatusOK {
			t.Fatalf("signed in: %s", resp.Status)
		}

		hold.held.Store(true)
		if resp := w.do(http.MethodPost, "/auth/logout", "", nil); resp.StatusCode/100 != 2 {
			t.Fatalf("logout: %s", resp.Status)
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if _, pushed := src.Revoked(e.sid.Load().(string)); pushed {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the stream did not push the revocation")
			}
		}
		resp := get(stolen)
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "/login?") {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("right after the push, with the list held back (%d list fetches stalled): %s %q %q, want a redirect to the login page",
				hold.stalled.Load(), resp.Status, resp.Header.Get("Location"), b)
		}
		cleared := false
		for _, sc := range resp.Header.Values("Set-Cookie") {
			cleared = cleared || (strings.HasPrefix(sc, stolen.Name+"=;") && strings.Contains(sc, "Max-Age=0"))
		}
		if !cleared {
			t.Fatalf("revoked cookie not cleared: %q", resp.Header.Values("Set-Cookie"))
		}
	})
}

// A token signed by a key the edge has not fetched yet (an immediate rotation) sends
// the gate to the control plane for the JWKS, and only for it: while the list's fetch
// stalls, the request is decided as soon as the new keys are in, not when a poll's
// stalled fetch (which it might join, and whose key set predates the rotation) gives up.
func TestUnknownKeyRefetchDoesNotWaitForTheList(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine verifier.Engine) {
		e := newHeldEdge(t, engine)
		e.hold.held.Store(true)
		for deadline := time.Now().Add(10 * time.Second); e.hold.stalled.Load() == 0; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("no poll fetched the list")
			}
		}
		if _, err := e.w.cp.Keys.Rotate(context.Background(), keys.RotateOptions{Immediate: true}); err != nil {
			t.Fatal(err)
		}
		e.w.login("ada@example.test", "correct horse battery staple")
		start := time.Now()
		resp := e.get(e.w.accessCookie())
		if took := time.Since(start); resp.StatusCode != http.StatusOK || took > 3*time.Second {
			t.Fatalf("a token of the new key, the list's fetch stalled: %s after %s, want 200 at once", resp.Status, took.Round(100*time.Millisecond))
		}
	})
}

package sessionauth_test

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/cptest"
	"github.com/edgeauth/edgeauth/sessionauth"
)

// A stream that ends as soon as it has delivered its list (an intermediary that does
// not hold long responses open, a replica that ends every stream at once) is not a
// stream that worked: the source backs off before reconnecting, as after a failure,
// instead of reconnecting four times a second for as long as that lasts, each time
// costing the control plane a stream's setup (a replay query, the list).
func TestStreamEndingAtOnceBacksOff(t *testing.T) {
	cp := cptest.Start(t, cptest.Options{})
	target, _ := url.Parse(cp.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var streams atomic.Int64
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != sessionauth.StreamPath {
			proxy.ServeHTTP(w, r)
			return
		}
		streams.Add(1)
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, cp.URL+r.URL.RequestURI(), nil)
		req.Header = r.Header.Clone()
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
		for { // relay up to the end of the list's event, then end the response
			line, err := br.ReadBytes('\n')
			if err != nil {
				return
			}
			event = append(event, line...)
			if len(bytes.TrimRight(line, "\r\n")) > 0 {
				continue
			}
			w.Write(event)
			if bytes.Contains(event, []byte("event: revocations\n")) {
				return
			}
			event = event[:0]
		}
	}))
	t.Cleanup(front.Close)

	src, err := sessionauth.NewSource(sessionauth.SourceConfig{ControlPlane: front.URL, Issuer: cp.Config.Issuer,
		PollEvery: time.Minute, MaxStale: 5 * time.Minute, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	t.Cleanup(func() { cancel(); <-ran })
	if err := src.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	go func() { defer close(ran); src.Run(ctx) }()
	const window = 5 * time.Second
	time.Sleep(window)
	// Backing off from 250 ms (doubling, with jitter) opens about 5 streams in 5 s;
	// reconnecting at once, 20 or more.
	if n := streams.Load(); n > 10 {
		t.Fatalf("%d streams opened in %s against a stream that ends after its list", n, window)
	}
}

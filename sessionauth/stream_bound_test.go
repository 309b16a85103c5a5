package sessionauth_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/sessionauth"
)

// A stream event is bounded like a fetched document: an event whose data lines never
// end (a broken intermediary, a misbehaving server) is refused once it is larger than
// any list or revocation event can be, instead of being accumulated without bound.
func TestStreamEventIsBounded(t *testing.T) {
	var written atomic.Int64
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != sessionauth.StreamPath {
			http.NotFound(w, r)
			return
		}
		defer close(done)
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte("event: revocations\n"))
		line := []byte("data: " + strings.Repeat("A", 64<<10) + "\n")
		for written.Load() < 64<<20 { // 64 MiB of one event's data, never dispatched
			if _, err := w.Write(line); err != nil {
				return // the client gave up on the event
			}
			written.Add(int64(len(line)))
		}
	}))
	defer srv.Close()
	src, err := sessionauth.NewSource(sessionauth.SourceConfig{ControlPlane: srv.URL, Issuer: "https://auth.example.test",
		PollEvery: time.Hour, MaxStale: 2 * time.Hour, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { defer close(ran); src.Run(ctx) }()
	defer func() { cancel(); <-ran }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("stream handler did not finish")
	}
	if n := written.Load(); n >= 64<<20 {
		t.Fatalf("the source read %d MiB of one event's data lines without refusing it", n>>20)
	}
}

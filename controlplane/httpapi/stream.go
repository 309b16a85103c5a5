package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/revocation"
)

// RevocationSource serves the signed revocation list and the revocation stream
// (controlplane/revocation.List).
type RevocationSource interface {
	Body() (body []byte, etag string)
	Expires() time.Time // the current list's exp
	Ready() error       // nil while the list is kept current (for /readyz)
	CurrentEvent() revocation.Event
	Subscribe(buf int) *revocation.Subscription
	Replay(ctx context.Context, after int64) ([]revocation.Event, error)
	Ending() <-chan struct{}
}

// The revocation stream's limits.
const (
	// StreamHeartbeat is how often an idle stream sends a comment line, so that
	// intermediaries keep it open and a client can tell a silent stream from a dead one.
	StreamHeartbeat = 15 * time.Second
	// MaxStreams bounds the open streams of one replica; more are refused with 503.
	MaxStreams = 10000
	// streamRetry is the reconnection delay suggested to EventSource clients.
	streamRetry = 2 * time.Second
	// streamBuffer is how many events may queue for a slow client before it is cut
	// off (it then reconnects and resumes).
	streamBuffer = 1024
	// streamWriteTimeout drops a client that does not take a write within it.
	streamWriteTimeout = 10 * time.Second
)

// revocationStream serves GET /.well-known/edgeauth/revocations/stream as Server-Sent
// Events: the current list (event "revocations", id = the highest revocation number it
// covers) and the revocations made since (event "revoked", id = its number), or for a
// client resuming after Last-Event-ID, the revocations it may have missed and then the
// list; then every revocation and every list as they come, with a comment line as
// heartbeat. See controlplane/README.md.
func (s *Server) revocationStream(w http.ResponseWriter, r *http.Request) error {
	after, resume, err := lastEventID(r)
	if err != nil {
		return err
	}
	if s.streams.Add(1) > MaxStreams {
		s.streams.Add(-1)
		e := ErrUnavailable.with(nil, "too many revocation streams on this replica: retry shortly, or poll /.well-known/edgeauth/revocations")
		e.RetryAfter = 5 * time.Second
		return e
	}
	defer s.streams.Add(-1)
	src := s.deps.Revocations
	sub := src.Subscribe(streamBuffer)
	defer sub.Close()
	cur := src.CurrentEvent()
	if len(cur.Data) == 0 {
		return ErrNotReady.with(nil, "revocation list not built yet")
	}
	if err := s.listExpired(); err != nil {
		return err // as GET of the list answers: the client reconnects, maybe elsewhere
	}
	if !resume {
		after = cur.Seq
	}
	// Bounded as any request is (RequestTimeout): the stream outlives it, its replay
	// must not wait on a database that stopped answering.
	rctx, cancel := context.WithTimeout(r.Context(), s.requestTimeout)
	missed, err := src.Replay(rctx, after)
	cancel()
	if err != nil {
		return err
	}

	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{}) // the server's ReadTimeout must not end a stream
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	public(h)
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		// HEAD matches the GET pattern; nothing follows the headers. Running the stream
		// would hold the connection (net/http eats the writes, so no failed write ever
		// ends it) and the client's next request on it would never be answered.
		return nil
	}
	buf := make([]byte, 0, 1024)
	send := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	event := func(ev revocation.Event) []byte {
		buf = append(buf[:0], "event: "...)
		buf = append(buf, ev.Kind...)
		buf = append(buf, "\nid: "...)
		buf = strconv.AppendInt(buf, ev.Seq, 10)
		buf = append(buf, "\ndata: "...)
		buf = append(buf, ev.Data...)
		return append(buf, "\n\n"...)
	}
	if !send([]byte("retry: " + strconv.Itoa(int(streamRetry/time.Millisecond)) + "\n\n")) {
		return nil
	}
	// A new client gets the list first, then what happened since it was built; a
	// resuming one gets what it missed first, each event with its reason, then the list.
	if !resume && !send(event(cur)) {
		return nil
	}
	sent := make(map[int64]bool, len(missed))
	for _, ev := range missed {
		sent[ev.Seq] = true
		if !send(event(ev)) {
			return nil
		}
	}
	if resume && !send(event(cur)) {
		return nil
	}
	beat := time.NewTicker(StreamHeartbeat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-src.Ending():
			return nil // shutting down: the client reconnects elsewhere and resumes
		case <-sub.Lagged():
			return nil // too slow: it reconnects and resumes
		case <-beat.C:
			if s.listExpired() != nil {
				// This replica cannot rebuild its list (it lost PostgreSQL, or its
				// signer): it hears no revocation either, and heartbeats alone would
				// keep the client here, learning revocations only from its polls. It
				// reconnects, is refused here as a new stream is, and resumes on a
				// replica that can replay what it missed.
				return nil
			}
			if !send([]byte(": heartbeat\n\n")) {
				return nil
			}
		case ev := <-sub.C:
			if ev.Kind == revocation.KindRevoked && sent[ev.Seq] {
				continue // already replayed
			}
			if !send(event(ev)) {
				return nil
			}
		}
	}
}

// lastEventID reads the resume point: the Last-Event-ID header (sent by EventSource on
// reconnecting), else the last_event_id query parameter (for clients that cannot set
// headers). Either must be a revocation number (a non-negative decimal integer).
func lastEventID(r *http.Request) (int64, bool, error) {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("last_event_id")
	}
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || v[0] == '+' {
		// The logged cause is strconv's kind of error, without the value it quotes:
		// whatever a client put there (a token, say) stays out of the log.
		cause := errors.New("negative or signed")
		if ne, ok := errors.AsType[*strconv.NumError](err); ok {
			cause = ne.Err
		}
		return 0, false, ErrInvalidField.with(cause, "Last-Event-ID (or last_event_id) must be the id of an event of this stream: a non-negative integer")
	}
	return n, true, nil
}

package sessionauth

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/edgeauth/edgeauth/internal/redact"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/jose"
)

// StreamPath is the control plane's revocation stream (Server-Sent Events; format and
// reconnect rule in controlplane/README.md), relative to its base URL.
const StreamPath = "/.well-known/edgeauth/revocations/stream"

// EventType is the typ header of a signed revocation event on the stream.
const EventType = "edgeauth-revocation+jwt"

const (
	// streamIdle: a stream that delivers nothing, not even a heartbeat (every 15 s),
	// for this long is taken for dead and reconnected.
	streamIdle = 45 * time.Second
	// streamBackoff is the first and the largest wait before reconnecting a stream
	// that failed (doubling, with jitter, from the first to the largest).
	streamBackoffMin = 250 * time.Millisecond
	streamBackoffMax = 10 * time.Second
	// noStreamRetry is how long to poll only after the control plane said it has no
	// stream (an older version).
	noStreamRetry = 5 * time.Minute
)

var errNoStream = errors.New("the control plane offers no revocation stream")

// runStream holds the revocation stream until ctx ends, reconnecting with backoff and
// resuming after the last event applied.
func (s *Source) runStream(ctx context.Context) {
	backoff := streamBackoffMin
	for ctx.Err() == nil {
		started := time.Now()
		gotList, err := s.streamOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := backoff
		switch {
		case errors.Is(err, errNoStream):
			s.log.Info("sessionauth: no revocation stream at the control plane; polling only", "retry_in", noStreamRetry)
			wait = noStreamRetry
		case gotList && time.Since(started) >= streamBackoffMax:
			// It worked, for a while: come back at once. One that ends as soon as
			// it delivered its list (an intermediary that does not hold long
			// responses) is backed off as a failure, or every source would
			// reconnect four times a second while it lasts.
			backoff, wait = streamBackoffMin, streamBackoffMin
			s.log.Info("sessionauth: revocation stream ended; reconnecting", "err", err)
		default:
			s.log.Warn("sessionauth: revocation stream failed; polling until it is back", "err", err, "retry_in", backoff)
			backoff = min(2*backoff, streamBackoffMax)
		}
		wait = wait/2 + rand.N(wait/2+1) // jitter: a restarted replica's clients do not return at once
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// streamOnce reads one connection of the stream. It reports whether a list arrived
// (the connection worked), and why it ended.
func (s *Source) streamOnce(ctx context.Context) (gotList bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.streamURL, nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", "text/event-stream")
	if seq := s.streamSeq.Load(); seq >= 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatInt(seq, 10))
	}
	resp, err := s.streamClient.Do(req)
	if err != nil {
		return false, redact.Error(err) // it quotes the URL, query and all
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed:
		return false, errNoStream
	case resp.StatusCode != http.StatusOK:
		return false, fmt.Errorf("GET %s: %s", redact.URL(s.streamURL), resp.Status)
	}
	s.streamLive.Store(true)
	defer s.streamLive.Store(false)

	var idled atomic.Bool
	idle := time.AfterFunc(streamIdle, func() { idled.Store(true); cancel() })
	defer idle.Stop()
	r := bufio.NewReaderSize(resp.Body, 64<<10)
	var event, id string
	var data []byte
	for {
		line, err := readLine(r, 2*maxDocument)
		if err != nil {
			if idled.Load() {
				return gotList, fmt.Errorf("no event or heartbeat for %s", streamIdle)
			}
			return gotList, err
		}
		idle.Reset(streamIdle)
		if len(line) == 0 { // dispatch (text/event-stream, "Interpreting an event stream")
			if event != "" || data != nil {
				if s.dispatch(ctx, event, id, data) && event == "revocations" {
					gotList = true
				}
			}
			event, id, data = "", "", nil
			continue
		}
		if line[0] == ':' {
			continue // comment: heartbeat
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "event":
			event = string(value)
		case "id":
			id = string(value)
		case "data":
			if len(data)+1+len(value) > 2*maxDocument {
				// Like one line: no list or event is this large, and data lines that
				// never end must not grow without bound.
				return gotList, fmt.Errorf("stream event larger than %d bytes", 2*maxDocument)
			}
			if data != nil {
				data = append(data, '\n')
			}
			data = append(data, value...)
		}
	}
}

// readLine reads one line (LF, CRLF or CR-less) of at most max bytes, without its end.
func readLine(r *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > max {
			return nil, fmt.Errorf("stream line longer than %d bytes", max)
		}
		switch {
		case err == nil:
			line = line[:len(line)-1]
			return bytes.TrimSuffix(line, []byte("\r")), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return nil, err
		}
	}
}

// dispatch applies one event and reports whether it was applied. Events that do not
// verify are logged and skipped: the next list covers what they said.
func (s *Source) dispatch(ctx context.Context, event, id string, data []byte) bool {
	var err error
	switch event {
	case "revocations":
		err = s.applyList(ctx, data, "")
		if errors.Is(err, verifier.ErrUnknownKey) && s.UnknownKey(ctx) {
			err = s.applyList(ctx, data, "")
		}
		if err == nil {
			s.lastPush.Store(s.now().UnixNano())
		}
	case "revoked":
		err = s.applyEvent(ctx, data)
	default:
		return false // an event this version does not know
	}
	switch {
	case errors.Is(err, errOlderList):
		return false // a list older than the one held: nothing to learn from it
	case err != nil:
		s.log.Warn("sessionauth: stream event refused", "event", event, "id", id, "err", err)
		return false
	}
	if n, perr := strconv.ParseInt(id, 10, 64); perr == nil && n > s.streamSeq.Load() {
		s.streamSeq.Store(n)
	}
	return true
}

// revocationEvent is the payload of a signed revocation event.
type revocationEvent struct {
	Issuer    string `json:"iss"`
	SessionID string `json:"sid"`
	Seq       int64  `json:"seq"`
	Reason    string `json:"reason"`
}

// applyEvent verifies one revocation event against the current keys (refetching them
// once for an unknown kid) and records the revocation.
func (s *Source) applyEvent(ctx context.Context, data []byte) error {
	payload, err := jose.VerifyCompact(data, s.snap.Load().keys, s.algs, EventType)
	if errors.Is(err, verifier.ErrUnknownKey) && s.UnknownKey(ctx) {
		payload, err = jose.VerifyCompact(data, s.snap.Load().keys, s.algs, EventType)
	}
	if err != nil {
		return fmt.Errorf("revocation event: %w", err)
	}
	var ev revocationEvent
	if err := json.Unmarshal(payload, &ev); err != nil || ev.SessionID == "" || ev.Seq < 1 {
		return fmt.Errorf("revocation event: %w: payload is not {iss, sid, seq, reason}", verifier.ErrInvalidRevocationList)
	}
	if want := s.snap.Load().issuer(s.cfg.Issuer); ev.Issuer != want {
		return fmt.Errorf("revocation event: %w: issuer %q, want %q", verifier.ErrInvalidRevocationList, ev.Issuer, want)
	}
	s.revoke([]Revocation{{SessionID: ev.SessionID, Reason: ev.Reason}})
	return nil
}

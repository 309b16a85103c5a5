package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/revocation"
	"github.com/edgeauth/edgeauth/verifier/jose"
)

type sseEvent struct {
	event, id, data string
}

// stream is one open revocation stream as a client reads it.
type stream struct {
	t      testing.TB
	resp   *http.Response
	r      *bufio.Reader
	cancel context.CancelFunc
	events chan sseEvent
	ended  chan struct{}
}

func (e *env) openStream(lastEventID string) *stream {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+"/.well-known/edgeauth/revocations/stream", nil)
	if lastEventID != "" {
		r.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := e.hc.Do(r)
	if err != nil {
		cancel()
		e.t.Fatal(err)
	}
	s := &stream{t: e.t, resp: resp, r: bufio.NewReader(resp.Body), cancel: cancel, events: make(chan sseEvent, 64), ended: make(chan struct{})}
	e.t.Cleanup(s.close)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		e.t.Fatalf("stream: %s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	go s.read()
	return s
}

func (s *stream) close() {
	s.cancel()
	s.resp.Body.Close()
}

// read parses the stream (comments and retry: lines are skipped).
func (s *stream) read() {
	defer close(s.ended)
	var ev sseEvent
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if ev.event != "" {
				s.events <- ev
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, "event: "):
			ev.event = line[7:]
		case strings.HasPrefix(line, "id: "):
			ev.id = line[4:]
		case strings.HasPrefix(line, "data: "):
			ev.data = line[6:]
		}
	}
}

// next returns the next event, failing after a generous deadline.
func (s *stream) next() sseEvent {
	s.t.Helper()
	select {
	case ev := <-s.events:
		return ev
	case <-s.ended:
		s.t.Fatal("stream ended")
	case <-time.After(15 * time.Second):
		s.t.Fatal("no event")
	}
	return sseEvent{}
}

// payload verifies a list or event against the control plane's JWKS (the verifier
// core's own checks) and returns its payload.
func (e *env) payload(data, typ string) map[string]any {
	e.t.Helper()
	body, _ := e.app.Keys.JWKS()
	ks, err := jose.ParseJWKS(body)
	if err != nil {
		e.t.Fatal(err)
	}
	raw, err := jose.VerifyCompact([]byte(data), ks, []jose.Algorithm{jose.EdDSA, jose.ES256, jose.RS256}, typ)
	if err != nil {
		e.t.Fatalf("%s does not verify: %v", typ, err)
	}
	var p map[string]any
	if err := json.Unmarshal(raw, &p); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// The stream starts with the signed list, pushes each revocation as a signed event
// with its number and reason, resumes after Last-Event-ID with what was missed, and
// ends when the replica shuts its streams down.
func TestRevocationStream(t *testing.T) {
	e := newEnv(t, envOptions{start: true})
	e.createUser(testEmail, testPassword)
	_, refresh1 := e.login(testEmail, testPassword)
	access2, _ := e.login(testEmail, testPassword)

	s := e.openStream("")
	first := s.next()
	if first.event != revocation.KindList || first.id != "0" {
		t.Fatalf("first event %+v", first)
	}
	if p := e.payload(first.data, revocation.Type); p["iss"] != e.cfg.Issuer || len(p["sids"].([]any)) != 0 {
		t.Fatalf("first list %v", p)
	}

	if r := e.do(req{method: "POST", path: "/auth/logout", cookies: []*http.Cookie{refresh1}}); r.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d %s", r.StatusCode, r.body)
	}
	var revoked sseEvent
	for revoked.event != revocation.KindRevoked {
		revoked = s.next()
	}
	p := e.payload(revoked.data, revocation.EventType)
	if revoked.id != "1" || p["seq"] != 1.0 || p["reason"] != "logout" || p["iss"] != e.cfg.Issuer || p["sid"] == "" {
		t.Fatalf("revoked event %+v: %v", revoked, p)
	}
	loggedOut := p["sid"].(string)

	// Another device signs out everywhere while this client is away; on its return it
	// asks for what came after the last id it saw.
	s.close()
	if r := e.do(req{method: "POST", path: "/auth/logout-all", cookies: []*http.Cookie{access2}}); r.StatusCode != http.StatusOK {
		t.Fatalf("logout-all: %d %s", r.StatusCode, r.body)
	}
	back := e.openStream(revoked.id)
	seen := map[string]string{}
	for len(seen) < 2 { // what it missed comes first, each with its reason
		ev := back.next()
		if ev.event != revocation.KindRevoked {
			t.Fatalf("resumed stream: %+v before the missed revocations", ev)
		}
		p := e.payload(ev.data, revocation.EventType)
		if strconv.Itoa(int(p["seq"].(float64))) != ev.id {
			t.Fatalf("event id %s, signed seq %v", ev.id, p["seq"])
		}
		seen[p["sid"].(string)] = p["reason"].(string)
	}
	if seen[loggedOut] != "logout" { // repeated: within the lookback before id 1
		t.Fatalf("resume: %v", seen)
	}
	for sid, reason := range seen {
		if sid != loggedOut && reason != "logout_all" {
			t.Fatalf("resume: %v", seen)
		}
	}
	if ev := back.next(); ev.event != revocation.KindList {
		t.Fatalf("after the missed revocations: %+v, want the list", ev)
	}

	// Bad resume points are refused before the stream starts.
	for _, bad := range []string{"-1", "x", "1.5", "+3", "99999999999999999999"} {
		r := e.do(req{method: "GET", path: "/.well-known/edgeauth/revocations/stream", header: map[string]string{"Last-Event-ID": bad}})
		if r.StatusCode != http.StatusBadRequest || r.errorCode() != "invalid_field" {
			t.Errorf("Last-Event-ID %q: %d %s", bad, r.StatusCode, r.body)
		}
	}

	// Shutting down ends every stream (clients resume elsewhere).
	e.app.Revocations.EndStreams()
	select {
	case <-back.ended:
	case <-time.After(15 * time.Second):
		t.Fatal("stream still open after EndStreams")
	}
}

// "Sign out all other devices" ends every other session of the user, not the caller's
// and not another user's; the stream says why.
func TestLogoutOthers(t *testing.T) {
	e := newEnv(t, envOptions{start: true})
	e.createUser(testEmail, testPassword)
	e.createUser("bob@example.test", testPassword)
	here, _ := e.login(testEmail, testPassword)
	other1, _ := e.login(testEmail, testPassword)
	other2, _ := e.login(testEmail, testPassword)
	bob, _ := e.login("bob@example.test", testPassword)
	s := e.openStream("")
	s.next() // the list
	r := e.do(req{method: "POST", path: "/auth/logout-others", cookies: []*http.Cookie{here}})
	var out struct{ Revoked int }
	r.decode(t, &out)
	if r.StatusCode != http.StatusOK || out.Revoked != 2 || r.setCookie(e.cfg.AccessCookie().Name) != "" {
		t.Fatalf("logout-others: %d %s %v", r.StatusCode, r.body, r.Header.Values("Set-Cookie"))
	}
	for c, want := range map[*http.Cookie]int{here: 200, other1: 401, other2: 401, bob: 200} {
		if r := e.do(req{method: "GET", path: "/auth/me", cookies: []*http.Cookie{c}}); r.StatusCode != want {
			t.Errorf("after logout-others: %d, want %d", r.StatusCode, want)
		}
	}
	for n := 0; n < 2; {
		if ev := s.next(); ev.event == revocation.KindRevoked {
			if p := e.payload(ev.data, revocation.EventType); p["reason"] != "logout_others" {
				t.Fatalf("event %v", p)
			}
			n++
		}
	}
	if r := e.do(req{method: "POST", path: "/auth/logout-others"}); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without a session: %d", r.StatusCode)
	}
}

// HEAD matches the stream's GET pattern. It gets the stream's headers and nothing more:
// run as a stream, its body writes (which net/http discards) never failed, so nothing
// ended it, and the client's next request on the same connection was never answered.
// The deadline only keeps a broken server from hanging the test.
func TestRevocationStreamHEADEnds(t *testing.T) {
	e := newEnv(t, envOptions{start: true})
	t.Cleanup(e.app.Revocations.EndStreams) // a broken server's stream must not hold srv.Close
	hc := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	defer hc.CloseIdleConnections()
	head, err := hc.Head(e.srv.URL + "/.well-known/edgeauth/revocations/stream")
	if err != nil {
		t.Fatal(err)
	}
	head.Body.Close()
	if head.StatusCode != http.StatusOK || head.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("HEAD of the stream: %s %q", head.Status, head.Header.Get("Content-Type"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+"/healthz", nil)
	res, err := hc.Do(r) // on the same connection (one per host)
	if err != nil {
		t.Fatalf("the next request on the HEAD's connection: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("the next request on the HEAD's connection: %s", res.Status)
	}
}

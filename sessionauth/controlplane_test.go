package sessionauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/cptest"
	"github.com/edgeauth/edgeauth/keys"
	"github.com/edgeauth/edgeauth/sessionauth"
	"github.com/edgeauth/edgeauth/verifier"
)

// An API server next to its data, in front of a real control plane: it accepts the
// cookie and Bearer tokens the control plane issued, hands handlers the identity,
// answers JSON refusals, follows a key rotation by itself and refuses a session once
// its logout reaches the source.
func TestAgainstControlPlane(t *testing.T) {
	cp := cptest.Start(t, cptest.Options{})
	user := cp.CreateUser(t, "ada@example.test", "correct horse battery staple")
	ctx := context.Background()

	clk := newClock()
	// Only the control plane's URL: issuer, audience, algorithms and the access
	// cookie's name come from its edge configuration.
	src, err := sessionauth.NewSource(sessionauth.SourceConfig{ControlPlane: cp.URL, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if ec, ok := src.EdgeConfig(); !ok || ec.Issuer != cp.Config.Issuer || ec.AccessCookie.Name != cp.Config.AccessCookie().Name {
		t.Fatalf("edge configuration %+v", ec)
	}
	chk, err := sessionauth.NewChecker(src, sessionauth.CheckerConfig{AllowBearer: true})
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(chk.Middleware()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := sessionauth.IdentityFrom(r.Context())
		json.NewEncoder(w).Encode(id)
	})))
	defer api.Close()
	admin := httptest.NewServer(chk.Middleware("admin")(http.NotFoundHandler()))
	defer admin.Close()

	call := func(url string, h http.Header) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	code := func(body string) string {
		var e struct {
			Error struct{ Code string } `json:"error"`
		}
		json.Unmarshal([]byte(body), &e)
		return e.Error.Code
	}

	laptop := cp.Login(t, "ada@example.test", "correct horse battery staple", "laptop")
	status, body, _ := call(api.URL, http.Header{"Cookie": {laptop.Header()}})
	var id sessionauth.Identity
	if err := json.Unmarshal([]byte(body), &id); status != http.StatusOK || err != nil {
		t.Fatalf("with the access cookie: %d %s", status, body)
	}
	sess, err := cp.App.Auth.ListSessions(ctx, user.ID, laptop.SessionID)
	if err != nil || len(sess) != 1 {
		t.Fatal(sess, err)
	}
	if id.Subject != user.ID || id.SessionID != laptop.SessionID || id.KeyID == "" ||
		!id.SessionExpiresAt.Equal(sess[0].AbsoluteExpires.Truncate(time.Second)) {
		t.Fatalf("identity %+v (session %+v)", id, sess[0])
	}
	if status, body, _ := call(api.URL, http.Header{"Authorization": {"Bearer " + laptop.Access.Value}}); status != http.StatusOK {
		t.Fatalf("with a Bearer header: %d %s", status, body)
	}

	for name, tc := range map[string]struct {
		h      http.Header
		status int
		code   string
	}{
		"nothing":          {http.Header{}, 401, "unauthenticated"},
		"garbage":          {http.Header{"Authorization": {"Bearer x.y.z"}}, 401, "unauthenticated"},
		"cookie twice":     {http.Header{"Cookie": {laptop.Header() + "; " + laptop.Access.Name + "=" + laptop.Access.Value}}, 401, "unauthenticated"},
		"huge cookies":     {http.Header{"Cookie": {strings.Repeat("a=b; ", 4000)}}, 400, "invalid_request"},
		"forged signature": {http.Header{"Authorization": {"Bearer " + laptop.Access.Value[:len(laptop.Access.Value)-4] + "AAAA"}}, 401, "unauthenticated"},
		// Authorization is a singleton field (RFC 9110): sent twice, the request is
		// malformed, whichever copy is valid and whatever else it carries.
		"Authorization twice": {http.Header{"Authorization": {"Bearer " + laptop.Access.Value, "Bearer x.y.z"}}, 400, "invalid_request"},
		"Authorization twice, with the cookie": {http.Header{"Cookie": {laptop.Header()},
			"Authorization": {"Bearer " + laptop.Access.Value, "Bearer " + laptop.Access.Value}}, 400, "invalid_request"},
	} {
		status, body, h := call(api.URL, tc.h)
		if status != tc.status || code(body) != tc.code || h.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %s, want %d %s", name, status, body, tc.status, tc.code)
		}
		if status == 401 && !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: no WWW-Authenticate challenge", name)
		}
	}
	if status, body, _ := call(admin.URL, http.Header{"Cookie": {laptop.Header()}}); status != http.StatusForbidden || code(body) != "missing_role" {
		t.Fatalf("without the admin role: %d %s", status, body)
	}

	// An expired token with a live session: refresh and retry, said in the answer.
	expired, err := sessionauth.NewChecker(src, sessionauth.CheckerConfig{AllowBearer: true,
		Now: func() time.Time { return time.Now().Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+laptop.Access.Value)
	expired.Middleware()(http.NotFoundHandler()).ServeHTTP(rec, req)
	if rec.Code != 401 || code(rec.Body.String()) != "token_expired" || !strings.Contains(rec.Header().Get("WWW-Authenticate"), "expired") {
		t.Fatalf("expired token: %d %s %q", rec.Code, rec.Body, rec.Header())
	}

	// Immediate rotation: the next login's token names a key the source has not
	// fetched; the check refetches once and accepts it.
	if _, err := cp.App.Keys.Rotate(ctx, keys.RotateOptions{Immediate: true}); err != nil {
		t.Fatal(err)
	}
	phone := cp.Login(t, "ada@example.test", "correct horse battery staple", "phone")
	pid, err := chk.Check(ctx, phone.Access.Value)
	if err != nil || pid.KeyID == id.KeyID {
		t.Fatalf("token from the rotated key: %+v, %v", pid, err)
	}

	// Logout of the laptop: once the list that names it is fetched, its token is
	// refused (session_inactive) and watchers hear of it; the phone stays signed in.
	var mu sync.Mutex
	var heard []sessionauth.Revocation
	stop := src.Watch(func(c sessionauth.Change) {
		mu.Lock()
		heard = append(heard, c.Revoked...)
		mu.Unlock()
	})
	defer stop()
	if resp := cp.As(t, laptop, http.MethodPost, "/auth/logout"); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %s", resp.Status)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := src.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if _, revoked := src.Revoked(laptop.SessionID); revoked || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond) // the control plane rebuilds its list on NOTIFY
	}
	if _, err := chk.Check(ctx, laptop.Access.Value); !errors.Is(err, verifier.ErrRevoked) {
		t.Fatalf("logged-out session: %v, want ErrRevoked", err)
	}
	if status, body, _ := call(api.URL, http.Header{"Cookie": {laptop.Header()}}); status != 401 || code(body) != "session_inactive" {
		t.Fatalf("logged-out session through the middleware: %d %s", status, body)
	}
	if _, err := chk.Check(ctx, phone.Access.Value); err != nil {
		t.Fatalf("the other device: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(heard) != 1 || heard[0].SessionID != laptop.SessionID {
		t.Fatalf("watchers heard %+v", heard)
	}
}

// switchProxy stands between a source and the control plane: it can refuse streams and
// cut the open ones (a replica restarting, a load balancer dropping connections).
type switchProxy struct {
	srv  *httptest.Server
	mu   sync.Mutex
	down bool
	open map[*http.Request]context.CancelFunc
}

func newSwitchProxy(t *testing.T, target string) *switchProxy {
	p := &switchProxy{open: map[*http.Request]context.CancelFunc{}}
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/stream") {
			rp.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithCancel(r.Context())
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			cancel()
			http.Error(w, "restarting", http.StatusServiceUnavailable)
			return
		}
		r = r.WithContext(ctx)
		p.open[r] = cancel
		p.mu.Unlock()
		defer func() { p.mu.Lock(); delete(p.open, r); p.mu.Unlock(); cancel() }()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	t.Cleanup(p.cut)
	return p
}

// cut refuses new streams and ends the open ones.
func (p *switchProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, cancel := range p.open {
		cancel()
	}
}

func (p *switchProxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// With polling out of the picture, revocations arrive over the stream as they happen,
// each with its reason; after the stream is cut and comes back, the source resumes from
// the last event it applied and misses nothing, reasons included.
func TestStreamPushesAndResumes(t *testing.T) {
	cp := cptest.Start(t, cptest.Options{})
	cp.CreateUser(t, "ada@example.test", "correct horse battery staple")
	login := func(ua string) cptest.Login {
		return cp.Login(t, "ada@example.test", "correct horse battery staple", ua)
	}
	laptop, phone, tablet, tv := login("laptop"), login("phone"), login("tablet"), login("tv")
	proxy := newSwitchProxy(t, cp.URL)

	src, err := sessionauth.NewSource(sessionauth.SourceConfig{ControlPlane: proxy.srv.URL, PollEvery: time.Hour, MaxStale: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := src.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	heard := make(chan sessionauth.Revocation, 16)
	defer src.Watch(func(c sessionauth.Change) {
		for _, r := range c.Revoked {
			heard <- r
		}
	})()
	ran := make(chan struct{})
	go func() { defer close(ran); src.Run(ctx) }()
	defer func() { cancel(); <-ran }()
	waitUntil(t, "the stream", src.Streaming)

	expect := func(want map[string]string) {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for len(want) > 0 {
			select {
			case r := <-heard:
				reason, ok := want[r.SessionID]
				if !ok || r.Reason != reason {
					t.Fatalf("heard %+v, want one of %v", r, want)
				}
				delete(want, r.SessionID)
			case <-deadline:
				t.Fatalf("not heard: %v", want)
			}
		}
	}
	if resp := cp.As(t, laptop, http.MethodPost, "/auth/logout"); resp.StatusCode != http.StatusNoContent {
		t.Fatal(resp.Status)
	}
	expect(map[string]string{laptop.SessionID: "logout"})

	proxy.cut()
	waitUntil(t, "the stream to drop", func() bool { return !src.Streaming() })
	if resp := cp.As(t, tablet, http.MethodDelete, "/auth/sessions/"+phone.SessionID); resp.StatusCode != http.StatusNoContent {
		t.Fatal(resp.Status)
	}
	if resp := cp.As(t, tablet, http.MethodPost, "/auth/logout-all"); resp.StatusCode != http.StatusOK {
		t.Fatal(resp.Status)
	}
	proxy.restore()
	expect(map[string]string{phone.SessionID: "revoked_by_user", tablet.SessionID: "logout_all", tv.SessionID: "logout_all"})
	for _, l := range []cptest.Login{laptop, phone, tablet, tv} {
		if _, revoked := src.Revoked(l.SessionID); !revoked {
			t.Fatalf("%s not revoked", l.SessionID)
		}
	}
	select {
	case r := <-heard:
		t.Fatalf("heard twice: %+v", r)
	default:
	}
}

// waitUntil polls cond, failing after a generous deadline (a guard, not a timing assertion).
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

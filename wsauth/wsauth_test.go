package wsauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/auth"
	"github.com/edgeauth/edgeauth/controlplane/config"
	"github.com/edgeauth/edgeauth/internal/cptest"
	"github.com/edgeauth/edgeauth/keys"
	"github.com/edgeauth/edgeauth/sessionauth"
	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/wsauth"
	"github.com/gorilla/websocket"
)

const (
	appOrigin = "https://app.example.test"
	password  = "correct horse battery staple"
)

// world is a control plane and, in another "process" (it shares nothing with the
// control plane but its URL), an application WebSocket server using wsauth.
type world struct {
	t      *testing.T
	cp     *cptest.ControlPlane
	src    *sessionauth.Source
	ws     *wsauth.Server
	app    *httptest.Server
	wsURL  string
	clock  atomic.Int64 // seconds added to the WebSocket server's clock
	cancel context.CancelFunc
}

type worldOptions struct {
	configure func(*config.Config)
	cpNow     func() time.Time
	srcNow    func() time.Time
	maxStale  time.Duration
	pollEvery time.Duration
	noStream  bool // the source only polls the signed list
	listBytes int  // bounds the session ids the control plane's list names
}

func newWorld(t *testing.T, o worldOptions) *world {
	t.Helper()
	w := &world{t: t}
	w.cp = cptest.Start(t, cptest.Options{Configure: o.configure, Now: o.cpNow, RevocationListBytes: o.listBytes})
	quiet := slog.New(slog.DiscardHandler)
	var err error
	w.src, err = sessionauth.NewSource(sessionauth.SourceConfig{ControlPlane: w.cp.URL, Logger: quiet,
		Now: o.srcNow, MaxStale: o.maxStale, PollEvery: o.pollEvery, NoStream: o.noStream})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := w.src.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	ran := make(chan struct{})
	go func() { defer close(ran); w.src.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-ran })
	chk, err := sessionauth.NewChecker(w.src, sessionauth.CheckerConfig{AllowBearer: true})
	if err != nil {
		t.Fatal(err)
	}
	w.ws, err = wsauth.New(wsauth.Config{Checker: chk, AllowedOrigins: []string{appOrigin}, Logger: quiet,
		CloseHandshake: 200 * time.Millisecond,
		Now:            func() time.Time { return time.Now().Add(time.Duration(w.clock.Load()) * time.Second) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.ws.Close() })
	// The application: greets with the identity, then echoes.
	w.app = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		c, err := w.ws.Upgrade(rw, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		id := c.Identity()
		if err := c.WriteMessage(websocket.TextMessage, []byte("hello "+id.Subject+" "+id.SessionID)); err != nil {
			return
		}
		for {
			kind, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(kind, msg); err != nil {
				return
			}
		}
	}))
	t.Cleanup(w.app.Close)
	w.wsURL = "ws" + strings.TrimPrefix(w.app.URL, "http") + "/live"
	return w
}

// dial opens a socket as a browser on the app's origin would, with the login's
// cookies; h adds or replaces headers.
func (w *world) dial(l *cptest.Login, h http.Header) (*websocket.Conn, *http.Response, error) {
	hdr := http.Header{"Origin": {appOrigin}}
	if l != nil {
		hdr.Set("Cookie", l.Header())
	}
	for k, v := range h {
		if v == nil {
			hdr.Del(k)
		} else {
			hdr[k] = v
		}
	}
	return websocket.DefaultDialer.Dial(w.wsURL, hdr)
}

// open dials and reads the greeting.
func (w *world) open(l cptest.Login) *websocket.Conn {
	w.t.Helper()
	c, resp, err := w.dial(&l, nil)
	if err != nil {
		w.t.Fatalf("dial: %v (%v)", err, status(resp))
	}
	w.t.Cleanup(func() { c.Close() })
	_, msg, err := c.ReadMessage()
	if err != nil || !strings.HasSuffix(string(msg), " "+l.SessionID) {
		w.t.Fatalf("greeting %q, %v", msg, err)
	}
	return c
}

func status(resp *http.Response) string {
	if resp == nil {
		return "no response"
	}
	return resp.Status
}

// refusal returns the status and error code of a refused handshake.
func refusal(t *testing.T, resp *http.Response, err error) (int, string, string) {
	t.Helper()
	if !errors.Is(err, websocket.ErrBadHandshake) || resp == nil {
		t.Fatalf("handshake not refused: %v", err)
	}
	var body struct {
		Error struct{ Code, Message string }
	}
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &body)
	return resp.StatusCode, body.Error.Code, body.Error.Message
}

// closed waits for the server to close c and returns the close code and text.
func closed(t *testing.T, c *websocket.Conn) (int, string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(30 * time.Second)) // failure guard
	for {
		_, _, err := c.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Text
		}
		if err != nil {
			t.Fatalf("socket ended without a close frame: %v", err)
		}
	}
}

// alive proves c is open: an echo round trip.
func alive(t *testing.T, c *websocket.Conn, who string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if err := c.WriteMessage(websocket.TextMessage, []byte("ping")); err != nil {
		t.Fatalf("%s: write: %v", who, err)
	}
	if _, msg, err := c.ReadMessage(); err != nil || string(msg) != "ping" {
		t.Fatalf("%s: %q, %v", who, msg, err)
	}
}

func (w *world) waitCount(n int) {
	w.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); w.ws.Count() != n; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			w.t.Fatalf("%d connections registered, want %d", w.ws.Count(), n)
		}
	}
}

// Upgrades are refused, each with its documented answer, before anything is upgraded.
func TestUpgradeRefusals(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.cp.CreateUser(t, "ada@example.test", password)
	ada := w.cp.Login(t, "ada@example.test", password, "laptop")
	gone := w.cp.Login(t, "ada@example.test", password, "old phone")
	if resp := w.cp.As(t, gone, http.MethodPost, "/auth/logout"); resp.StatusCode != http.StatusNoContent {
		t.Fatal(resp.Status)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, revoked := w.src.Revoked(gone.SessionID); revoked {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("logout never reached the source")
		}
	}
	for name, tc := range map[string]struct {
		login  *cptest.Login
		h      http.Header
		status int
		code   string
	}{
		"foreign origin":         {&ada, http.Header{"Origin": {"https://evil.example"}}, 403, "origin_not_allowed"},
		"origin with a path":     {&ada, http.Header{"Origin": {appOrigin + "/"}}, 403, "origin_not_allowed"},
		"missing origin":         {&ada, http.Header{"Origin": nil}, 403, "origin_not_allowed"},
		"two origins":            {&ada, http.Header{"Origin": {appOrigin, appOrigin}}, 403, "origin_not_allowed"},
		"no cookie":              {nil, nil, 401, "unauthenticated"},
		"no cookie, no origin":   {nil, http.Header{"Origin": nil}, 403, "origin_not_allowed"},
		"forged token":           {nil, http.Header{"Cookie": {ada.Access.Name + "=" + ada.Access.Value[:len(ada.Access.Value)-3] + "AAA"}}, 401, "unauthenticated"},
		"revoked session":        {&gone, nil, 401, "session_inactive"},
		"bearer, foreign origin": {nil, http.Header{"Authorization": {"Bearer " + ada.Access.Value}, "Origin": {"https://evil.example"}}, 403, "origin_not_allowed"},
	} {
		_, resp, err := w.dial(tc.login, tc.h)
		if st, code, _ := refusal(t, resp, err); st != tc.status || code != tc.code {
			t.Errorf("%s: %d %s, want %d %s", name, st, code, tc.status, tc.code)
		}
		// A 401 carries the challenge sessionauth and the control plane send: Bearer
		// alone without a token, invalid_token for one refused or its session ended.
		want := map[string]string{"no cookie": verifier.ChallengeNoToken, "forged token": verifier.ChallengeInvalidToken,
			"revoked session": verifier.ChallengeInvalidToken}[name]
		if got := resp.Header.Get("WWW-Authenticate"); tc.status == 401 && got != want {
			t.Errorf("%s: WWW-Authenticate %q, want %q", name, got, want)
		}
	}
	// A non-browser client: Bearer, no Origin.
	c, resp, err := w.dial(nil, http.Header{"Authorization": {"Bearer " + ada.Access.Value}, "Origin": nil})
	if err != nil {
		t.Fatalf("bearer without origin: %v %s", err, status(resp))
	}
	c.Close()

	// An expired access token with a live session: refresh and retry, no redirect.
	w.clock.Store(0)
	expired, err := sessionauth.NewChecker(w.src, sessionauth.CheckerConfig{Now: func() time.Time { return time.Now().Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	later, err := wsauth.New(wsauth.Config{Checker: expired, AllowedOrigins: []string{appOrigin}})
	if err != nil {
		t.Fatal(err)
	}
	defer later.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if c, err := later.Upgrade(rw, r, nil); err == nil {
			c.Close()
		}
	}))
	defer srv.Close()
	_, resp, err = websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), http.Header{"Origin": {appOrigin}, "Cookie": {ada.Header()}})
	st, code, msg := refusal(t, resp, err)
	if st != 401 || code != "token_expired" || !strings.Contains(msg, "refresh") || resp.Header.Get("Location") != "" ||
		!strings.Contains(resp.Header.Get("WWW-Authenticate"), "expired") {
		t.Fatalf("expired token: %d %s %q %v", st, code, msg, resp.Header)
	}
	w.waitCount(0)
}

// A socket lives as long as its session: each way a session ends closes its sockets,
// and only its sockets, with the documented code; nothing stays registered.
func TestSessionEndClosesItsSockets(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.cp.CreateUser(t, "ada@example.test", password)
	w.cp.CreateUser(t, "bob@example.test", password)
	laptop := w.cp.Login(t, "ada@example.test", password, "laptop")
	phone := w.cp.Login(t, "ada@example.test", password, "phone")
	tablet := w.cp.Login(t, "ada@example.test", password, "tablet")
	bob := w.cp.Login(t, "bob@example.test", password, "bob's laptop")
	sLaptop, sLaptop2, sPhone, sTablet, sBob := w.open(laptop), w.open(laptop), w.open(phone), w.open(tablet), w.open(bob)
	w.waitCount(5)

	if resp := w.cp.As(t, laptop, http.MethodPost, "/auth/logout"); resp.StatusCode != http.StatusNoContent {
		t.Fatal(resp.Status)
	}
	for _, c := range []*websocket.Conn{sLaptop, sLaptop2} {
		if code, text := closed(t, c); code != wsauth.CloseLogout || text != "logout" {
			t.Fatalf("laptop after logout: %d %q", code, text)
		}
	}
	alive(t, sPhone, "phone")
	alive(t, sBob, "bob")

	// Sign the phone out from the tablet ("your devices").
	if resp := w.cp.As(t, tablet, http.MethodDelete, "/auth/sessions/"+phone.SessionID); resp.StatusCode != http.StatusNoContent {
		t.Fatal(resp.Status)
	}
	if code, text := closed(t, sPhone); code != wsauth.CloseRevokedByUser || text != "revoked_by_user" {
		t.Fatalf("phone signed out from the tablet: %d %q", code, text)
	}
	alive(t, sTablet, "tablet")

	// Bob's refresh token is replayed after two rotations: reuse, session revoked.
	rt1 := bob.Refresh
	rt2 := refresh(t, w.cp, rt1)
	refresh(t, w.cp, rt2)
	resp := w.cp.Do(t, http.MethodPost, "/auth/refresh", nil, http.Header{"Cookie": {rt1.Name + "=" + rt1.Value}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("replayed refresh token: %s", resp.Status)
	}
	if code, text := closed(t, sBob); code != wsauth.CloseRefreshReused || text != "refresh_token_reused" {
		t.Fatalf("bob after reuse: %d %q", code, text)
	}
	alive(t, sTablet, "tablet")

	// Logout-all closes every device of the user.
	sTablet2 := w.open(tablet)
	if resp := w.cp.As(t, tablet, http.MethodPost, "/auth/logout-all"); resp.StatusCode != http.StatusOK {
		t.Fatal(resp.Status)
	}
	for _, c := range []*websocket.Conn{sTablet, sTablet2} {
		if code, text := closed(t, c); code != wsauth.CloseLogoutAll || text != "logout_all" {
			t.Fatalf("tablet after logout-all: %d %q", code, text)
		}
	}
	w.waitCount(0)
}

// Logout-all from one of several devices ends every session of the user, so the
// sockets of each device close with 4002 logout_all, not only the caller's; another
// user's socket stays open, and none of the ended sessions can open a new one. The
// numbers are the documented ones (controlplane/README.md, "WebSockets"), not the
// constants.
func TestLogoutAllClosesEveryDevicesSockets(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.cp.CreateUser(t, "ada@example.test", password)
	w.cp.CreateUser(t, "bob@example.test", password)
	devices := []string{"laptop", "phone", "tablet"}
	logins := make([]cptest.Login, len(devices))
	socks := make([]*websocket.Conn, len(devices))
	for i, name := range devices {
		logins[i] = w.cp.Login(t, "ada@example.test", password, name)
		socks[i] = w.open(logins[i])
	}
	bob := w.cp.Login(t, "bob@example.test", password, "bob's laptop")
	sBob := w.open(bob)
	w.waitCount(len(devices) + 1)

	resp := w.cp.As(t, logins[1], http.MethodPost, "/auth/logout-all") // from the phone
	if resp.StatusCode != http.StatusOK {
		t.Fatal(resp.Status)
	}
	for i, c := range socks {
		t.Run(devices[i], func(t *testing.T) {
			if code, text := closed(t, c); code != 4002 || text != "logout_all" {
				t.Fatalf("%s after logout-all from the phone: %d %q", devices[i], code, text)
			}
		})
	}
	alive(t, sBob, "bob")
	w.waitCount(1) // bob's only

	var out struct{ Revoked int }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Revoked != len(devices) {
		t.Fatalf("logout-all answered %+v, %v; want %d sessions revoked", out, err, len(devices))
	}
	for i, l := range logins {
		_, resp, err := w.dial(&l, nil)
		if st, code, _ := refusal(t, resp, err); st != 401 || code != "session_inactive" {
			t.Errorf("%s after logout-all: %d %s, want 401 session_inactive", devices[i], st, code)
		}
	}
	alive(t, sBob, "bob")
}

func refresh(t *testing.T, cp *cptest.ControlPlane, rt *http.Cookie) *http.Cookie {
	t.Helper()
	resp := cp.Do(t, http.MethodPost, "/auth/refresh", nil, http.Header{"Cookie": {rt.Name + "=" + rt.Value}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh: %s", resp.Status)
	}
	for _, c := range resp.Cookies() {
		if c.Name == rt.Name {
			return c
		}
	}
	t.Fatal("no refresh cookie")
	return nil
}

// The session's absolute expiry closes its sockets (4010).
func TestAbsoluteExpiryClosesSocket(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.cp.CreateUser(t, "ada@example.test", password)
	l := w.cp.Login(t, "ada@example.test", password, "laptop")
	// The WebSocket server's clock is five seconds short of the session's end: room for
	// a slow run (-race) to dial and read the greeting before it (one second was not).
	w.clock.Store(int64((w.cp.Config.Sessions.AbsoluteLifetime - 5*time.Second) / time.Second))
	c := w.open(l)
	if code, text := closed(t, c); code != wsauth.CloseSessionExpired || text != "session_expired" {
		t.Fatalf("at the session's absolute expiry: %d %q", code, text)
	}
	w.waitCount(0)
}

// Removing the key that signed a socket's token closes it (4011); a socket authorized
// by a token of the new key stays.
func TestSigningKeyRemovalClosesSocket(t *testing.T) {
	var offset atomic.Int64
	cpNow := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	w := newWorld(t, worldOptions{cpNow: cpNow})
	w.cp.CreateUser(t, "ada@example.test", password)
	old := w.open(w.cp.Login(t, "ada@example.test", password, "laptop"))
	ctx := context.Background()
	if _, err := w.cp.App.Keys.Rotate(ctx, keys.RotateOptions{Immediate: true}); err != nil {
		t.Fatal(err)
	}
	fresh := w.open(w.cp.Login(t, "ada@example.test", password, "phone"))
	// The retired key stays published until its tokens have expired, then goes.
	offset.Store(int64(w.cp.Config.Keys.RetireAfter + time.Minute))
	if err := w.cp.App.Keys.Advance(ctx); err != nil {
		t.Fatal(err)
	}
	_ = w.src.Sync(ctx) // the new JWKS (the list, signed at the control plane's later time, may be refused)
	if code, text := closed(t, old); code != wsauth.CloseSigningKeyGone || text != "signing_key_removed" {
		t.Fatalf("after its key was removed: %d %q", code, text)
	}
	alive(t, fresh, "socket of the new key")
	w.waitCount(1) // the closed one is not registered any more
}

// A WebSocket server that cannot reach the control plane for longer than MaxStale
// closes its sockets with 1013 (try again later) and refuses new ones with 503.
func TestStaleSourceClosesSockets(t *testing.T) {
	var offset atomic.Int64
	srcNow := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	w := newWorld(t, worldOptions{srcNow: srcNow, maxStale: time.Minute, pollEvery: 20 * time.Millisecond})
	w.cp.CreateUser(t, "ada@example.test", password)
	l := w.cp.Login(t, "ada@example.test", password, "laptop")
	c := w.open(l)
	// The control plane is gone: no new connections first, then none of the open ones
	// (the other order leaves a connection accepted in between serving polls).
	w.cp.Server.Listener.Close()
	w.cp.Server.CloseClientConnections()
	w.cp.App.Revocations.EndStreams()
	// The source's clock runs on, a minute per tick, until the socket ends: a poll that
	// reached the control plane just before it went away may still succeed and be
	// stamped with an advanced clock, so one fixed jump past MaxStale is not enough.
	stopClock := make(chan struct{})
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				offset.Add(int64(time.Minute))
			case <-stopClock:
				return
			}
		}
	}()
	code, text := closed(t, c)
	close(stopClock)
	if code != wsauth.CloseAuthUnavailable || text != "auth_unavailable" {
		t.Fatalf("stale: %d %q", code, text)
	}
	_, resp, err := w.dial(&l, nil)
	if st, code, _ := refusal(t, resp, err); st != 503 || code != "unavailable" {
		t.Fatalf("upgrade while stale: %d %s", st, code)
	}
	w.waitCount(0)
}

// A password change closes the user's other sessions' sockets with 4006
// password_changed, and those of the session it was made from, which it replaces, with
// 4012 session_replaced; the new session's cookies open a socket again, the old ones
// cannot. Nobody else's close. The numbers are the documented ones
// (controlplane/README.md, "WebSockets"), not the constants, so that changing a constant
// fails here too.
func TestPasswordChangeClosesSockets(t *testing.T) {
	w := newWorld(t, worldOptions{})
	ada := w.cp.CreateUser(t, "ada@example.test", password)
	w.cp.CreateUser(t, "bob@example.test", password)
	laptop := w.cp.Login(t, "ada@example.test", password, "laptop")
	phone := w.cp.Login(t, "ada@example.test", password, "phone")
	bob := w.cp.Login(t, "bob@example.test", password, "bob's laptop")
	sLaptop, sLaptop2, sPhone, sBob := w.open(laptop), w.open(laptop), w.open(phone), w.open(bob)
	w.waitCount(4)

	// Changed from the laptop: the phone is signed out, the laptop's session replaced.
	laptopNow := w.cp.ChangePassword(t, laptop, password, "a brand new passphrase")
	if code, text := closed(t, sPhone); code != 4006 || text != "password_changed" {
		t.Fatalf("phone after the password change: %d %q", code, text)
	}
	for _, c := range []*websocket.Conn{sLaptop, sLaptop2} {
		if code, text := closed(t, c); code != 4012 || text != "session_replaced" {
			t.Fatalf("laptop after its password change: %d %q", code, text)
		}
	}
	alive(t, sBob, "bob")
	w.waitCount(1)
	_, resp, err := w.dial(&laptop, nil)
	if st, code, _ := refusal(t, resp, err); st != 401 || code != "session_inactive" {
		t.Fatalf("the replaced session's cookies: %d %s", st, code)
	}
	sLaptopNow := w.open(laptopNow)
	w.waitCount(2)

	// Changed keeping no session (an administrator's reset): every socket of ada's goes.
	if err := w.cp.App.Auth.SetPassword(context.Background(), ada.ID, "yet another passphrase", ""); err != nil {
		t.Fatal(err)
	}
	if code, text := closed(t, sLaptopNow); code != 4006 || text != "password_changed" {
		t.Fatalf("laptop after the reset: %d %q", code, text)
	}
	alive(t, sBob, "bob")
	w.waitCount(1) // bob's only
	sBob.Close()
	w.waitCount(0)
}

// A session that signed in with the password alone, of an account that must now use a
// second factor (here: made an admin, the role the policy covers), ends at its next
// refresh, and its sockets close with 4014 second_factor_required. Another user's stay.
func TestSecondFactorPolicyClosesPasswordOnlySockets(t *testing.T) {
	w := newWorld(t, worldOptions{configure: func(c *config.Config) { c.SecondFactor.RequiredFor = []string{"admin"} }})
	ada := w.cp.CreateUser(t, "ada@example.test", password)
	w.cp.CreateUser(t, "bob@example.test", password)
	laptop := w.cp.Login(t, "ada@example.test", password, "laptop")
	bob := w.cp.Login(t, "bob@example.test", password, "bob's laptop")
	sLaptop, sBob := w.open(laptop), w.open(bob)
	w.waitCount(2)

	if err := w.cp.App.Auth.SetRoles(context.Background(), ada.ID, []string{"admin"}); err != nil {
		t.Fatal(err)
	}
	resp := w.cp.Do(t, "POST", "/auth/refresh", nil, http.Header{"Cookie": {laptop.Header()}})
	if resp.StatusCode != 401 {
		t.Fatalf("refreshing the password-only session of a new admin: %d", resp.StatusCode)
	}
	if code, text := closed(t, sLaptop); code != 4014 || text != "second_factor_required" {
		t.Fatalf("the laptop's socket: %d %q", code, text)
	}
	alive(t, sBob, "bob")
	w.waitCount(1)
}

// A revocation learned only from the signed list, which names sessions without a
// cause, closes with 4000 session_revoked: here a source that does not hold the stream
// (NoStream) hears of a logout, which the stream would have called 4001 logout, by
// polling.
func TestRevocationFromListClosesSocket(t *testing.T) {
	w := newWorld(t, worldOptions{noStream: true, pollEvery: 20 * time.Millisecond})
	w.cp.CreateUser(t, "ada@example.test", password)
	w.cp.CreateUser(t, "bob@example.test", password)
	laptop := w.cp.Login(t, "ada@example.test", password, "laptop")
	phone := w.cp.Login(t, "ada@example.test", password, "phone")
	bob := w.cp.Login(t, "bob@example.test", password, "bob's laptop")
	sLaptop, sPhone, sBob := w.open(laptop), w.open(phone), w.open(bob)
	w.waitCount(3)
	if w.src.Streaming() {
		t.Fatal("a NoStream source holds the stream")
	}
	if resp := w.cp.As(t, laptop, http.MethodPost, "/auth/logout"); resp.StatusCode != http.StatusNoContent {
		t.Fatal(resp.Status)
	}
	if code, text := closed(t, sLaptop); code != 4000 || text != "session_revoked" {
		t.Fatalf("laptop after a logout learned from the list: %d %q", code, text)
	}
	alive(t, sPhone, "phone")
	alive(t, sBob, "bob")
	w.waitCount(2)
}

// Closing the Server (the application shutting down) closes every socket with 1001
// going_away, whoever it belongs to; a socket upgraded after Close is closed at once
// the same way; nothing stays registered.
func TestServerCloseClosesEverySocket(t *testing.T) {
	w := newWorld(t, worldOptions{})
	w.cp.CreateUser(t, "ada@example.test", password)
	w.cp.CreateUser(t, "bob@example.test", password)
	laptop := w.cp.Login(t, "ada@example.test", password, "laptop")
	phone := w.cp.Login(t, "ada@example.test", password, "phone")
	bob := w.cp.Login(t, "bob@example.test", password, "bob's laptop")
	socks := []*websocket.Conn{w.open(laptop), w.open(laptop), w.open(phone), w.open(bob)}
	w.waitCount(len(socks))
	if err := w.ws.Close(); err != nil {
		t.Fatal(err)
	}
	for i, c := range socks {
		if code, text := closed(t, c); code != 1001 || text != "going_away" {
			t.Fatalf("socket %d after Close: %d %q", i, code, text)
		}
	}
	w.waitCount(0)

	// The session is still live and the upgrade is authorized, but the server is closing.
	late, resp, err := w.dial(&bob, nil)
	if err != nil {
		t.Fatalf("dial after Close: %v (%v)", err, status(resp))
	}
	defer late.Close()
	if code, text := closed(t, late); code != 1001 || text != "going_away" {
		t.Fatalf("socket opened after Close: %d %q", code, text)
	}
	w.waitCount(0)
}

// An operator's act on a user closes every socket of the user, and no one else's: a
// sign-out (`edgeauth users logout`: Accounts.EndSessions) with 4007 ended_by_operator,
// a disabling (`edgeauth users disable`: Accounts.DisableUser) with 4008
// account_disabled. A sign-out of everyone (`users logout --all`:
// Accounts.EndAllSessions) closes every user's, with 4007.
func TestOperatorActsCloseSockets(t *testing.T) {
	for _, tc := range []struct {
		act      string
		do       func(a *auth.Accounts) (ended int, err error)
		code     int
		reason   string
		everyone bool // bob's socket closes too
	}{
		{"sign-out", func(a *auth.Accounts) (int, error) {
			_, n, err := a.EndSessions(context.Background(), "ada@example.test")
			return n, err
		}, 4007, "ended_by_operator", false},
		{"disabling", func(a *auth.Accounts) (int, error) {
			ch, err := a.DisableUser(context.Background(), "ada@example.test")
			return ch.Ended, err
		}, 4008, "account_disabled", false},
		{"sign-out of everyone", func(a *auth.Accounts) (int, error) {
			return a.EndAllSessions(context.Background())
		}, 4007, "ended_by_operator", true},
	} {
		t.Run(tc.act, func(t *testing.T) {
			w := newWorld(t, worldOptions{})
			w.cp.CreateUser(t, "ada@example.test", password)
			w.cp.CreateUser(t, "bob@example.test", password)
			laptop := w.cp.Login(t, "ada@example.test", password, "laptop")
			phone := w.cp.Login(t, "ada@example.test", password, "phone")
			bob := w.cp.Login(t, "bob@example.test", password, "bob's laptop")
			sLaptop, sPhone, sBob := w.open(laptop), w.open(phone), w.open(bob)
			w.waitCount(3)

			ending := map[string]*websocket.Conn{"laptop": sLaptop, "phone": sPhone}
			if tc.everyone {
				ending["bob"] = sBob
			}
			if n, err := tc.do(w.cp.App.Auth.Accounts); err != nil || n != len(ending) {
				t.Fatalf("the operator's %s: %d sessions ended, %v", tc.act, n, err)
			}
			for name, c := range ending {
				if code, text := closed(t, c); code != tc.code || text != tc.reason {
					t.Fatalf("%s after the operator's %s: %d %q", name, tc.act, code, text)
				}
			}
			if tc.everyone {
				w.waitCount(0)
				return
			}
			alive(t, sBob, "bob")
			w.waitCount(1) // bob's only
		})
	}
}

// When the revocation list covers revocations with a cutoff instead of naming them,
// sockets opened with tokens issued before it close with 4013 (this server may have
// missed their sessions' revocations), such a token opens no new one, and sockets
// opened with newer tokens stay.
func TestListCutoffClosesSocketsOpenedWithOlderTokens(t *testing.T) {
	var offset atomic.Int64
	start := time.Now().Truncate(time.Second)
	cpNow := func() time.Time { return start.Add(time.Duration(offset.Load())) }
	// A source that only polls: it learns of revocations from the list alone, as a
	// server that fell behind the stream does.
	w := newWorld(t, worldOptions{cpNow: cpNow, noStream: true, listBytes: 32 + 3}) // one id
	ctx := context.Background()
	w.cp.CreateUser(t, "ada@example.test", password)
	w.cp.CreateUser(t, "bob@example.test", password)
	laptop := w.cp.Login(t, "ada@example.test", password, "laptop")
	phone := w.cp.Login(t, "ada@example.test", password, "phone")
	older := w.open(laptop)
	offset.Store(int64(2 * time.Second))
	tablet := w.cp.Login(t, "ada@example.test", password, "tablet")
	offset.Store(int64(3 * time.Second))
	bob := w.open(w.cp.Login(t, "bob@example.test", password, "bob's laptop"))
	for _, l := range []cptest.Login{phone, tablet} {
		if r := w.cp.As(t, l, http.MethodPost, "/auth/logout"); r.StatusCode != http.StatusNoContent {
			t.Fatalf("logout: %s", r.Status)
		}
	}
	if err := w.cp.App.Revocations.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.src.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := w.src.Cutoff(), start.Add(time.Second); !got.Equal(want) {
		t.Fatalf("cutoff %v, want %v (the second after the phone's token)", got, want)
	}
	if code, text := closed(t, older); code != wsauth.CloseTokenSuperseded || text != "token_superseded" {
		t.Fatalf("socket opened with a token issued before the cutoff: %d %q", code, text)
	}
	alive(t, bob, "socket opened with a token issued after the cutoff")
	// The same token cannot open another: it is refused as expired, so the client
	// refreshes first.
	if c, resp, err := w.dial(&laptop, nil); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		if c != nil {
			c.Close()
		}
		t.Fatalf("a socket opened after the cutoff with an older token: %v (%v)", err, status(resp))
	}
	w.waitCount(1)
}

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/freeport"
	"github.com/edgeauth/edgeauth/internal/pgtest"
	"github.com/edgeauth/edgeauth/internal/syncbuf"
	"github.com/edgeauth/edgeauth/wsauth"
	"github.com/gorilla/websocket"
)

// The tests in this file run everything as separate processes: three `edgeauth serve`
// replicas of the control plane on one PostgreSQL database, and three hostdemo edges,
// each following a different replica (keys, revocation stream) and relaying
// WebSockets to its own chat server.

var edgeauthBin struct {
	once sync.Once
	path string
	err  error
}

// edgeauthBinary builds the control plane's binary once per test process.
func edgeauthBinary(t *testing.T) string {
	t.Helper()
	edgeauthBin.once.Do(func() {
		dir := filepath.Dir(binary) // the hostdemo binary's temporary directory, removed by TestMain
		edgeauthBin.path = filepath.Join(dir, "edgeauth")
		out, err := exec.Command("go", "build", "-o", edgeauthBin.path, "github.com/edgeauth/edgeauth/controlplane/cmd/edgeauth").CombinedOutput()
		if err != nil {
			edgeauthBin.err = errors.New(err.Error() + "\n" + string(out))
		}
	})
	if edgeauthBin.err != nil {
		t.Fatalf("building edgeauth: %v", edgeauthBin.err)
	}
	return edgeauthBin.path
}

// proc is a process the test started; it is stopped when the test ends.
type proc struct {
	t      *testing.T
	name   string
	args   []string
	env    []string
	logs   *syncbuf.Buffer
	cmd    *exec.Cmd
	exited chan struct{}
}

func startProc(t *testing.T, name string, env []string, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: name, args: append([]string{bin}, args...), env: env, logs: &syncbuf.Buffer{}}
	p.start()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.logs.String())
		}
	})
	return p
}

func (p *proc) start() {
	p.t.Helper()
	p.cmd = exec.Command(p.args[0], p.args[1:]...)
	p.cmd.Env = append(os.Environ(), p.env...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) { cmd.Wait(); close(exited) }(p.cmd, p.exited)
}

// stop ends the process (SIGTERM, then SIGKILL after a generous wait).
func (p *proc) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// waitHTTP waits until url answers with a status ok accepts.
func (p *proc) waitHTTP(url string, ok func(int) bool) {
	p.t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if ok(resp.StatusCode) {
				return
			}
		}
		select {
		case <-p.exited:
			p.t.Fatalf("%s exited:\n%s", p.name, p.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s not ready at %s:\n%s", p.name, url, p.logs.String())
		}
	}
}

const publicOrigin = "https://app.example.test"

// cluster is the replicas and the edges.
type cluster struct {
	t        *testing.T
	db       string
	env      []string
	replicas []*proc
	cpURL    []string
	edgeURL  []string
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{t: t, db: pgtest.NewMigratedDatabase(t)}
	c.env = []string{"EDGEAUTH_DATABASE_URL=" + c.db, "EDGEAUTH_KEYS__KEK=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
		"EDGEAUTH_PUBLIC_URL=" + publicOrigin}
	bin := edgeauthBinary(t)
	for i, name := range []string{"replica A", "replica B", "replica C"} {
		addr := freeAddr(t)
		c.cpURL = append(c.cpURL, "http://"+addr)
		c.replicas = append(c.replicas, startProc(t, name, append(c.env, "EDGEAUTH_LISTEN="+addr), bin, "serve", "--migrate=false"))
		c.replicas[i].waitHTTP(c.cpURL[i]+"/readyz", func(s int) bool { return s == http.StatusOK })
	}
	for i, name := range []string{"edge A", "edge B", "edge C"} {
		addr := freeAddr(t)
		c.edgeURL = append(c.edgeURL, "http://"+addr)
		// Polling is out of the picture: revocations reach the edges by the stream only.
		e := startProc(t, name, nil, binary, "--control-plane", c.cpURL[i], "--listen", addr,
			"--poll", "1h", "--max-stale", "2h", "--ws-origins", publicOrigin)
		e.waitHTTP(c.edgeURL[i]+"/", func(s int) bool { return s != http.StatusServiceUnavailable })
	}
	return c
}

// freeAddr is an address for a process to listen on (freeport: not one the kernel may
// hand to another listener meanwhile).
func freeAddr(t *testing.T) string { return freeport.Addr(t) }

func (c *cluster) createUser(email string) {
	c.t.Helper()
	cmd := exec.Command(edgeauthBinary(c.t), "users", "create", "--email", email)
	cmd.Env = append(os.Environ(), c.env...)
	cmd.Stdin = strings.NewReader(demoPassword + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		c.t.Fatalf("users create: %v\n%s", err, out)
	}
}

// device is one signed-in client: its cookies.
type device struct {
	name    string
	session string
	access  *http.Cookie
	refresh *http.Cookie
}

func (d device) cookieHeader() string {
	return d.access.Name + "=" + d.access.Value + "; " + d.refresh.Name + "=" + d.refresh.Value
}

// call sends a request to replica i as a browser on the app would.
func (c *cluster) call(i int, method, path string, body []byte, cookie string) (*http.Response, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.cpURL[i]+path, bytes.NewReader(body))
	req.Header.Set("Origin", publicOrigin)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, b
}

func (c *cluster) login(i int, email, name string) device {
	c.t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": demoPassword})
	resp, b := c.call(i, http.MethodPost, "/auth/login", body, "")
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("login: %s %s", resp.Status, b)
	}
	d := device{name: name}
	var out struct {
		SessionID string `json:"session_id"`
	}
	json.Unmarshal(b, &out)
	d.session = out.SessionID
	for _, ck := range resp.Cookies() {
		switch {
		case strings.HasSuffix(ck.Name, "edgeauth_at"):
			d.access = ck
		case strings.HasSuffix(ck.Name, "edgeauth_rt"):
			d.refresh = ck
		}
	}
	if d.access == nil || d.refresh == nil {
		c.t.Fatalf("login set %v", resp.Header.Values("Set-Cookie"))
	}
	return d
}

// socket is one client's chat socket through an edge.
type socket struct {
	t    *testing.T
	name string
	conn *websocket.Conn
}

func (c *cluster) open(edge int, d device) *socket {
	c.t.Helper()
	url := "ws" + strings.TrimPrefix(c.edgeURL[edge], "http") + "/app/live/socket"
	// The site's host, as a load balancer in front of the edges would pass it on (the
	// chat server behind the edge checks Origin against it, as gorilla does by default).
	h := http.Header{"Origin": {publicOrigin}, "Cookie": {d.cookieHeader()}, "Host": {strings.TrimPrefix(publicOrigin, "https://")}}
	conn, resp, err := websocket.DefaultDialer.Dial(url, h)
	if err != nil {
		c.t.Fatalf("socket for %s through edge %d: %v (%v)", d.name, edge, err, resp)
	}
	c.t.Cleanup(func() { conn.Close() })
	return &socket{t: c.t, name: d.name + " via edge " + string(rune('A'+edge)), conn: conn}
}

// alive sends a line and waits until the chat room echoes it back.
func (s *socket) alive() {
	s.t.Helper()
	line := "still here " + s.name + " " + time.Now().Format(time.RFC3339Nano)
	if err := s.conn.WriteMessage(websocket.TextMessage, []byte(line)); err != nil {
		s.t.Fatalf("%s: write: %v", s.name, err)
	}
	s.conn.SetReadDeadline(time.Now().Add(30 * time.Second)) // failure guard
	for {
		_, msg, err := s.conn.ReadMessage()
		if err != nil {
			s.t.Fatalf("%s is not alive: %v", s.name, err)
		}
		if strings.HasSuffix(string(msg), ": "+line) {
			return
		}
	}
}

// closedWith waits for the close frame and checks its code.
func (s *socket) closedWith(code int, reason string) {
	s.t.Helper()
	s.conn.SetReadDeadline(time.Now().Add(60 * time.Second)) // failure guard
	for {
		_, _, err := s.conn.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			if ce.Code != code || ce.Text != reason {
				s.t.Fatalf("%s closed with %d %q, want %d %q", s.name, ce.Code, ce.Text, code, reason)
			}
			return
		}
		if err != nil {
			s.t.Fatalf("%s ended without a close frame: %v", s.name, err)
		}
	}
}

// Three control-plane replicas on one database, three edges each following another
// replica: a logout through replica A closes that session's sockets on every edge and
// nobody else's; a device signed out through replica B, refresh-token reuse detected by
// replica C, and logout-all close theirs everywhere; another user's sockets stay open
// throughout. A replica that restarts while revocations happen elsewhere: its edge
// reconnects to it, resumes from the last event it applied, and closes the sockets
// with the right codes (polling is off, so only the stream can tell it).
func TestReplicasCloseSocketsEverywhere(t *testing.T) {
	c := startCluster(t)
	c.createUser("ada@example.test")
	c.createUser("carol@example.test")
	laptop := c.login(0, "ada@example.test", "laptop")
	phone := c.login(1, "ada@example.test", "phone")
	tablet := c.login(2, "ada@example.test", "tablet")
	carol := c.login(0, "carol@example.test", "carol")
	onEach := func(d device) []*socket {
		return []*socket{c.open(0, d), c.open(1, d), c.open(2, d)}
	}
	sLaptop, sPhone, sTablet, sCarol := onEach(laptop), onEach(phone), onEach(tablet), onEach(carol)
	for _, s := range append(append(sLaptop, sPhone...), sCarol...) {
		s.alive()
	}

	if resp, b := c.call(0, http.MethodPost, "/auth/logout", nil, laptop.cookieHeader()); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout through replica A: %s %s", resp.Status, b)
	}
	for _, s := range sLaptop {
		s.closedWith(wsauth.CloseLogout, "logout")
	}
	for _, s := range append(append(sPhone, sTablet...), sCarol...) {
		s.alive()
	}
	// Refused at the edge binary, each with its status, before anything is upgraded.
	for name, tc := range map[string]struct {
		h      http.Header
		status int
	}{
		"foreign origin":  {http.Header{"Origin": {"https://evil.example"}, "Cookie": {phone.cookieHeader()}}, 403},
		"missing origin":  {http.Header{"Cookie": {phone.cookieHeader()}}, 403},
		"missing cookie":  {http.Header{"Origin": {publicOrigin}}, 401},
		"revoked session": {http.Header{"Origin": {publicOrigin}, "Cookie": {laptop.cookieHeader()}}, 401},
	} {
		_, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(c.edgeURL[1], "http")+"/app/live/socket", tc.h)
		if !errors.Is(err, websocket.ErrBadHandshake) || resp.StatusCode != tc.status {
			t.Errorf("%s: %v %v, want %d", name, err, resp, tc.status)
		}
	}

	// The tablet signs the phone out, through replica B.
	if resp, b := c.call(1, http.MethodDelete, "/auth/sessions/"+phone.session, nil, tablet.cookieHeader()); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("sign the phone out: %s %s", resp.Status, b)
	}
	for _, s := range sPhone {
		s.closedWith(wsauth.CloseRevokedByUser, "revoked_by_user")
	}

	// Carol's refresh token is stolen and replayed after she used it: replica C
	// detects the reuse and revokes her session... but first a second device of hers
	// shows that only the stolen session's sockets close.
	carol2 := c.login(2, "carol@example.test", "carol's phone")
	sCarol2 := onEach(carol2)
	refreshAt := func(i int, rt *http.Cookie) (*http.Response, *http.Cookie) {
		resp, _ := c.call(i, http.MethodPost, "/auth/refresh", nil, rt.Name+"="+rt.Value)
		for _, ck := range resp.Cookies() {
			if ck.Name == rt.Name {
				return resp, ck
			}
		}
		return resp, nil
	}
	resp, rt2 := refreshAt(0, carol.refresh)
	if resp.StatusCode != http.StatusOK || rt2 == nil {
		t.Fatalf("refresh: %s", resp.Status)
	}
	if resp, _ := refreshAt(1, rt2); resp.StatusCode != http.StatusOK {
		t.Fatalf("second refresh: %s", resp.Status)
	}
	if resp, _ := refreshAt(2, carol.refresh); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("replayed refresh token: %s", resp.Status)
	}
	for _, s := range sCarol {
		s.closedWith(wsauth.CloseRefreshReused, "refresh_token_reused")
	}
	for _, s := range append(sTablet, sCarol2...) {
		s.alive()
	}

	// Replica B restarts; while it is down, ada signs out everywhere through replica A.
	// Edge B resumes from its last event when B is back and closes with logout_all.
	c.replicas[1].stop()
	if resp, b := c.call(0, http.MethodPost, "/auth/logout-all", nil, tablet.cookieHeader()); resp.StatusCode != http.StatusOK {
		t.Fatalf("logout-all: %s %s", resp.Status, b)
	}
	sTablet[0].closedWith(wsauth.CloseLogoutAll, "logout_all")
	sTablet[2].closedWith(wsauth.CloseLogoutAll, "logout_all")
	c.replicas[1].start()
	sTablet[1].closedWith(wsauth.CloseLogoutAll, "logout_all")
	for _, s := range sCarol2 {
		s.alive()
	}
}

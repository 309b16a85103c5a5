package sessionauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
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

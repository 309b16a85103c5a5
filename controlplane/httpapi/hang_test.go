package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/pgtest"
)

// TestRequestsAnsweredWhileTheDatabaseHangs: a database that stops answering (a host
// that hangs, or one a failover leaves behind with its connections open: nothing is
// refused, nothing comes back) must not hold requests until their clients give up.
// Each is answered as while the database is down, 503 unavailable with Retry-After
// (openapi.yaml), and answers as before once the database is back.
func TestRequestsAnsweredWhileTheDatabaseHangs(t *testing.T) {
	t.Parallel()
	pg := pgtest.StartServer(t)
	e := newEnv(t, envOptions{dbURL: pg.NewDatabase(t), start: true})
	e.createUser(testEmail, testPassword)
	access, refresh := e.login(testEmail, testPassword)
	otherAccess, otherRefresh := e.login(testEmail, testPassword) // the one that logs out
	e.waitReadyz(200, "ready")                                    // the list's listener is up (a resuming stream replays from the database)

	requests := map[string]req{
		"login":   {method: "POST", path: "/auth/login", body: `{"email":"` + testEmail + `","password":"` + testPassword + `"}`},
		"refresh": {method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{refresh}},
		"me":      {method: "GET", path: "/auth/me", cookies: []*http.Cookie{access}},
		"logout":  {method: "POST", path: "/auth/logout", cookies: []*http.Cookie{otherAccess, otherRefresh}},
		"stream":  {method: "GET", path: "/.well-known/edgeauth/revocations/stream", header: map[string]string{"Last-Event-ID": "0"}},
	}
	pg.Freeze(t)
	type answer struct {
		name   string
		status int
		code   string
		retry  string
		err    error
	}
	// The guard against a hang: far longer than any bound the service sets itself, and
	// ended by the test's end (the database thawed by Freeze's cleanup).
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	answers := make(chan answer, len(requests))
	for name, q := range requests {
		go func() {
			r, err := http.NewRequestWithContext(ctx, q.method, e.srv.URL+q.path, strings.NewReader(q.body))
			if err != nil {
				answers <- answer{name: name, err: err}
				return
			}
			if q.body != "" {
				r.Header.Set("Content-Type", "application/json")
			}
			if q.method != http.MethodGet {
				r.Header.Set("Origin", e.cfg.PublicOrigin())
			}
			for k, v := range q.header {
				r.Header.Set(k, v)
			}
			for _, c := range q.cookies {
				r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
			}
			res, err := e.hc.Do(r)
			if err != nil {
				answers <- answer{name: name, err: err}
				return
			}
			b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
			res.Body.Close()
			answers <- answer{name: name, status: res.StatusCode, code: resp{res, b}.errorCode(), retry: res.Header.Get("Retry-After")}
		}()
	}
	for range requests {
		a := <-answers
		switch {
		case a.err != nil:
			t.Errorf("%s: no answer while the database hangs: %v", a.name, a.err)
		case a.status != http.StatusServiceUnavailable || a.code != "unavailable" || a.retry == "":
			t.Errorf("%s: %d %q Retry-After %q while the database hangs, want 503 unavailable with Retry-After", a.name, a.status, a.code, a.retry)
		}
	}
	pg.Thaw(t)

	// Back: the requests are answered as before the database hung.
	waitUntil(t, 30*time.Second, func() bool {
		return e.do(req{method: "GET", path: "/auth/me", cookies: []*http.Cookie{access}}).StatusCode == http.StatusOK
	})
	if r := e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{refresh}}); r.StatusCode != http.StatusOK {
		t.Fatalf("refresh once the database is back: %d %s", r.StatusCode, r.body)
	}
}

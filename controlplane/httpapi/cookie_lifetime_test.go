package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/config"
)

// Near the session's absolute expiry neither cookie outlives the session: the refresh
// cookie lives min(idle timeout, time left), the access cookie the time left, whether
// the refresh was a POST or the edge's GET.
func TestCookiesDoNotOutliveTheSession(t *testing.T) {
	t.Parallel()
	clk := newClock()
	e := newEnv(t, envOptions{clock: clk, mod: func(c *config.Config) {
		c.Sessions.IdleTimeout = 7 * 24 * time.Hour
		c.Sessions.AbsoluteLifetime = 8 * 24 * time.Hour
	}})
	e.createUser(testEmail, testPassword)
	accessName, refreshName := e.cfg.AccessCookie().Name, e.cfg.RefreshCookie().Name

	r := e.do(req{method: "POST", path: "/auth/login", body: `{"email":"` + testEmail + `","password":"` + testPassword + `"}`})
	if r.StatusCode != 200 {
		t.Fatalf("login: %d %s", r.StatusCode, r.body)
	}
	// A fresh session: the configured lifetimes.
	if a, rt := r.cookie(accessName), r.cookie(refreshName); a.MaxAge != 8*86400 || rt.MaxAge != 7*86400 {
		t.Fatalf("login: access Max-Age %d, refresh Max-Age %d; want %d, %d", a.MaxAge, rt.MaxAge, 8*86400, 7*86400)
	}

	// 36 hours before the absolute expiry a refresh must not hand out 7 days.
	clk.Advance(6*24*time.Hour + 12*time.Hour)
	if err := e.app.Keys.Advance(context.Background()); err != nil { // the key lifecycle at the new time
		t.Fatal(err)
	}
	r = e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{r.cookie(refreshName)}})
	if r.StatusCode != 200 {
		t.Fatalf("refresh: %d %s", r.StatusCode, r.body)
	}
	left := 36 * 3600
	if a, rt := r.cookie(accessName), r.cookie(refreshName); a.MaxAge != left || rt.MaxAge != left {
		t.Fatalf("refresh 36h before the absolute expiry: access Max-Age %d, refresh Max-Age %d; want %d for both", a.MaxAge, rt.MaxAge, left)
	}

	// The refresh an edge sends a browser through (GET, then a redirect) sets the same
	// cookies: 12 hours later, 24 hours are left.
	clk.Advance(12 * time.Hour)
	r = e.do(req{method: "GET", path: "/auth/refresh?return_to=/app", cookies: []*http.Cookie{r.cookie(refreshName)}})
	if r.StatusCode != http.StatusFound || r.Header.Get("Location") != "/app" {
		t.Fatalf("GET refresh: %d %s %q", r.StatusCode, r.body, r.Header.Get("Location"))
	}
	left = 24 * 3600
	if a, rt := r.cookie(accessName), r.cookie(refreshName); a.MaxAge != left || rt.MaxAge != left {
		t.Fatalf("GET refresh 24h before the absolute expiry: access Max-Age %d, refresh Max-Age %d; want %d for both", a.MaxAge, rt.MaxAge, left)
	}
}

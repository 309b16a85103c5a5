package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// Ending other sessions needs a recent sign-in (OWASP ASVS 5.0 7.5.2). Past
// sessions.recent_login (10 min) after its login, a session gets 403
// reauthentication_required from logout-others, logout-all and the deletion of another
// device's session, without cookies, and nothing ends; a refresh does not renew the
// window. Ending its own session (a logout) still works, and a new sign-in may end the
// others.
func TestEndingOtherSessionsNeedsARecentSignIn(t *testing.T) {
	t.Parallel()
	clk := newClock()
	e := newEnv(t, envOptions{clock: clk})
	e.createUser(testEmail, testPassword)
	_, hereRefresh := e.login(testEmail, testPassword)
	phone, _ := e.login(testEmail, testPassword)
	phoneSID := e.sessionID(phone)

	clk.Advance(11 * time.Minute)
	r := e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{hereRefresh}})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("refresh: %d %s", r.StatusCode, r.body)
	}
	here := r.cookie(e.cfg.AccessCookie().Name)
	hereSID := e.sessionID(here)
	before := e.counts("sessions", "live_sessions", "audit_events")
	for _, q := range []req{
		{method: "POST", path: "/auth/logout-others"},
		{method: "POST", path: "/auth/logout-all"},
		{method: "DELETE", path: "/auth/sessions/" + phoneSID},
	} {
		q.cookies = []*http.Cookie{here}
		r := e.do(q)
		if r.StatusCode != http.StatusForbidden || r.errorCode() != "reauthentication_required" || r.Header.Values("Set-Cookie") != nil {
			t.Errorf("%s %s from a session signed in 11 min ago: %d %s %v", q.method, q.path, r.StatusCode, r.body, r.Header.Values("Set-Cookie"))
		}
	}
	if after := e.counts("sessions", "live_sessions", "audit_events"); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("refused requests changed something: %v -> %v", before, after)
	}
	if r := e.do(req{method: "GET", path: "/auth/me", cookies: []*http.Cookie{phone}}); r.StatusCode != http.StatusUnauthorized || r.errorCode() != "unauthenticated" {
		t.Errorf("the phone's access token should have expired, its session stayed: %d %s", r.StatusCode, r.body)
	}

	// Its own session it may end at any time: that is a logout.
	if r := e.do(req{method: "DELETE", path: "/auth/sessions/" + hereSID, cookies: []*http.Cookie{here}}); r.StatusCode != http.StatusNoContent {
		t.Errorf("deleting its own session: %d %s", r.StatusCode, r.body)
	}

	// Signed in again, it may end the others, until the window closes again.
	again, _ := e.login(testEmail, testPassword)
	if r := e.do(req{method: "DELETE", path: "/auth/sessions/" + phoneSID, cookies: []*http.Cookie{again}}); r.StatusCode != http.StatusNoContent {
		t.Errorf("deleting the phone's session after signing in: %d %s", r.StatusCode, r.body)
	}
	clk.Advance(9 * time.Minute)
	if r := e.do(req{method: "POST", path: "/auth/logout-all", cookies: []*http.Cookie{again}}); r.StatusCode != http.StatusOK {
		t.Errorf("logout-all 9 min after signing in: %d %s", r.StatusCode, r.body)
	}
	if n := e.counts("live_sessions")["live_sessions"]; n != 0 {
		t.Errorf("%d sessions live after logout-all", n)
	}
}

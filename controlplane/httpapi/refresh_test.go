package httpapi_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/config"
	"github.com/edgeauth/edgeauth/internal/pgtest"
	"github.com/golang-jwt/jwt/v5"
)

// 100 tabs refresh with the same cookie at once: every one gets 200 and identical
// cookies, one rotation happened, the session lives. A replay after the grace window
// is reuse: 401, cookies cleared, session revoked everywhere (introspection, list).
func TestConcurrentRefreshThenReplay(t *testing.T) {
	t.Parallel()
	const grace = 5 * time.Second
	clk := newClock() // stands still during the burst; moved past the grace for the replay
	e := newEnv(t, envOptions{start: true, clock: clk, mod: func(c *config.Config) { c.Sessions.RefreshGrace = grace }})
	e.createUser(testEmail, testPassword)
	_, refresh := e.login(testEmail, testPassword)

	const n = 100
	results := make([]resp, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{refresh}})
		}()
	}
	close(start)
	wg.Wait()
	an, rn := e.cfg.AccessCookie().Name, e.cfg.RefreshCookie().Name
	wantA, wantR := results[0].setCookie(an), results[0].setCookie(rn)
	for i, r := range results {
		if r.StatusCode != 200 {
			t.Fatalf("refresh %d: %d %s", i, r.StatusCode, r.body)
		}
		if r.setCookie(an) != wantA || r.setCookie(rn) != wantR {
			t.Fatalf("refresh %d set different cookies:\n%s\n%s\nvs\n%s\n%s", i, r.setCookie(an), r.setCookie(rn), wantA, wantR)
		}
	}
	if wantA == "" || wantR == "" {
		t.Fatal("no cookies set")
	}
	c := e.counts("live_sessions", "rotations")
	if c["live_sessions"] != 1 || c["rotations"] != 1 {
		t.Fatalf("after the burst: %v (want one session, exactly one rotation, one live successor)", c)
	}
	newAccess := results[0].cookie(an)
	if r := e.do(req{method: "GET", path: "/auth/session", cookies: []*http.Cookie{newAccess}}); r.StatusCode != 200 {
		t.Fatalf("successor access token: %d %s", r.StatusCode, r.body)
	}
	var sid struct{ Sid string }
	e.do(req{method: "GET", path: "/auth/session", cookies: []*http.Cookie{newAccess}}).decode(t, &sid)

	// Replay of the old token after the grace window: reuse.
	clk.Advance(grace + time.Second)
	r := e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{refresh}})
	if r.StatusCode != 401 || r.errorCode() != "refresh_token_reused" {
		t.Fatalf("replay: %d %s", r.StatusCode, r.body)
	}
	clearingMatches(t, wantA, r.setCookie(an))
	clearingMatches(t, wantR, r.setCookie(rn))
	if c := e.counts("live_sessions"); c["live_sessions"] != 0 {
		t.Fatalf("session still live after reuse: %v", c)
	}
	if r := e.do(req{method: "GET", path: "/auth/session", cookies: []*http.Cookie{newAccess}}); r.StatusCode != 401 || r.errorCode() != "session_inactive" {
		t.Fatalf("introspection after reuse: %d %s", r.StatusCode, r.body)
	}
	// The successor refresh token is dead too.
	if r := e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{results[0].cookie(rn)}}); r.StatusCode != 401 {
		t.Fatalf("successor after reuse: %d %s", r.StatusCode, r.body)
	}

	// The revocation list names the session (rebuilt on NOTIFY).
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := e.do(req{method: "GET", path: "/.well-known/edgeauth/revocations"})
		if r.StatusCode != 200 {
			t.Fatalf("revocations: %d %s", r.StatusCode, r.body)
		}
		if slices.Contains(revokedSIDs(t, r.body), sid.Sid) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("revocation list never named %s: %s", sid.Sid, r.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := metricValue(t, e, `edgeauth_refresh_reuse_detections_total`); got != "1" {
		t.Fatalf("reuse detections metric = %q", got)
	}
}

// revokedSIDs decodes the payload of the signed list (the signature is the
// verifier's business; see the revocation package's tests).
func revokedSIDs(t *testing.T, jws []byte) []string {
	t.Helper()
	var p struct{ Sids []string }
	if err := json.Unmarshal(jwsPayload(t, jws), &p); err != nil {
		t.Fatal(err)
	}
	return p.Sids
}

// jwsPayload returns the payload of a compact JWS, unverified.
func jwsPayload(t *testing.T, jws []byte) []byte {
	t.Helper()
	parts := strings.Split(string(jws), ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %s", jws)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// metricValue scrapes /metrics for one sample line's value.
func metricValue(t *testing.T, e *env, sample string) string {
	t.Helper()
	for _, line := range strings.Split(e.scrape(), "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			return v
		}
	}
	return ""
}

// The GET form of refresh, for edges that send the browser through it.
func TestRefreshRedirect(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.createUser(testEmail, testPassword)
	_, refresh := e.login(testEmail, testPassword)
	an, rn := e.cfg.AccessCookie().Name, e.cfg.RefreshCookie().Name

	for _, tc := range []struct{ returnTo, want string }{
		{"/app/page?x=1", "/app/page?x=1"},
		{"https://evil.example/", "/"},
		{"//evil.example/", "/"},
		{"/\\evil.example", "/"},
		{"/%2Fevil.example", "/"},
		{"", "/"},
	} {
		t.Run(tc.returnTo, func(t *testing.T) {
			r := e.do(req{method: "GET", path: "/auth/refresh?return_to=" + urlQuery(tc.returnTo), cookies: []*http.Cookie{refresh}})
			if r.StatusCode != http.StatusFound || r.Header.Get("Location") != tc.want {
				t.Fatalf("%d Location %q, want %q", r.StatusCode, r.Header.Get("Location"), tc.want)
			}
			if len(r.body) != 0 || r.Header.Get("Content-Type") != "" {
				t.Fatalf("a redirect with a body: %q %q", r.Header.Get("Content-Type"), r.body)
			}
			if r.cookie(an) == nil || r.cookie(rn) == nil || r.cookie(rn).Value == "" {
				t.Fatal("no new cookies")
			}
			refresh = r.cookie(rn)
		})
	}
	t.Run("HEAD does not rotate", func(t *testing.T) {
		r := e.do(req{method: "HEAD", path: "/auth/refresh?return_to=%2F", cookies: []*http.Cookie{refresh}})
		if r.StatusCode != http.StatusMethodNotAllowed || len(r.Header.Values("Set-Cookie")) != 0 {
			t.Fatalf("%d %v", r.StatusCode, r.Header.Values("Set-Cookie"))
		}
		if r := e.do(req{method: "GET", path: "/auth/refresh", cookies: []*http.Cookie{refresh}}); r.StatusCode != http.StatusFound || r.Header.Get("Location") != "/" {
			t.Fatalf("the cookie no longer refreshes after HEAD: %d %s", r.StatusCode, r.Header.Get("Location"))
		} else {
			refresh = r.cookie(rn)
		}
	})
	t.Run("garbage token: cleared, sent to login", func(t *testing.T) {
		r := e.do(req{method: "GET", path: "/auth/refresh?return_to=%2Fapp", cookies: []*http.Cookie{{Name: rn, Value: "garbage"}}})
		if r.StatusCode != http.StatusFound || r.Header.Get("Location") != "/login?return_to=%2Fapp" || len(r.body) != 0 {
			t.Fatalf("%d Location %q %q", r.StatusCode, r.Header.Get("Location"), r.body)
		}
		if n := len(r.Header.Values("Set-Cookie")); n != 2 {
			t.Fatalf("%d Set-Cookie headers, want 2: %v", n, r.Header.Values("Set-Cookie"))
		}
		if c := r.cookie(an); c == nil || c.MaxAge >= 0 {
			t.Fatalf("access cookie not cleared: %v", r.Header.Values("Set-Cookie"))
		}
		if c := r.cookie(rn); c == nil || c.MaxAge >= 0 {
			t.Fatalf("refresh cookie not cleared: %v", r.Header.Values("Set-Cookie"))
		}
	})
}

func urlQuery(s string) string {
	r := strings.NewReplacer("%", "%25", "&", "%26", "?", "%3F", "#", "%23", "+", "%2B", " ", "%20", "\\", "%5C")
	return r.Replace(s)
}

// Logging out everywhere, and revoking another device's session.
func TestSessionsLogoutAllAndRevoke(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.createUser(testEmail, testPassword)
	a1, _ := e.login(testEmail, testPassword)
	a2, r2 := e.login(testEmail, testPassword)
	a3, _ := e.login(testEmail, testPassword)

	var sl struct {
		Sessions []struct {
			ID      string
			Current bool
		}
	}
	e.do(req{method: "GET", path: "/auth/sessions", cookies: []*http.Cookie{a1}}).decode(t, &sl)
	if len(sl.Sessions) != 3 {
		t.Fatalf("sessions: %+v", sl)
	}
	var sid2 string
	var in struct{ Sid string }
	e.do(req{method: "GET", path: "/auth/session", cookies: []*http.Cookie{a2}}).decode(t, &in)
	sid2 = in.Sid

	// Device 1 revokes device 2.
	if r := e.do(req{method: "DELETE", path: "/auth/sessions/" + sid2, cookies: []*http.Cookie{a1}}); r.StatusCode != 204 {
		t.Fatalf("revoke: %d %s", r.StatusCode, r.body)
	}
	if r := e.do(req{method: "GET", path: "/auth/me", cookies: []*http.Cookie{a2}}); r.StatusCode != 401 {
		t.Fatalf("revoked device still in: %d", r.StatusCode)
	}
	if r := e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{r2}}); r.StatusCode != 401 || r.errorCode() != "refresh_token_invalid" {
		t.Fatalf("revoked device refresh: %d %s", r.StatusCode, r.body)
	}
	if r := e.do(req{method: "DELETE", path: "/auth/sessions/" + sid2, cookies: []*http.Cookie{a1}}); r.StatusCode != 404 || r.errorCode() != "session_not_found" {
		t.Fatalf("revoke twice: %d %s", r.StatusCode, r.body)
	}

	// Device 4 logs out with a refresh cookie that is not valid (but its access
	// token is): the session still ends.
	a4, _ := e.login(testEmail, testPassword)
	r := e.do(req{method: "POST", path: "/auth/logout", cookies: []*http.Cookie{a4, {Name: e.cfg.RefreshCookie().Name, Value: "garbage"}}})
	if r.StatusCode != 204 || len(r.Header.Values("Set-Cookie")) != 2 {
		t.Fatalf("logout: %d %v", r.StatusCode, r.Header.Values("Set-Cookie"))
	}
	if r := e.do(req{method: "GET", path: "/auth/me", cookies: []*http.Cookie{a4}}); r.StatusCode != 401 {
		t.Fatalf("after logout by access token: %d", r.StatusCode)
	}
	// Logging out without any session still clears and answers 204.
	if r := e.do(req{method: "POST", path: "/auth/logout"}); r.StatusCode != 204 || len(r.Header.Values("Set-Cookie")) != 2 {
		t.Fatalf("logout without a session: %d", r.StatusCode)
	}

	// Device 3 logs out everywhere.
	r = e.do(req{method: "POST", path: "/auth/logout-all", cookies: []*http.Cookie{a3}})
	if r.StatusCode != 200 || len(r.Header.Values("Set-Cookie")) != 2 || r.Header.Get("Clear-Site-Data") != "" {
		t.Fatalf("logout-all: %d %s %v", r.StatusCode, r.body, r.Header)
	}
	for _, a := range []*http.Cookie{a1, a3} {
		if r := e.do(req{method: "GET", path: "/auth/session", cookies: []*http.Cookie{a}}); r.StatusCode != 401 {
			t.Fatalf("after logout-all: %d", r.StatusCode)
		}
	}
	if c := e.counts("live_sessions"); c["live_sessions"] != 0 {
		t.Fatal(c)
	}
}

func base64RawURL(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

// rotate refreshes n times, starting from the refresh cookie c, and returns the last
// refresh cookie.
func (e *env) rotate(c *http.Cookie, n int) *http.Cookie {
	e.t.Helper()
	for i := range n {
		r := e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{c}})
		if r.StatusCode != 200 {
			e.t.Fatalf("rotation %d: %d %s", i, r.StatusCode, r.body)
		}
		c = r.cookie(e.cfg.RefreshCookie().Name)
	}
	return c
}

// An old refresh token replayed after several rotations (a stolen copy, used late)
// revokes the session at once, grace window or not; the revocation list names it.
func TestReuseAcrossRotations(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{start: true})
	e.createUser(testEmail, testPassword)
	access, first := e.login(testEmail, testPassword)
	var in struct{ Sid string }
	e.do(req{method: "GET", path: "/auth/session", cookies: []*http.Cookie{access}}).decode(t, &in)
	cur := e.rotate(first, 3)
	r := e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{first}})
	if r.StatusCode != 401 || r.errorCode() != "refresh_token_reused" {
		t.Fatalf("old token: %d %s", r.StatusCode, r.body)
	}
	if r := e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{cur}}); r.StatusCode != 401 {
		t.Fatalf("current token after reuse: %d %s", r.StatusCode, r.body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !slices.Contains(revokedSIDs(t, e.do(req{method: "GET", path: "/.well-known/edgeauth/revocations"}).body), in.Sid) {
		if time.Now().After(deadline) {
			t.Fatal("the revocation list never named the session")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Logout ends the session named by an expired access token when no refresh cookie comes
// with it (a browser does not send a cookie scoped to another path); a token we did not
// sign ends nothing.
func TestLogoutWithExpiredAccessTokenOnly(t *testing.T) {
	t.Parallel()
	c := newClock()
	e := newEnv(t, envOptions{clock: c})
	e.createUser(testEmail, testPassword)
	access, refresh := e.login(testEmail, testPassword)
	victimAccess, victimRefresh := e.login(testEmail, testPassword)
	c.Advance(e.cfg.Sessions.AccessTTL + config.Leeway + time.Minute)
	if r := e.do(req{method: "GET", path: "/auth/session", cookies: []*http.Cookie{access}}); r.StatusCode != 401 {
		t.Fatalf("the access token has not expired: %d", r.StatusCode)
	}

	// A token with the victim's sid, signed by another key with the same kid: nothing ends.
	claims, header := tokenParts(t, victimAccess.Value)
	forged := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	forged.Header["kid"], forged.Header["typ"] = header["kid"], header["typ"]
	_, otherKey, _ := ed25519.GenerateKey(nil)
	signed, err := forged.SignedString(otherKey)
	if err != nil {
		t.Fatal(err)
	}
	if r := e.do(req{method: "POST", path: "/auth/logout", cookies: []*http.Cookie{{Name: access.Name, Value: signed}}}); r.StatusCode != 204 {
		t.Fatalf("logout with a forged token: %d", r.StatusCode)
	}
	if n := e.counts("live_sessions")["live_sessions"]; n != 2 {
		t.Fatalf("a forged token ended a session: %d live", n)
	}

	r := e.do(req{method: "POST", path: "/auth/logout", cookies: []*http.Cookie{access}})
	if r.StatusCode != 204 || len(r.Header.Values("Set-Cookie")) != 2 {
		t.Fatalf("logout: %d %v", r.StatusCode, r.Header)
	}
	if r := e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{refresh}}); r.StatusCode != 401 {
		t.Fatalf("the session outlived its logout: refresh %d %s", r.StatusCode, r.body)
	}
	// The other session is untouched.
	if r := e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{victimRefresh}}); r.StatusCode != 200 {
		t.Fatalf("the other session: refresh %d %s", r.StatusCode, r.body)
	}
}

// tokenParts decodes a JWT's claims and header without verifying it.
func tokenParts(t *testing.T, tok string) (jwt.MapClaims, map[string]any) {
	t.Helper()
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	return parsed.Claims.(jwt.MapClaims), parsed.Header
}

// Replicas recognise each other's refresh tokens: every replica derives the tag key
// from the same keys.kek, so an old token rotated away on one replica and replayed on
// another is reuse there too (not merely refused), and revokes the session.
func TestReuseDetectedByAnotherReplica(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDatabase(t)
	a := newEnv(t, envOptions{dbURL: db})
	b := newEnv(t, envOptions{dbURL: db})
	a.createUser(testEmail, testPassword)
	_, first := a.login(testEmail, testPassword)
	cur := a.rotate(first, 2)
	if r := b.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{first}}); r.StatusCode != 401 || r.errorCode() != "refresh_token_reused" {
		t.Fatalf("replica b, the first token after two rotations on a: %d %s", r.StatusCode, r.body)
	}
	if r := a.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{cur}}); r.StatusCode != 401 {
		t.Fatalf("replica a, the live token after the reuse: %d %s", r.StatusCode, r.body)
	}
}

// sessions.refresh_grace: 0 (config accepts 0 to 2m) asks for no grace at all (strict
// rotation, RFC 9700): the previous refresh token presented again, even seconds after
// its rotation, is reuse. It used to become the default 30 s, since auth.Config reads
// zero as "not set".
func TestZeroRefreshGraceMeansNone(t *testing.T) {
	t.Parallel()
	clk := newClock()
	e := newEnv(t, envOptions{clock: clk, mod: func(c *config.Config) { c.Sessions.RefreshGrace = 0 }})
	e.createUser(testEmail, testPassword)
	_, refresh := e.login(testEmail, testPassword)
	if r := e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{refresh}}); r.StatusCode != 200 {
		t.Fatalf("first refresh: %d %s", r.StatusCode, r.body)
	}
	clk.Advance(10 * time.Second)
	r := e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{refresh}})
	if r.StatusCode != 401 || r.errorCode() != "refresh_token_reused" {
		t.Fatalf("the rotated token again, 10 s later, with refresh_grace 0: %d %s, want 401 refresh_token_reused", r.StatusCode, r.body)
	}
}

// Logout ends the session of every cookie of ours the request carries, also when a name
// comes twice: two copies of a cookie (a cookie planted from a sibling subdomain, or
// one left over from before a change of cookies.domain or cookies.refresh_path) make
// every other endpoint refuse to guess, but a logout that ended neither session would
// answer 204 and leave the browser signed in once the copy it cleared is gone.
func TestLogoutEndsEverySessionOfDuplicatedCookies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.createUser(testEmail, testPassword)
	for _, tc := range []struct {
		name string
		jar  func(a1, r1, a2, r2 *http.Cookie) []*http.Cookie
	}{
		{"both cookies twice", func(a1, r1, a2, r2 *http.Cookie) []*http.Cookie { return []*http.Cookie{r1, r2, a1, a2} }},
		{"refresh cookie twice", func(a1, r1, a2, r2 *http.Cookie) []*http.Cookie { return []*http.Cookie{r1, r2} }},
		{"access cookie twice", func(a1, r1, a2, r2 *http.Cookie) []*http.Cookie { return []*http.Cookie{a1, a2} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a1, r1 := e.login(testEmail, testPassword)
			a2, r2 := e.login(testEmail, testPassword)
			r := e.do(req{method: "POST", path: "/auth/logout", cookies: tc.jar(a1, r1, a2, r2)})
			if r.StatusCode != 204 || len(r.Header.Values("Set-Cookie")) != 2 {
				t.Fatalf("logout: %d %v", r.StatusCode, r.Header)
			}
			for i, a := range []*http.Cookie{a1, a2} {
				if r := e.do(req{method: "GET", path: "/auth/session", cookies: []*http.Cookie{a}}); r.StatusCode != 401 || r.errorCode() != "session_inactive" {
					t.Errorf("session %d outlived the logout: %d %s", i+1, r.StatusCode, r.body)
				}
			}
		})
	}
}

// A login or signup ends the session whose cookies it replaces (ASVS 5.0 7.2.4): the
// browser loses those tokens, so a session left alive would serve only whoever copied
// them. A failed login ends nothing, and a Bearer token (which a login does not
// replace) keeps its session.
func TestLoginEndsTheSessionItsCookiesReplace(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{mod: func(c *config.Config) { c.Signup = true }})
	e.createUser(testEmail, testPassword)
	active := func(a *http.Cookie) bool {
		r := e.do(req{method: "GET", path: "/auth/session", cookies: []*http.Cookie{a}})
		return r.StatusCode == 200
	}
	body := `{"email":` + jsonString(testEmail) + `,"password":` + jsonString(testPassword) + `}`

	a1, r1 := e.login(testEmail, testPassword)
	wrong := e.do(req{method: "POST", path: "/auth/login", cookies: []*http.Cookie{a1, r1},
		body: `{"email":` + jsonString(testEmail) + `,"password":"not the password"}`})
	if wrong.StatusCode != 401 || !active(a1) {
		t.Fatalf("a failed login: %d, and the session it carried active: %v", wrong.StatusCode, active(a1))
	}
	again := e.do(req{method: "POST", path: "/auth/login", cookies: []*http.Cookie{a1, r1}, body: body})
	if again.StatusCode != 200 {
		t.Fatalf("login again: %d %s", again.StatusCode, again.body)
	}
	if active(a1) {
		t.Error("the session whose cookies the login replaced is still active")
	}
	if r := e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{r1}}); r.StatusCode != 401 {
		t.Errorf("its refresh token still refreshes: %d %s", r.StatusCode, r.body)
	}
	a2 := again.cookie(e.cfg.AccessCookie().Name)
	if !active(a2) {
		t.Error("the new session is not active")
	}

	// Only the refresh cookie (its Path covers /auth/login), and a signup.
	a3, r3 := e.login(testEmail, testPassword)
	signup := e.do(req{method: "POST", path: "/auth/signup", cookies: []*http.Cookie{r3},
		body: `{"email":"second@example.com","password":` + jsonString(testPassword) + `}`})
	if signup.StatusCode != 201 {
		t.Fatalf("signup: %d %s", signup.StatusCode, signup.body)
	}
	if active(a3) {
		t.Error("the session whose refresh cookie the signup replaced is still active")
	}

	// A Bearer token is not replaced, so it keeps its session.
	a4, _ := e.login(testEmail, testPassword)
	withBearer := e.do(req{method: "POST", path: "/auth/login", body: body, header: map[string]string{"Authorization": "Bearer " + a4.Value}})
	if withBearer.StatusCode != 200 || !active(a4) {
		t.Errorf("login with a Bearer token: %d, its session active: %v", withBearer.StatusCode, active(a4))
	}
	if !active(a2) {
		t.Error("a login from another browser ended this one's session")
	}
}

// A login that fails while it ends the session its cookies replace (the process dying,
// or the database failing, between the two) leaves both as they were: no new session
// that nobody received, its login audited, beside an old one still live. The failure is
// injected by a trigger that refuses the replaced session's revocation.
func TestLoginAndTheSessionItReplacesEndTogether(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.createUser(testEmail, testPassword)
	ctx := context.Background()
	a1, r1 := e.login(testEmail, testPassword)
	before := e.counts("sessions", "live_sessions", "audit_events")

	if _, err := e.pool.Exec(ctx, `
		CREATE FUNCTION fail_relogin() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'injected failure' USING ERRCODE = '57P01'; END $$;
		CREATE TRIGGER fail_relogin BEFORE UPDATE OF revoked_at ON sessions
			FOR EACH ROW WHEN (NEW.revoke_reason = 'logout') EXECUTE FUNCTION fail_relogin();`); err != nil {
		t.Fatal(err)
	}
	body := `{"email":` + jsonString(testEmail) + `,"password":` + jsonString(testPassword) + `}`
	if r := e.do(req{method: "POST", path: "/auth/login", cookies: []*http.Cookie{a1, r1}, body: body}); r.StatusCode == 200 {
		t.Fatalf("login succeeded although its replaced session could not end: %s", r.body)
	}
	if after := e.counts("sessions", "live_sessions", "audit_events"); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("a failed login left writes behind: before %v, after %v", before, after)
	}

	if _, err := e.pool.Exec(ctx, `DROP TRIGGER fail_relogin ON sessions`); err != nil {
		t.Fatal(err)
	}
	r := e.do(req{method: "POST", path: "/auth/login", cookies: []*http.Cookie{a1, r1}, body: body})
	if r.StatusCode != 200 {
		t.Fatalf("login again: %d %s", r.StatusCode, r.body)
	}
	if got := e.counts("sessions", "live_sessions"); got["sessions"] != before["sessions"]+1 || got["live_sessions"] != before["live_sessions"] {
		t.Errorf("after the retried login: %v (before %v): want one session more, the replaced one ended", got, before)
	}
	if e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{r1}}).StatusCode != 401 {
		t.Error("the replaced session still refreshes")
	}
}

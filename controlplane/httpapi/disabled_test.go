package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/edgeauth/edgeauth/controlplane/config"
)

// A disabled account cannot be told from a wrong password: its login, with the right
// password or a wrong one, gets the answer a wrong password for an enabled account gets
// (status, body, the headers that say anything), and signup with its name gets the
// answer any taken name gets. Its sessions ended with the disabling: /auth/me and
// refresh refuse their cookies. Enabled again, it signs in; the old sessions stay ended.
func TestDisabledAccountLoginAnswersAsAWrongPassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{mod: func(c *config.Config) { c.Signup = true }})
	ctx := context.Background()
	const other = "bob@example.test"
	e.createUser(testEmail, testPassword)
	e.createUser(other, testPassword)
	access, refresh := e.login(testEmail, testPassword)

	ch, err := e.app.Auth.DisableUser(ctx, testEmail)
	if err != nil || !ch.Changed || ch.Ended != 1 {
		t.Fatalf("DisableUser = %+v, %v", ch, err)
	}

	login := func(email, password string) resp {
		return e.do(req{method: "POST", path: "/auth/login", body: `{"email":` + jsonString(email) + `,"password":` + jsonString(password) + `}`})
	}
	answer := func(r resp) string {
		h := r.Header.Clone()
		h.Del("Date")
		h.Del("X-Request-Id")
		names := slices.Sorted(func(yield func(string) bool) {
			for k := range h {
				if !yield(k + ": " + fmt.Sprint(h[k])) {
					return
				}
			}
		})
		return fmt.Sprintf("%d %s %v", r.StatusCode, r.body, names)
	}
	want := answer(login(other, "a wrong password"))
	if got := login(other, "a wrong password"); got.StatusCode != 401 || got.errorCode() != "invalid_credentials" {
		t.Fatalf("a wrong password: %d %s", got.StatusCode, got.body)
	}
	for name, r := range map[string]resp{
		"disabled, right password": login(testEmail, testPassword),
		"disabled, wrong password": login(testEmail, "a wrong password"),
	} {
		if got := answer(r); got != want {
			t.Errorf("%s:\n%s\nwant (a wrong password)\n%s", name, got, want)
		}
	}

	signup := func(email string) string {
		return answer(e.do(req{method: "POST", path: "/auth/signup", body: `{"email":` + jsonString(email) + `,"password":"another long password"}`}))
	}
	if got, want := signup(testEmail), signup(other); got != want {
		t.Errorf("signup with a disabled account's name:\n%s\nwant (a taken name)\n%s", got, want)
	}

	if r := e.do(req{method: "GET", path: "/auth/me", cookies: []*http.Cookie{access}}); r.StatusCode != 401 {
		t.Errorf("me with a disabled account's cookie: %d %s", r.StatusCode, r.body)
	}
	if r := e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{refresh}}); r.StatusCode != 401 || r.errorCode() != "refresh_token_invalid" {
		t.Errorf("refresh of a disabled account's session: %d %s", r.StatusCode, r.body)
	}

	if ch, err := e.app.Auth.EnableUser(ctx, testEmail); err != nil || !ch.Changed {
		t.Fatalf("EnableUser = %+v, %v", ch, err)
	}
	if r := e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{refresh}}); r.StatusCode != 401 {
		t.Errorf("an ended session refreshes after the enabling: %d %s", r.StatusCode, r.body)
	}
	e.login(testEmail, testPassword)
}

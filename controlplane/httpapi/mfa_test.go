package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/config"
	"github.com/edgeauth/edgeauth/internal/totptest"
	"github.com/edgeauth/edgeauth/verifier"
)

// A second factor over HTTP, every exchange checked against openapi.yaml: begin with
// the password, confirm with a code (ten recovery codes), GET /auth/me shows it, and
// the confirming session's next access token says mfa; a login then needs a code (401
// mfa_required without, mfa_invalid for a wrong one, no cookies either way), a code or
// a recovery code signs in (amr saying which), and turning it off takes the password
// and a code.
func TestTOTPOverHTTP(t *testing.T) {
	t.Parallel()
	clk := newClock()
	e := newEnv(t, envOptions{clock: clk})
	e.createUser(testEmail, testPassword)
	access, refresh := e.login(testEmail, testPassword)
	as := []*http.Cookie{access}
	mfaStatus := func() map[string]any {
		t.Helper()
		var me struct{ MFA map[string]any }
		e.do(req{method: "GET", path: "/auth/me", cookies: as}).decode(t, &me)
		return me.MFA
	}
	// A route that needs a second factor, at both verifier engines.
	edges := verifierEngines(t, e, verifier.LocalConfig{Protected: []verifier.ProtectedRoute{{Prefix: "/vault/", MFA: true}}},
		e.do(req{method: "GET", path: "/.well-known/jwks.json"}).body)
	wantAMR := func(what string, access *http.Cookie, token, session []string) {
		t.Helper()
		if got := accessAMR(t, access.Value); !slices.Equal(got, token) {
			t.Fatalf("%s: the access token's amr %v, want %v", what, got, token)
		}
		// Both verifier engines read it: a route with "mfa": true admits the token
		// exactly when its amr lists mfa.
		want := verifier.ReasonMFARequired
		if slices.Contains(token, "mfa") {
			want = verifier.ReasonAuthenticated
		}
		for name, eng := range edges {
			d, err := eng.Decide(context.Background(), verifier.Request{Method: "GET", Path: "/vault/notes",
				Cookies: []string{access.Name + "=" + access.Value}}, clk.Now().Unix())
			if err != nil || d.Reason != want || (d.Identity != nil) != (want == verifier.ReasonAuthenticated) ||
				d.Identity != nil && !d.Identity.SecondFactor {
				t.Fatalf("%s: %s decides %+v %v, want %s", what, name, d, err, want)
			}
		}
		var me struct{ AMR []string }
		e.do(req{method: "GET", path: "/auth/me", cookies: []*http.Cookie{access}}).decode(t, &me)
		if !slices.Equal(me.AMR, session) {
			t.Fatalf("%s: /auth/me amr %v, want %v", what, me.AMR, session)
		}
		var in struct{ MFA bool }
		e.do(req{method: "GET", path: "/auth/session", cookies: []*http.Cookie{access}}).decode(t, &in)
		if in.MFA != slices.Contains(token, "mfa") {
			t.Fatalf("%s: /auth/session mfa %v for the token's amr %v", what, in.MFA, token)
		}
	}
	wantAMR("a password login", access, []string{"pwd"}, []string{"pwd"})

	if r := e.do(req{method: "POST", path: "/auth/mfa/totp", cookies: as, body: `{"password":"not the password"}`}); r.StatusCode != 403 || r.errorCode() != "current_password_invalid" {
		t.Fatalf("begin with a wrong password: %d %s", r.StatusCode, r.body)
	}
	r := e.do(req{method: "POST", path: "/auth/mfa/totp", cookies: as, body: `{"password":` + jsonString(testPassword) + `}`})
	var setup struct{ Secret, URI string }
	r.decode(t, &setup)
	if r.StatusCode != 200 || !strings.HasPrefix(setup.URI, "otpauth://totp/") || setup.Secret == "" {
		t.Fatalf("begin: %d %s", r.StatusCode, r.body)
	}
	if m := mfaStatus(); m["totp"] != false || m["pending"] != true {
		t.Fatalf("/auth/me while pending: %v", m)
	}
	if r := e.do(req{method: "POST", path: "/auth/mfa/totp/confirm", cookies: as, body: `{"code":"` + totptest.Code(t, setup.Secret, clk.Now().Add(time.Hour)) + `"}`}); r.StatusCode != 403 || r.errorCode() != "mfa_code_invalid" {
		t.Fatalf("confirm with a code of another time: %d %s", r.StatusCode, r.body)
	}
	r = e.do(req{method: "POST", path: "/auth/mfa/totp/confirm", cookies: as, body: `{"code":"` + totptest.Code(t, setup.Secret, clk.Now()) + `"}`})
	var confirmed struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	r.decode(t, &confirmed)
	if r.StatusCode != 200 || len(confirmed.RecoveryCodes) != 10 {
		t.Fatalf("confirm: %d %s", r.StatusCode, r.body)
	}
	if m := mfaStatus(); m["totp"] != true || m["pending"] != false || m["recovery_codes_left"] != 10.0 || m["required"] != false {
		t.Fatalf("/auth/me once on: %v", m)
	}
	// The confirmation proved the factor in this session: /auth/me says so at once, its
	// access token from the next refresh on.
	wantAMR("the confirming session", access, []string{"pwd"}, []string{"pwd", "otp", "mfa"})
	r = e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{refresh}})
	if r.StatusCode != 200 {
		t.Fatalf("refresh: %d %s", r.StatusCode, r.body)
	}
	access = r.cookie(e.cfg.AccessCookie().Name)
	as = []*http.Cookie{access}
	wantAMR("the confirming session, refreshed", access, []string{"pwd", "otp", "mfa"}, []string{"pwd", "otp", "mfa"})
	if r := e.do(req{method: "POST", path: "/auth/mfa/totp", cookies: as, body: `{"password":` + jsonString(testPassword) + `}`}); r.StatusCode != 409 || r.errorCode() != "mfa_enabled" {
		t.Fatalf("begin again: %d %s", r.StatusCode, r.body)
	}

	login := func(code string) resp {
		body := `{"email":` + jsonString(testEmail) + `,"password":` + jsonString(testPassword)
		if code != "" {
			body += `,"code":` + jsonString(code)
		}
		return e.do(req{method: "POST", path: "/auth/login", body: body + `}`})
	}
	for _, c := range []struct{ code, want string }{
		{"", "mfa_required"},
		{totptest.Code(t, setup.Secret, clk.Now()), "mfa_invalid"}, // the confirming code, again
		{"123", "mfa_invalid"},
	} {
		r := login(c.code)
		if r.StatusCode != 401 || r.errorCode() != c.want || len(r.Header.Values("Set-Cookie")) != 0 {
			t.Fatalf("login with code %q: %d %s %v", c.code, r.StatusCode, r.body, r.Header.Values("Set-Cookie"))
		}
	}
	clk.Advance(30 * time.Second)
	r = login(totptest.Code(t, setup.Secret, clk.Now()))
	if r.StatusCode != 200 || r.cookie(e.cfg.AccessCookie().Name) == nil {
		t.Fatalf("login with the next code: %d %s", r.StatusCode, r.body)
	}
	wantAMR("a login with a code", r.cookie(e.cfg.AccessCookie().Name), []string{"pwd", "otp", "mfa"}, []string{"pwd", "otp", "mfa"})
	r = login(confirmed.RecoveryCodes[0])
	if r.StatusCode != 200 {
		t.Fatalf("login with a recovery code: %d %s", r.StatusCode, r.body)
	}
	wantAMR("a login with a recovery code", r.cookie(e.cfg.AccessCookie().Name), []string{"pwd", "mfa"}, []string{"pwd", "mfa"})
	if m := mfaStatus(); m["recovery_codes_left"] != 9.0 {
		t.Fatalf("/auth/me after a recovery code: %v", m)
	}
	// New recovery codes take the password and a code (here an unused recovery code,
	// used up); the old ones stop working.
	bothFactors := func(code string) string {
		return `{"password":` + jsonString(testPassword) + `,"code":` + jsonString(code) + `}`
	}
	if r := e.do(req{method: "POST", path: "/auth/mfa/recovery-codes", cookies: as, body: bothFactors(confirmed.RecoveryCodes[0])}); r.StatusCode != 403 || r.errorCode() != "mfa_code_invalid" {
		t.Fatalf("new recovery codes for a used one: %d %s", r.StatusCode, r.body)
	}
	r = e.do(req{method: "POST", path: "/auth/mfa/recovery-codes", cookies: as, body: bothFactors(confirmed.RecoveryCodes[1])})
	var renewed struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	r.decode(t, &renewed)
	if r.StatusCode != 200 || len(renewed.RecoveryCodes) != 10 || slices.Contains(renewed.RecoveryCodes, confirmed.RecoveryCodes[2]) {
		t.Fatalf("new recovery codes: %d %s", r.StatusCode, r.body)
	}
	if m := mfaStatus(); m["recovery_codes_left"] != 10.0 {
		t.Fatalf("/auth/me after new recovery codes: %v", m)
	}
	if r := e.do(req{method: "POST", path: "/auth/mfa/totp/disable", cookies: as, body: bothFactors(confirmed.RecoveryCodes[2])}); r.StatusCode != 403 || r.errorCode() != "mfa_code_invalid" {
		t.Fatalf("turn off with a replaced recovery code: %d %s", r.StatusCode, r.body)
	}

	if r := e.do(req{method: "POST", path: "/auth/mfa/totp/disable", cookies: as, body: `{"password":` + jsonString(testPassword) + `,"code":` + jsonString(confirmed.RecoveryCodes[0]) + `}`}); r.StatusCode != 403 || r.errorCode() != "mfa_code_invalid" {
		t.Fatalf("turn off with a used recovery code: %d %s", r.StatusCode, r.body)
	}
	if r := e.do(req{method: "POST", path: "/auth/mfa/totp/disable", cookies: as, body: bothFactors(renewed.RecoveryCodes[0])}); r.StatusCode != 204 {
		t.Fatalf("turn off: %d %s", r.StatusCode, r.body)
	}
	r = login("")
	if r.StatusCode != 200 {
		t.Fatalf("login once off: %d %s", r.StatusCode, r.body)
	}
	wantAMR("a login once off", r.cookie(e.cfg.AccessCookie().Name), []string{"pwd"}, []string{"pwd"})
	// Sessions that proved the factor keep saying so.
	wantAMR("the confirming session once off", access, []string{"pwd", "otp", "mfa"}, []string{"pwd", "otp", "mfa"})
	if r := e.do(req{method: "POST", path: "/auth/mfa/totp/disable", cookies: as, body: `{"password":` + jsonString(testPassword) + `,"code":"123456"}`}); r.StatusCode != 409 || r.errorCode() != "mfa_not_enabled" {
		t.Fatalf("turn off twice: %d %s", r.StatusCode, r.body)
	}
	if r := e.do(req{method: "POST", path: "/auth/mfa/totp/confirm", cookies: as, body: `{"code":"123456"}`}); r.StatusCode != 409 || r.errorCode() != "mfa_not_pending" {
		t.Fatalf("confirm with nothing pending: %d %s", r.StatusCode, r.body)
	}
	for _, secret := range slices.Concat([]string{setup.Secret, testPassword}, confirmed.RecoveryCodes, renewed.RecoveryCodes) {
		if strings.Contains(e.logs.String(), secret) {
			t.Fatalf("a secret reached the logs: %s", secret)
		}
	}
	// Signed out: every one of them is 401.
	for path, body := range map[string]string{
		"/auth/mfa/totp":           `{"password":"x"}`,
		"/auth/mfa/totp/confirm":   `{"code":"123456"}`,
		"/auth/mfa/totp/disable":   `{"password":"x","code":"123456"}`,
		"/auth/mfa/recovery-codes": `{"password":"x","code":"123456"}`,
	} {
		if r := e.do(req{method: "POST", path: path, body: body}); r.StatusCode != 401 || r.errorCode() != "unauthenticated" {
			t.Errorf("%s without a session: %d %s", path, r.StatusCode, r.body)
		}
	}
}

// accessAMR returns the amr claim of an access token (unverified: the verifiers' own
// tests check signatures).
func accessAMR(t *testing.T, token string) []string {
	t.Helper()
	var c struct {
		AMR []string `json:"amr"`
	}
	if err := json.Unmarshal(jwsPayload(t, []byte(token)), &c); err != nil {
		t.Fatal(err)
	}
	return c.AMR
}

// Codes confirming an enrollment are guessed no faster than a login's: each wrong one
// (403 mfa_code_invalid) counts as a failed login, and once the budget is spent the
// confirmation is 429 too_many_attempts with Retry-After, as openapi.yaml says.
func TestTOTPConfirmationIsThrottledOverHTTP(t *testing.T) {
	t.Parallel()
	clk := newClock()
	e := newEnv(t, envOptions{clock: clk, mod: func(c *config.Config) { c.Throttle.AccountAddressFailures = 3 }})
	e.createUser(testEmail, testPassword)
	access, _ := e.login(testEmail, testPassword)
	as := []*http.Cookie{access}
	var setup struct{ Secret string }
	e.do(req{method: "POST", path: "/auth/mfa/totp", cookies: as, body: `{"password":` + jsonString(testPassword) + `}`}).decode(t, &setup)
	var r resp
	for i := range 4 {
		r = e.do(req{method: "POST", path: "/auth/mfa/totp/confirm", cookies: as,
			body: `{"code":"` + totptest.Code(t, setup.Secret, clk.Now().Add(time.Duration(10+i)*time.Minute)) + `"}`})
		if i < 3 && (r.StatusCode != 403 || r.errorCode() != "mfa_code_invalid") {
			t.Fatalf("wrong code %d: %d %s", i+1, r.StatusCode, r.body)
		}
	}
	if r.StatusCode != 429 || r.errorCode() != "too_many_attempts" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("the fourth wrong code: %d %s, want 429 too_many_attempts with Retry-After", r.StatusCode, r.body)
	}
}

package httpapi_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/auth"
	"github.com/edgeauth/edgeauth/controlplane/config"
	"github.com/edgeauth/edgeauth/internal/totptest"
	"github.com/edgeauth/edgeauth/verifier"
)

// A second factor required by policy, over HTTP, every exchange checked against
// openapi.yaml: an admin's login gets 403 mfa_enrollment_required and no cookies; the
// account enrolls with its credentials (POST /auth/mfa/enroll, then /confirm with a
// code), which signs it in with a session that proved the factor, and both verifier
// engines admit its token on a route that needs one. An account the policy does not
// cover signs in as before; made an admin, its session cannot change the password
// (401 second_factor_required) and ends at the next refresh: 401
// second_factor_required, both cookies cleared; the browser refresh sends it to the
// login page.
func TestSecondFactorRequiredOverHTTP(t *testing.T) {
	t.Parallel()
	clk := newClock()
	e := newEnv(t, envOptions{clock: clk, mod: func(c *config.Config) { c.SecondFactor.RequiredFor = []string{"admin"} }})
	ctx := context.Background()
	admin, err := e.app.Auth.CreateUser(ctx, auth.NewUser{Email: "ada@example.test", Password: testPassword, Roles: []string{"admin"}})
	if err != nil {
		t.Fatal(err)
	}
	creds := `"email":` + jsonString(admin.Email) + `,"password":` + jsonString(testPassword)
	noCookies := func(what string, r resp, status int, code string) {
		t.Helper()
		if r.StatusCode != status || r.errorCode() != code || len(r.Header.Values("Set-Cookie")) != 0 {
			t.Fatalf("%s: %d %s %v, want %d %s and no cookies", what, r.StatusCode, r.body, r.Header.Values("Set-Cookie"), status, code)
		}
	}
	noCookies("an admin's login without a second factor", e.do(req{method: "POST", path: "/auth/login", body: "{" + creds + "}"}), 403, "mfa_enrollment_required")
	noCookies("enrolling with a wrong password", e.do(req{method: "POST", path: "/auth/mfa/enroll",
		body: `{"email":` + jsonString(admin.Email) + `,"password":"not the password"}`}), 401, "invalid_credentials")

	r := e.do(req{method: "POST", path: "/auth/mfa/enroll", body: "{" + creds + "}"})
	var setup struct{ Secret, URI string }
	r.decode(t, &setup)
	if r.StatusCode != 200 || setup.Secret == "" || !strings.HasPrefix(setup.URI, "otpauth://totp/") {
		t.Fatalf("enroll: %d %s", r.StatusCode, r.body)
	}
	noCookies("confirming with a code of another time", e.do(req{method: "POST", path: "/auth/mfa/enroll/confirm",
		body: "{" + creds + `,"code":"` + totptest.Code(t, setup.Secret, clk.Now().Add(time.Hour)) + `"}`}), 401, "mfa_invalid")
	r = e.do(req{method: "POST", path: "/auth/mfa/enroll/confirm", body: "{" + creds + `,"code":"` + totptest.Code(t, setup.Secret, clk.Now()) + `"}`})
	var signedIn struct {
		User          auth.User `json:"user"`
		SessionID     string    `json:"session_id"`
		RecoveryCodes []string  `json:"recovery_codes"`
	}
	r.decode(t, &signedIn)
	access := r.cookie(e.cfg.AccessCookie().Name)
	if r.StatusCode != 200 || access == nil || r.cookie(e.cfg.RefreshCookie().Name) == nil || signedIn.User.ID != admin.ID ||
		signedIn.SessionID == "" || len(signedIn.RecoveryCodes) != 10 {
		t.Fatalf("confirm: %d %s %v", r.StatusCode, r.body, r.Header.Values("Set-Cookie"))
	}
	if got := accessAMR(t, access.Value); !slices.Equal(got, []string{"pwd", "otp", "mfa"}) {
		t.Fatalf("the enrolled session's amr: %v", got)
	}
	edges := verifierEngines(t, e, verifier.LocalConfig{Protected: []verifier.ProtectedRoute{{Prefix: "/vault/", MFA: true}}},
		e.do(req{method: "GET", path: "/.well-known/jwks.json"}).body)
	for name, eng := range edges {
		d, err := eng.Decide(ctx, verifier.Request{Method: "GET", Path: "/vault/notes", Cookies: []string{access.Name + "=" + access.Value}}, clk.Now().Unix())
		if err != nil || d.Reason != verifier.ReasonAuthenticated || d.Identity == nil || !d.Identity.SecondFactor {
			t.Fatalf("%s decides the enrolled session's token: %+v %v", name, d, err)
		}
	}
	var me struct{ MFA map[string]any }
	e.do(req{method: "GET", path: "/auth/me", cookies: []*http.Cookie{access}}).decode(t, &me)
	if me.MFA["totp"] != true || me.MFA["required"] != true {
		t.Fatalf("/auth/me of the enrolled admin: %v", me.MFA)
	}
	noCookies("enrolling again", e.do(req{method: "POST", path: "/auth/mfa/enroll", body: "{" + creds + "}"}), 409, "mfa_enabled")
	r = e.do(req{method: "POST", path: "/auth/mfa/totp/disable", cookies: []*http.Cookie{access},
		body: `{"password":` + jsonString(testPassword) + `,"code":` + jsonString(signedIn.RecoveryCodes[0]) + `}`})
	if r.StatusCode != 403 || r.errorCode() != "mfa_required_by_policy" {
		t.Fatalf("turning the required factor off: %d %s", r.StatusCode, r.body)
	}

	// An account outside the policy: no enrollment without a session; made an admin,
	// its password-only session ends at the next refresh.
	bob := e.createUser("bob@example.test", testPassword)
	noCookies("a reader enrolling without a session", e.do(req{method: "POST", path: "/auth/mfa/enroll",
		body: `{"email":` + jsonString(bob.Email) + `,"password":` + jsonString(testPassword) + `}`}), 403, "mfa_enrollment_not_required")
	bobAccess, refresh := e.login(bob.Email, testPassword)
	if err := e.app.Auth.SetRoles(ctx, bob.ID, []string{"admin"}); err != nil {
		t.Fatal(err)
	}
	r = e.do(req{method: "POST", path: "/auth/password", cookies: []*http.Cookie{bobAccess},
		body: `{"current_password":` + jsonString(testPassword) + `,"new_password":"another passphrase entirely"}`})
	if r.StatusCode != 401 || r.errorCode() != "second_factor_required" || len(r.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("a password change from a password-only admin session: %d %s %v", r.StatusCode, r.body, r.Header.Values("Set-Cookie"))
	}
	r = e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{refresh}})
	if r.StatusCode != 401 || r.errorCode() != "second_factor_required" {
		t.Fatalf("refreshing a password-only admin session: %d %s", r.StatusCode, r.body)
	}
	for _, name := range []string{e.cfg.AccessCookie().Name, e.cfg.RefreshCookie().Name} {
		if c := r.cookie(name); c == nil || c.MaxAge >= 0 {
			t.Fatalf("%s not cleared: %v", name, r.Header.Values("Set-Cookie"))
		}
	}
	carol := e.createUser("carol@example.test", testPassword)
	_, refresh = e.login(carol.Email, testPassword)
	if err := e.app.Auth.SetRoles(ctx, carol.ID, []string{"admin"}); err != nil {
		t.Fatal(err)
	}
	r = e.do(req{method: "GET", path: "/auth/refresh?return_to=/app", cookies: []*http.Cookie{refresh}})
	if r.StatusCode != 302 || !strings.HasPrefix(r.Header.Get("Location"), "/login?") {
		t.Fatalf("the browser's refresh: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
}

// When every account needs a second factor, a signup creates the account without a
// session: 403 mfa_enrollment_required and no cookies, as its login then answers.
func TestSignupWhenEveryAccountNeedsASecondFactorOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{mod: func(c *config.Config) { c.Signup, c.SecondFactor.RequiredFor = true, []string{"*"} }})
	body := `{"email":"dan@example.test","password":` + jsonString(testPassword) + `}`
	for _, path := range []string{"/auth/signup", "/auth/login"} {
		r := e.do(req{method: "POST", path: path, body: body})
		if r.StatusCode != 403 || r.errorCode() != "mfa_enrollment_required" || len(r.Header.Values("Set-Cookie")) != 0 {
			t.Fatalf("%s: %d %s %v", path, r.StatusCode, r.body, r.Header.Values("Set-Cookie"))
		}
	}
	if r := e.do(req{method: "POST", path: "/auth/mfa/enroll", body: body}); r.StatusCode != 200 {
		t.Fatalf("enroll: %d %s", r.StatusCode, r.body)
	}
}

// A confirmation without a session that the account's state refuses (nothing
// pending: 409 mfa_not_pending; a factor on already: 409 mfa_enabled) is a client's
// refusal, not a server error: edgeauth_logins_total counts it under its own result,
// never under error.
func TestRefusedEnrollmentConfirmationsAreNotCountedAsErrors(t *testing.T) {
	t.Parallel()
	clk := newClock()
	e := newEnv(t, envOptions{clock: clk, mod: func(c *config.Config) { c.SecondFactor.RequiredFor = []string{"admin"} }})
	admin, err := e.app.Auth.CreateUser(context.Background(), auth.NewUser{Email: "ada@example.test", Password: testPassword, Roles: []string{"admin"}})
	if err != nil {
		t.Fatal(err)
	}
	creds := `"email":` + jsonString(admin.Email) + `,"password":` + jsonString(testPassword)
	if r := e.do(req{method: "POST", path: "/auth/mfa/enroll/confirm", body: "{" + creds + `,"code":"123456"}`}); r.StatusCode != 409 || r.errorCode() != "mfa_not_pending" {
		t.Fatalf("confirming before beginning: %d %s", r.StatusCode, r.body)
	}
	var setup struct{ Secret string }
	e.do(req{method: "POST", path: "/auth/mfa/enroll", body: "{" + creds + "}"}).decode(t, &setup)
	body := "{" + creds + `,"code":"` + totptest.Code(t, setup.Secret, clk.Now()) + `"}`
	if r := e.do(req{method: "POST", path: "/auth/mfa/enroll/confirm", body: body}); r.StatusCode != 200 {
		t.Fatalf("confirm: %d %s", r.StatusCode, r.body)
	}
	if r := e.do(req{method: "POST", path: "/auth/mfa/enroll/confirm", body: body}); r.StatusCode != 409 || r.errorCode() != "mfa_enabled" {
		t.Fatalf("confirming again: %d %s", r.StatusCode, r.body)
	}
	for sample, want := range map[string]string{
		`edgeauth_logins_total{result="error"}`:           "",
		`edgeauth_logins_total{result="mfa_not_pending"}`: "1",
		`edgeauth_logins_total{result="mfa_enabled"}`:     "1",
		`edgeauth_logins_total{result="ok"}`:              "1",
	} {
		if got := metricValue(t, e, sample); got != want {
			t.Errorf("%s = %q, want %q", sample, got, want)
		}
	}
}

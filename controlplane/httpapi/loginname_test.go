package httpapi_test

import (
	"testing"

	"github.com/edgeauth/edgeauth/controlplane/config"
)

// Login names that a person reads as the same name are one account: letter case,
// surrounding spaces, fullwidth forms and composed or decomposed accents name the
// account made at signup, at login and at a second signup alike.
func TestLoginNamesAreOneAccountInEverySpelling(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{mod: func(c *config.Config) {
		c.Signup = true
		c.Throttle.AccountAddressFailures = 100
		c.Throttle.AddressFailures = 100
	}})
	signup := func(email string) resp {
		return e.do(req{method: "POST", path: "/auth/signup", body: `{"email":` + jsonString(email) + `,"password":` + jsonString(testPassword) + `}`})
	}
	for _, c := range []struct {
		name, first string
		same        []string
	}{
		{"case and spaces", "Ada@Example.test", []string{"ada@example.test", " ADA@EXAMPLE.TEST ", "aDa@example.TEST"}},
		{"fullwidth", "ada2@example.test", []string{"ａｄａ２@example.test", "ＡＤＡ２＠ｅｘａｍｐｌｅ．ｔｅｓｔ"}},
		{"composed and decomposed", "jos\u00e9@example.test", []string{"jose\u0301@example.test", "JOSE\u0301@example.test", "JOS\u00c9@example.test"}},
		{"non-ASCII case", "\u00c5sa@example.test", []string{"\u00e5sa@example.test", "A\u030asa@example.test"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if r := signup(c.first); r.StatusCode != 201 {
				t.Fatalf("signup %q: %d %s", c.first, r.StatusCode, r.body)
			}
			for _, other := range c.same {
				if r := signup(other); r.StatusCode != 409 || r.errorCode() != "user_exists" {
					t.Errorf("signup %q after %q: %d %s, want 409 user_exists", other, c.first, r.StatusCode, r.body)
				}
				r := e.do(req{method: "POST", path: "/auth/login", body: `{"email":` + jsonString(other) + `,"password":` + jsonString(testPassword) + `}`})
				if r.StatusCode != 200 {
					t.Errorf("login as %q (signed up as %q): %d %s", other, c.first, r.StatusCode, r.body)
					continue
				}
				var body struct{ User struct{ Email string } }
				r.decode(t, &body)
				if body.User.Email != c.first {
					t.Errorf("login as %q: user %q, want the name as signed up, %q", other, body.User.Email, c.first)
				}
			}
		})
	}
	var n int
	if err := e.pool.QueryRow(t.Context(), `SELECT count(*) FROM users`).Scan(&n); err != nil || n != 4 {
		t.Fatalf("%d users (%v), want 4", n, err)
	}
}

// A login name that is not text is the client's mistake: 400 invalid_field, counted
// under the login metric's "invalid", not "error", which is for the server's failures.
func TestLoginNameThatIsNotTextIsCountedAsInvalid(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	r := e.do(req{method: "POST", path: "/auth/login", body: `{"email":"ada\u0007@example.test","password":` + jsonString(testPassword) + `}`})
	if r.StatusCode != 400 {
		t.Fatalf("login with a control character in the name: %d %s, want 400", r.StatusCode, r.body)
	}
	for sample, want := range map[string]string{
		`edgeauth_logins_total{result="invalid"}`: "1",
		`edgeauth_logins_total{result="error"}`:   "",
	} {
		if got := metricValue(t, e, sample); got != want {
			t.Errorf("%s = %q, want %q", sample, got, want)
		}
	}
}

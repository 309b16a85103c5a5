package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/edgeauth/edgeauth/controlplane/config"
	"github.com/edgeauth/edgeauth/hostdemo/demoapp"
	"github.com/edgeauth/edgeauth/internal/totptest"
)

// chromium is Debian's browser (apt-get install chromium); EDGEAUTH_CHROMIUM
// overrides the path. The test never downloads a browser.
func chromium(t *testing.T) string {
	path := os.Getenv("EDGEAUTH_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no browser at %s: install Debian's chromium (apt-get install chromium) or set EDGEAUTH_CHROMIUM", path)
	}
	return path
}

// browser drives one headless chromium for a test.
type browser struct {
	t   *testing.T
	ctx context.Context
}

func newBrowser(t *testing.T) *browser {
	alloc, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium(t)), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true))
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	// No deadline for the whole session: on a loaded machine four argon2id sign-ins and
	// a browser take what they take. Each wait has its own failure guard (waitGuard).
	return &browser{t: t, ctx: ctx}
}

// waitGuard bounds one wait for a page state: only a test that is already failing
// reaches it.
const waitGuard = 2 * time.Minute

// text runs one value-returning browser action, failing the test on error.
func (b *browser) text(a chromedp.Action[string]) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatal(err)
	}
}

// waitFor waits until the tab's document has an element matching css for which the
// JavaScript condition cond (on the element e) holds, whichever document the tab
// shows by then: chromedp's element query runs against the current document and
// retries through navigations (an evaluation that meets a document being replaced is
// retried, not failed), so a wait may begin before the navigation that leads to its
// state. It returns the element's text.
func (b *browser) waitFor(what, css, cond string) string {
	b.t.Helper()
	sel := chromedp.JSPath(`[...document.querySelectorAll(` + jsString(css) + `)].find((e) => ` + cond + `) || null`)
	ctx, cancel := context.WithTimeout(b.ctx, waitGuard)
	defer cancel()
	var text string
	err := chromedp.Do(ctx, chromedp.WaitVisible(sel), chromedp.Func(func(ctx context.Context, t *chromedp.Target) (err error) {
		text, err = chromedp.Text(sel)(ctx, t)
		return err
	}))
	if err != nil {
		now, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(document.querySelector(`+jsString(css)+`) || {}).textContent + ' at ' + location.href`))
		b.t.Fatalf("%s: no %s with %s (%v); now %q", what, css, cond, err, now)
	}
	return text
}

// waitPage waits until the tab shows the demo page of path (its heading names the
// path: a page of the new document, not the one that was navigated away from) and
// returns the location.
func (b *browser) waitPage(what, path string) string {
	b.t.Helper()
	b.waitFor(what, `#title`, `e.textContent === `+jsString("edgeauth demo: "+path))
	return b.text(chromedp.Location())
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	j, _ := json.Marshal(s)
	return string(j)
}

// A real browser signs in through the demo app's login page, in front of the hostdemo
// binary: the gate sends it to /login with return_to, the page posts to the control
// plane (CSRF checks included), the browser stores the httpOnly cookies, follows
// return_to, and the gate lets it through with its identity. Signing out sends it back
// to the login page.
func TestBrowserSignInThroughTheEdge(t *testing.T) {
	d := startDemo(t, demoOptions{})
	user := d.createUser("grace@example.test")
	b := newBrowser(t)

	b.do(chromedp.Navigate(d.url+"/app/inbox?tab=2"), chromedp.WaitVisible(`#login`))
	if loc := b.text(chromedp.Location()); !strings.HasSuffix(loc, "/login?return_to=%2Fapp%2Finbox%3Ftab%3D2") {
		t.Fatalf("anonymous visit landed on %s", loc)
	}
	b.do(chromedp.SendKeys(`input[name=email]`, "grace@example.test"),
		chromedp.SendKeys(`input[name=password]`, demoPassword),
		chromedp.Click(`#login button`),
		chromedp.WaitVisible(`#subject`))
	loc, subject := b.text(chromedp.Location()), b.text(chromedp.Text(`#subject`))
	if !strings.HasSuffix(loc, "/app/inbox?tab=2") || subject != user.ID {
		t.Fatalf("after sign-in: at %s, subject %q, want %q", loc, subject, user.ID)
	}

	// Script cannot read the tokens: both cookies are httpOnly.
	if visible := b.text(chromedp.Evaluate[string](`document.cookie`)); visible != "" {
		t.Fatalf("document.cookie exposes %q", visible)
	}

	// Sign out: the page posts to /auth/logout, then goes to the public home page.
	b.do(chromedp.Click(`#logout button`))
	if loc := b.waitPage("sign-out", "/"); loc != d.url+"/" {
		t.Fatalf("after sign-out at %s", loc)
	}
	b.do(chromedp.Navigate(d.url+"/app/inbox"), chromedp.WaitVisible(`#login`))
	if loc := b.text(chromedp.Location()); !strings.Contains(loc, "/login?return_to=") {
		t.Fatalf("after sign-out /app/ went to %s", loc)
	}
}

// Issue 7, item 4: the demo login page ran return_to as a URL unchecked, so
// return_to=javascript:... ran script in the app's origin right after sign-in and
// return_to=https://evil.example/ left the site. Through the binary in a real browser:
// each such return_to lands on the app's own page after sign-in, the script never
// runs, and the pages carry a Content-Security-Policy that forbids inline script and
// framing.
func TestBrowserLoginPageRefusesUnsafeReturnTo(t *testing.T) {
	d := startDemo(t, demoOptions{})
	d.createUser("grace@example.test")

	resp, _ := d.do(http.MethodGet, "/login", "", nil)
	csp := resp.Header.Get("Content-Security-Policy")
	if csp != demoapp.ContentSecurityPolicy || !strings.Contains(csp, "frame-ancestors 'none'") ||
		!strings.Contains(csp, "script-src 'sha256-") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("login page Content-Security-Policy %q", csp)
	}

	b := newBrowser(t)
	for _, returnTo := range []string{
		"javascript:document.title='pwned'",
		"javascript:fetch('/pwned')//",
		"JaVaScRiPt:document.title='pwned'",
		"https://evil.example/",
		"//evil.example/",
		"/\\evil.example/",
		"data:text/html,pwned",
	} {
		t.Run(returnTo, func(t *testing.T) {
			b.t = t
			b.do(chromedp.Navigate(d.url+"/login?return_to="+urlQueryEscape(returnTo)), chromedp.WaitVisible(`#login`))
			b.do(chromedp.SendKeys(`input[name=email]`, "grace@example.test"),
				chromedp.SendKeys(`input[name=password]`, demoPassword),
				chromedp.Click(`#login button`))
			b.waitFor("sign-in", `#title`, `e.textContent !== 'edgeauth demo: /login'`)
			loc := b.text(chromedp.Location())
			if loc != d.url+demoapp.AfterLogin {
				t.Fatalf("return_to %q led to %s, want %s", returnTo, loc, d.url+demoapp.AfterLogin)
			}
			b.do(chromedp.WaitVisible(`#subject`))
			if title := b.text(chromedp.Title()); title == "pwned" {
				t.Fatal("the return_to script ran")
			}
			// Sign out for the next case.
			b.do(chromedp.Click(`#logout button`))
			b.waitPage("sign-out", "/")
		})
	}
}

// A second factor in the demo, in a real browser: the vault (the demo's route with
// "mfa": true) refuses a password-only session; "your devices" turns TOTP on with the
// password and a first code, shows the recovery codes once, and the vault opens in that
// session; a new sign-in then asks for the code before it lets the browser in.
func TestBrowserSecondFactor(t *testing.T) {
	d := startDemo(t, demoOptions{})
	user := d.createUser("grace@example.test")
	b := newBrowser(t)

	b.do(chromedp.Navigate(d.url+"/app/devices"), chromedp.WaitVisible(`#login`))
	b.do(chromedp.SendKeys(`input[name=email]`, "grace@example.test"),
		chromedp.SendKeys(`input[name=password]`, demoPassword),
		chromedp.Click(`#login button`))
	b.waitPage("sign-in", "/app/devices")
	if got := b.text(chromedp.Text(`#second-factor`)); got != "false" {
		t.Fatalf("a password sign-in: second factor %q", got)
	}
	b.do(chromedp.Navigate(d.url + "/app/vault"))
	b.waitFor("the vault's refusal", `body`, `e.textContent.includes('second factor')`)

	b.do(chromedp.Navigate(d.url + "/app/devices"))
	b.waitFor("the offer", `#mfa-begin`, `!e.hidden`)
	b.do(chromedp.SendKeys(`#mfa-begin input[name=password]`, demoPassword), chromedp.Click(`#mfa-begin button`))
	secret := b.waitFor("the secret", `#mfa-secret`, `e.textContent !== ''`)
	b.do(chromedp.SendKeys(`#mfa-confirm input[name=code]`, totptest.Code(t, secret, time.Now())), chromedp.Click(`#mfa-confirm button`))
	if codes := strings.Fields(b.waitFor("the recovery codes", `#mfa-recovery`, `e.textContent !== ''`)); len(codes) != 10 {
		t.Fatalf("recovery codes %v", codes)
	}
	b.do(chromedp.Navigate(d.url + "/app/vault"))
	b.waitPage("the vault", "/app/vault")
	if got := b.text(chromedp.Text(`#second-factor`)); got != "true" {
		t.Fatalf("the vault after confirming: second factor %q", got)
	}

	// Signed out, the password alone no longer signs in: the page asks for the code
	// (the next step's: each step's code signs in once).
	b.do(chromedp.Click(`#logout button`))
	b.waitPage("sign-out", "/")
	b.do(chromedp.Navigate(d.url+"/app/vault"), chromedp.WaitVisible(`#login`))
	b.do(chromedp.SendKeys(`input[name=email]`, "grace@example.test"),
		chromedp.SendKeys(`input[name=password]`, demoPassword),
		chromedp.Click(`#login button`))
	b.waitFor("the code field", `input[name=code]`, `!e.hidden`)
	b.do(chromedp.SendKeys(`input[name=code]`, totptest.Code(t, secret, time.Now().Add(30*time.Second))), chromedp.Click(`#login button`))
	b.waitPage("the vault with a code", "/app/vault")
	if got, subject := b.text(chromedp.Text(`#second-factor`)), b.text(chromedp.Text(`#subject`)); got != "true" || subject != user.ID {
		t.Fatalf("signed in with a code: second factor %q, subject %q", got, subject)
	}
}

// A second factor required by the control plane's policy, in a real browser: an admin
// without one signs in with the password and is shown a new secret instead of a
// session; the first code turns it on and signs in, the recovery codes shown once; the
// browser then reaches the vault (the demo's route with "mfa": true), and "your
// devices" replaces the recovery codes. A user outside the policy signs in with the
// password as before.
func TestBrowserEnrollmentRequiredByPolicy(t *testing.T) {
	d := startDemo(t, demoOptions{cp: func(c *config.Config) { c.SecondFactor.RequiredFor = []string{"admin"} }})
	admin := d.createUser("hedy@example.test", "admin")
	d.createUser("ivan@example.test")
	b := newBrowser(t)
	signIn := func(email string) {
		b.do(chromedp.SendKeys(`input[name=email]`, email), chromedp.SendKeys(`input[name=password]`, demoPassword),
			chromedp.Click(`#login button`))
	}

	b.do(chromedp.Navigate(d.url+"/app/vault"), chromedp.WaitVisible(`#login`))
	signIn("hedy@example.test")
	secret := b.waitFor("the new secret", `#enroll-secret`, `e.textContent !== ''`)
	if msg := b.text(chromedp.Text(`#error`)); !strings.Contains(msg, "second factor") {
		t.Fatalf("the page's message: %q", msg)
	}
	b.do(chromedp.SendKeys(`input[name=code]`, totptest.Code(t, secret, time.Now())), chromedp.Click(`#login button`))
	codes := strings.Fields(b.waitFor("the recovery codes", `#enroll-recovery`, `e.textContent !== ''`))
	if len(codes) != 10 {
		t.Fatalf("recovery codes %v", codes)
	}
	b.do(chromedp.Click(`#enrolled button`))
	b.waitPage("the vault after enrolling", "/app/vault")
	if got, subject := b.text(chromedp.Text(`#second-factor`)), b.text(chromedp.Text(`#subject`)); got != "true" || subject != admin.ID {
		t.Fatalf("enrolled: second factor %q, subject %q", got, subject)
	}

	// The account cannot turn its factor off; "your devices" says it is required and
	// replaces the recovery codes with the password and a code (here a recovery code).
	b.do(chromedp.Navigate(d.url + "/app/devices"))
	b.waitFor("the factor's state", `#mfa-state`, `e.textContent === 'on, required'`)
	b.do(chromedp.SendKeys(`#mfa-renew input[name=password]`, demoPassword), chromedp.SendKeys(`#mfa-renew input[name=code]`, codes[0]),
		chromedp.Click(`#mfa-renew button`))
	renewed := strings.Fields(b.waitFor("the new recovery codes", `#mfa-recovery`, `e.textContent !== ''`))
	if len(renewed) != 10 || slices.Contains(renewed, codes[1]) {
		t.Fatalf("new recovery codes %v", renewed)
	}

	b.do(chromedp.Click(`#logout button`))
	b.waitPage("sign-out", "/")
	b.do(chromedp.Navigate(d.url+"/app/"), chromedp.WaitVisible(`#login`))
	signIn("ivan@example.test")
	b.waitPage("a user outside the policy", "/app/")
	if got := b.text(chromedp.Text(`#second-factor`)); got != "false" {
		t.Fatalf("a password sign-in: second factor %q", got)
	}
}

// Ending another device's session needs a recent sign-in (sessions.recent_login).
// Past it, "your devices" gets 403 reauthentication_required; the login page would
// send a browser whose session is still valid straight back (already_signed_in), so
// the page signs out first and then sends it to sign in. Signed in again, the browser
// is back on "your devices" and the other device's session ends.
func TestBrowserSignsInAgainToEndAnotherDevice(t *testing.T) {
	d := startDemo(t, demoOptions{})
	d.signIn("grace@example.test") // the other device: the test's HTTP client
	b := newBrowser(t)
	signIn := func() {
		b.do(chromedp.SendKeys(`input[name=email]`, "grace@example.test"), chromedp.SendKeys(`input[name=password]`, demoPassword),
			chromedp.Click(`#login button`))
	}
	b.do(chromedp.Navigate(d.url+"/app/devices"), chromedp.WaitVisible(`#login`))
	signIn()
	b.waitPage("sign-in", "/app/devices")
	b.waitFor("both devices", `#devices tbody`, `e.rows.length === 2`)
	signOutOther := chromedp.Evaluate[string](`[...document.querySelectorAll('#devices tbody tr')]
		.find((tr) => !tr.textContent.includes('this device')).querySelector('button').click() || 'clicked'`)

	// Every session signed in an hour ago: past the window.
	if _, err := d.pool.Exec(t.Context(), `UPDATE sessions SET created_at = created_at - interval '1 hour'`); err != nil {
		t.Fatal(err)
	}
	b.text(signOutOther)
	b.waitFor("the login page", `#login`, `true`)
	if loc := b.text(chromedp.Location()); !strings.HasSuffix(loc, "/login?return_to=%2Fapp%2Fdevices") {
		t.Fatalf("after 403 reauthentication_required: at %s", loc)
	}
	signIn()
	b.waitPage("signed in again", "/app/devices")
	b.waitFor("both devices again", `#devices tbody`, `e.rows.length === 2`)
	b.text(signOutOther)
	b.waitFor("this device alone", `#devices tbody`, `e.rows.length === 1 && e.textContent.includes('this device')`)
	var live int
	if err := d.pool.QueryRow(t.Context(), `SELECT count(*) FROM sessions WHERE revoked_at IS NULL`).Scan(&live); err != nil || live != 1 {
		t.Fatalf("%d live sessions (%v), want the browser's new one alone", live, err)
	}
	if resp, body := d.do(http.MethodGet, "/auth/me", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the other device after it was signed out: %s %s", resp.Status, body)
	}
}

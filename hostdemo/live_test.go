package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/edgeauth/edgeauth/controlplane/auth"
	"github.com/edgeauth/edgeauth/internal/totptest"
)

// tab opens another tab of the same browser (same cookies).
func (b *browser) tab() *browser {
	ctx, cancel := chromedp.NewContext(b.ctx)
	b.t.Cleanup(cancel)
	return &browser{t: b.t, ctx: ctx}
}

// signInAt opens path, signs in on the login page it is sent to, and waits for the
// page of path.
func (b *browser) signInAt(base, path, email string) {
	b.t.Helper()
	b.do(chromedp.Navigate(base+path), chromedp.WaitVisible(`#login`),
		chromedp.SendKeys(`input[name=email]`, email),
		chromedp.SendKeys(`input[name=password]`, demoPassword),
		chromedp.Click(`#login button`))
	if loc := b.waitPage("sign-in", path); loc != base+path {
		b.t.Fatalf("sign-in led to %s, want %s", loc, base+path)
	}
}

// socketOpen waits for the live page's open event (its status says "open").
func (b *browser) socketOpen() {
	b.t.Helper()
	b.waitFor("socket", `#status`, `e.textContent === 'open'`)
}

// socketClosed waits for the live page's close event (it writes the code to the
// status's data-code) and returns the status it shows ("closed CODE REASON").
func (b *browser) socketClosed(what string) string {
	b.t.Helper()
	return b.waitFor(what, `#status`, `e.dataset.code`)
}

// The demo's live page and "your devices" page in real browsers, through the hostdemo
// binary (which relays the page's WebSocket to its chat server after authorizing it
// with the session cookie): signing out in a second tab closes the first tab's socket
// with 4001 logout; signing a device out from another device's "your devices" page
// closes its socket with 4004 revoked_by_user; "sign out all other devices" closes it
// with 4003 logout_others and leaves the device that asked signed in.
func TestBrowserLiveSocketEndsWithTheSession(t *testing.T) {
	d := startDemo(t, demoOptions{})
	d.createUser("grace@example.test")
	laptop := newBrowser(t)

	laptop.signInAt(d.url, "/app/live", "grace@example.test")
	laptop.socketOpen()
	laptop.do(chromedp.SendKeys(`#live input[name=text]`, "hello from the laptop"), chromedp.Click(`#live button`))
	laptop.waitFor("chat", `#messages li`, `e.textContent.endsWith(': hello from the laptop')`)

	second := laptop.tab()
	second.do(chromedp.Navigate(d.url+"/app/"), chromedp.WaitVisible(`#logout`), chromedp.Click(`#logout button`))
	second.waitPage("sign-out in the second tab", "/")
	if st := laptop.socketClosed("the first tab after sign-out"); st != "closed 4001 logout" {
		t.Fatalf("the first tab after sign-out: %q", st)
	}

	// Two devices: the phone signs the laptop out from its "your devices" page.
	laptop.signInAt(d.url, "/app/live", "grace@example.test")
	laptop.socketOpen()
	laptopSession := laptop.text(chromedp.Text(`#session`))
	phone := newBrowser(t)
	phone.signInAt(d.url, "/app/devices", "grace@example.test")
	row := `#devices tr[data-session="` + laptopSession + `"]`
	phone.do(chromedp.WaitVisible(row))
	if ua := phone.text(chromedp.Text(row + ` td`)); !strings.Contains(ua, "Chrom") {
		t.Fatalf("the laptop's row names its browser as %q", ua)
	}
	phone.do(chromedp.Click(row + ` button.signout`))
	if st := laptop.socketClosed("the laptop after the phone signed it out"); st != "closed 4004 revoked_by_user" {
		t.Fatalf("the laptop after the phone signed it out: %q", st)
	}

	// "Sign out all other devices".
	laptop.signInAt(d.url, "/app/live", "grace@example.test")
	laptop.socketOpen()
	phone.do(chromedp.Navigate(d.url+"/app/devices"), chromedp.WaitVisible(`#devices tbody tr`), chromedp.Click(`#others`))
	if st := laptop.socketClosed("the laptop after sign out all others"); st != "closed 4003 logout_others" {
		t.Fatalf("the laptop after sign out all others: %q", st)
	}
	phone.waitFor("the phone's devices", `#devices tbody`, `e.rows.length === 1 && e.textContent.includes('this device')`)
}

// A password change made in a real browser, through the hostdemo binary, replaces the
// browser's session (OWASP ASVS 5.0 7.2.4): the answer's Set-Cookie gives the browser
// the new session's cookies, the page's socket closes with 4012 session_replaced and
// opens again on the new session, and another device's socket closes with 4006
// password_changed. The page reconnects by itself on 4012, as the close-code table
// tells clients to.
func TestBrowserPasswordChangeReplacesTheSession(t *testing.T) {
	d := startDemo(t, demoOptions{})
	d.createUser("ada@example.test")
	laptop := newBrowser(t)
	laptop.signInAt(d.url, "/app/live", "ada@example.test")
	laptop.socketOpen()
	before := laptop.text(chromedp.Text(`#session`))
	phone := newBrowser(t)
	phone.signInAt(d.url, "/app/live", "ada@example.test")
	phone.socketOpen()

	status := laptop.text(chromedp.Evaluate[string](`fetch('/auth/password', {method: 'POST', headers: {'Content-Type': 'application/json'},
		body: JSON.stringify({current_password: `+jsString(demoPassword)+`, new_password: 'a completely new passphrase'})}).then((r) => String(r.status))`,
		chromedp.EvalAwaitPromise))
	if status != "200" {
		t.Fatalf("password change from the page: %s", status)
	}
	if st := phone.socketClosed("the phone after the laptop's password change"); st != "closed 4006 password_changed" {
		t.Fatalf("the phone after the laptop's password change: %q", st)
	}
	// The page reconnects on 4012 with the cookies the change set: with the old
	// session's, the upgrade would be refused (another close, 1006, then the login page).
	laptop.waitFor("the laptop's socket closed with 4012 and open again", `#status`,
		`e.dataset.closes === '4012' && e.textContent === 'open'`)
	laptop.do(chromedp.SendKeys(`#live input[name=text]`, "still here"), chromedp.Click(`#live button`))
	laptop.waitFor("chat on the new session", `#messages li`, `e.textContent.endsWith(': still here')`)

	laptop.do(chromedp.Navigate(d.url + "/app/live"))
	laptop.waitPage("the live page again", "/app/live")
	laptop.socketOpen()
	if after := laptop.text(chromedp.Text(`#session`)); after == "" || after == before {
		t.Fatalf("the page's session after the change: %q (before: %q)", after, before)
	}
}

// When the revocation list covers sessions with a cutoff instead of naming them, the
// edge closes the sockets opened with older tokens (4013 token_superseded); the live
// page refreshes and reconnects, still signed in.
func TestBrowserListCutoffReconnectsTheLivePage(t *testing.T) {
	d := startDemo(t, demoOptions{listBytes: 32 + 3}) // the list names one session
	d.createUser("ada@example.test")
	laptop := newBrowser(t)
	laptop.signInAt(d.url, "/app/live", "ada@example.test")
	laptop.socketOpen()
	before := laptop.text(chromedp.Text(`#session`))

	// Two more sessions, each in a later second than the last, both signed out: the
	// list names the newer and covers the older with a cutoff, the second after it
	// got its token, which also covers the laptop's token.
	ctx := context.Background()
	var sids []string
	for range 2 {
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
		r, err := d.cp.Auth.Login(ctx, auth.LoginRequest{Email: "ada@example.test", Password: demoPassword, UserAgent: "script"})
		if err != nil {
			t.Fatal(err)
		}
		sids = append(sids, r.Session.ID)
	}
	for _, sid := range sids {
		if _, err := d.cp.Auth.Logout(ctx, sid); err != nil {
			t.Fatal(err)
		}
	}
	laptop.waitFor("the laptop's socket closed with 4013 and open again", `#status`,
		`e.dataset.closes === '4013' && e.textContent === 'open'`)
	laptop.do(chromedp.SendKeys(`#live input[name=text]`, "still here"), chromedp.Click(`#live button`))
	laptop.waitFor("chat after the reconnect", `#messages li`, `e.textContent.endsWith(': still here')`)
	if after := laptop.text(chromedp.Text(`#session`)); after != before {
		t.Fatalf("the page's session changed: %q, was %q", after, before)
	}
}

// An account with a second factor signs in through the demo's login page: the password
// alone brings up the code field (401 mfa_required), and the authenticator's code
// completes the sign-in.
func TestBrowserSignInWithASecondFactor(t *testing.T) {
	d := startDemo(t, demoOptions{})
	u := d.createUser("ada@example.test")
	ctx := context.Background()
	s, err := d.cp.Auth.Login(ctx, auth.LoginRequest{Email: u.Email, Password: demoPassword, IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	setup, err := d.cp.Auth.BeginTOTP(ctx, auth.TOTPRequest{UserID: u.ID, SessionID: s.Session.ID, Password: demoPassword, IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	// Confirmed with the previous step's code: the browser uses the current one.
	if _, err := d.cp.Auth.ConfirmTOTP(ctx, auth.TOTPRequest{UserID: u.ID, SessionID: s.Session.ID, Code: totptest.Code(t, setup.Secret, time.Now().Add(-30*time.Second)), IP: "192.0.2.8"}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	b.do(chromedp.Navigate(d.url+"/app/"), chromedp.WaitVisible(`#login`),
		chromedp.SendKeys(`input[name=email]`, u.Email),
		chromedp.SendKeys(`input[name=password]`, demoPassword),
		chromedp.Click(`#login button`))
	b.waitFor("the code field", `input[name=code]`, `!e.hidden`)
	b.do(chromedp.SendKeys(`input[name=code]`, totptest.Code(t, setup.Secret, time.Now())), chromedp.Click(`#login button`))
	if loc := b.waitPage("sign-in with a code", "/app/"); loc != d.url+"/app/" {
		t.Fatalf("sign-in led to %s", loc)
	}
	if sub := b.text(chromedp.Text(`#subject`)); sub != u.ID {
		t.Fatalf("signed in as %q, want %s", sub, u.ID)
	}
}

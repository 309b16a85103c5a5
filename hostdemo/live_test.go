package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// tab opens another tab of the same browser (same cookies).
func (b *browser) tab() *browser {
	ctx, cancel := chromedp.NewContext(b.ctx)
	b.t.Cleanup(cancel)
	return &browser{t: b.t, ctx: ctx}
}

// waitText polls until the element's text satisfies ok.
func (b *browser) waitText(sel string, what string, ok func(string) bool) string {
	b.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		v, err := chromedp.Run(b.ctx, chromedp.Text(sel))
		if err == nil && ok(v) {
			return v
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: %s is %q (%v)", what, sel, v, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// signInAt opens path, signs in on the login page it is sent to, and waits for path.
func (b *browser) signInAt(base, path, email string) {
	b.t.Helper()
	b.do(chromedp.Navigate(base+path), chromedp.WaitVisible(`#login`),
		chromedp.SendKeys(`input[name=email]`, email),
		chromedp.SendKeys(`input[name=password]`, demoPassword),
		chromedp.Click(`#login button`))
	b.waitLocation("sign-in", func(l string) bool { return l == base+path })
}

func is(want string) func(string) bool { return func(s string) bool { return s == want } }

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
	laptop.waitText(`#status`, "socket", is("open"))
	laptop.do(chromedp.SendKeys(`#live input[name=text]`, "hello from the laptop"), chromedp.Click(`#live button`))
	laptop.waitText(`#messages`, "chat", func(s string) bool { return strings.Contains(s, ": hello from the laptop") })

	second := laptop.tab()
	second.do(chromedp.Navigate(d.url+"/app/"), chromedp.WaitVisible(`#logout`), chromedp.Click(`#logout button`))
	second.waitLocation("sign-out in the second tab", func(l string) bool { return l == d.url+"/" })
	laptop.waitText(`#status`, "the first tab after sign-out", is("closed 4001 logout"))

	// Two devices: the phone signs the laptop out from its "your devices" page.
	laptop.signInAt(d.url, "/app/live", "grace@example.test")
	laptop.waitText(`#status`, "socket", is("open"))
	laptopSession := laptop.text(chromedp.Text(`#session`))
	phone := newBrowser(t)
	phone.signInAt(d.url, "/app/devices", "grace@example.test")
	row := `#devices tr[data-session="` + laptopSession + `"]`
	phone.do(chromedp.WaitVisible(row))
	if ua := phone.text(chromedp.Text(row + ` td`)); !strings.Contains(ua, "Chrom") {
		t.Fatalf("the laptop's row names its browser as %q", ua)
	}
	phone.do(chromedp.Click(row + ` button.signout`))
	laptop.waitText(`#status`, "the laptop after the phone signed it out", is("closed 4004 revoked_by_user"))

	// "Sign out all other devices".
	laptop.signInAt(d.url, "/app/live", "grace@example.test")
	laptop.waitText(`#status`, "socket", is("open"))
	phone.do(chromedp.Navigate(d.url+"/app/devices"), chromedp.WaitVisible(`#devices tbody tr`), chromedp.Click(`#others`))
	laptop.waitText(`#status`, "the laptop after sign out all others", is("closed 4003 logout_others"))
	phone.waitText(`#devices tbody`, "the phone's devices", func(s string) bool {
		return strings.Contains(s, "this device") && strings.Count(s, "Sign out") == 1
	})
}

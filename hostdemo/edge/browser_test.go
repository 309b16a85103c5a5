package edge_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/edgeauth/edgeauth/controlplane/auth"
	"github.com/edgeauth/edgeauth/hostdemo/demoapp"
	"github.com/edgeauth/edgeauth/verifier/wasmhost"
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

// A real browser signs in through the demo app's login page: the gate sends it to
// /login with return_to, the page posts to the control plane (CSRF checks included),
// the browser stores the httpOnly cookies, follows return_to, and the gate lets it
// through with its identity. Signing out sends it back to the login page.
func TestBrowserSignInThroughTheEdge(t *testing.T) {
	ctx := context.Background()
	engine, err := wasmhost.NewEmbedded(ctx, wasmhost.Options{PoolSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { engine.Close() })
	w := newWorldWithApp(t, engine, demoapp.Handler())
	user, err := w.cp.Auth.CreateUser(ctx, auth.NewUser{Email: "grace@example.test", Password: "a long enough passphrase"})
	if err != nil {
		t.Fatal(err)
	}

	alloc, cancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium(t)), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true))
	defer cancel()
	browser, cancel := chromedp.NewContext(alloc)
	defer cancel()
	browser, cancel = context.WithTimeout(browser, 60*time.Second)
	defer cancel()

	// text runs one value-returning browser action, failing the test on error.
	text := func(a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(browser, a)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(browser, steps...); err != nil {
			t.Fatal(err)
		}
	}

	do(chromedp.Navigate(w.edgeURL+"/app/inbox?tab=2"), chromedp.WaitVisible(`#login`))
	if loc := text(chromedp.Location()); !strings.HasSuffix(loc, "/login?return_to=%2Fapp%2Finbox%3Ftab%3D2") {
		t.Fatalf("anonymous visit landed on %s", loc)
	}
	do(chromedp.SendKeys(`input[name=email]`, "grace@example.test"),
		chromedp.SendKeys(`input[name=password]`, "a long enough passphrase"),
		chromedp.Click(`#login button`),
		chromedp.WaitVisible(`#subject`))
	loc, subject := text(chromedp.Location()), text(chromedp.Text(`#subject`))
	if !strings.HasSuffix(loc, "/app/inbox?tab=2") || subject != user.ID {
		t.Fatalf("after sign-in: at %s, subject %q, want %q", loc, subject, user.ID)
	}

	// Script cannot read the tokens: both cookies are httpOnly.
	if visible := text(chromedp.Evaluate[string](`document.cookie`)); visible != "" {
		t.Fatalf("document.cookie exposes %q", visible)
	}

	// Sign out: the page posts to /auth/logout, then goes to the public home page.
	do(chromedp.Click(`button`))
	for deadline := time.Now().Add(20 * time.Second); text(chromedp.Location()) != w.edgeURL+"/"; {
		if time.Now().After(deadline) {
			t.Fatalf("sign-out never reached the home page; at %s", text(chromedp.Location()))
		}
		time.Sleep(50 * time.Millisecond)
	}
	do(chromedp.Navigate(w.edgeURL+"/app/inbox"), chromedp.WaitVisible(`#login`))
	loc = text(chromedp.Location())
	if !strings.Contains(loc, "/login?return_to=") {
		t.Fatalf("after sign-out /app/ went to %s", loc)
	}
}

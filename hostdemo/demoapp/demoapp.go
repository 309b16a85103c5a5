// Package demoapp is the small web app hostdemo serves when no upstream is given: it
// shows what the edge forwards (identity headers set by the gate only).
//
// It is the first thing users copy, so it does what a real app must: the login page
// sends the browser on only to a return_to that passes the gate's own rule
// (verifier.SafeReturnTo), checked on the server; and every page is served with a
// Content-Security-Policy that allows no script but the page's own (by hash), no
// framing, and connections to this origin only.
package demoapp

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"

	"github.com/edgeauth/edgeauth/verifier"
)

// AfterLogin is where the login page sends the browser when return_to is missing or
// refused.
const AfterLogin = "/app/"

// script is the demo's only script: it signs in and out through the control plane's
// JSON API. It reads the return target from the page, where the server put it after
// checking it; it never reads the URL.
const script = `
const login = document.getElementById('login');
if (login) login.addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(login);
  const r = await fetch('/auth/login', {method: 'POST', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({email: f.get('email'), password: f.get('password')})});
  if (r.ok) {
    const next = new URL(login.dataset.next, location.origin);
    location.assign(next.origin === location.origin ? next.pathname + next.search : '/');
    return;
  }
  document.getElementById('error').textContent = (await r.json()).error.message;
});
const logout = document.getElementById('logout');
if (logout) logout.addEventListener('submit', async (e) => {
  e.preventDefault();
  await fetch('/auth/logout', {method: 'POST'});
  location.assign('/');
});
`

// ContentSecurityPolicy is the policy of every demo page: nothing by default, the
// page's one script by hash, fetches to this origin, forms posting here, no framing.
var ContentSecurityPolicy = func() string {
	sum := sha256.Sum256([]byte(script))
	return "default-src 'none'; script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; " +
		"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
}()

var page = template.Must(template.New("page").Parse(`<!doctype html>
<meta charset="utf-8"><title>edgeauth demo</title>
<h1 id="title">{{.Title}}</h1>
{{if .Login}}
<form id="login" method="post" action="/auth/login" data-next="{{.Next}}"><input name="email" type="email" placeholder="email" required>
<input name="password" type="password" placeholder="password" required><button>Sign in</button></form>
<p id="error"></p>
{{else}}
<p>Subject: <code id="subject">{{.Subject}}</code> Session: <code>{{.Session}}</code> Roles: <code>{{.Roles}}</code></p>
<form id="logout" method="post" action="/auth/logout"><button>Sign out</button></form>
{{end}}
<p><a href="/">public</a> · <a href="/app/">app</a> · <a href="/admin/">admin</a></p>
<script>{{.Script}}</script>`))

// Handler serves the demo app: a login page at /login that signs in through the
// control plane's JSON API, and pages that show the identity headers the edge set.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		next := r.URL.Query().Get("return_to")
		if !verifier.SafeReturnTo(next) {
			next = AfterLogin
		}
		page.Execute(w, map[string]any{
			"Title": "edgeauth demo: " + r.URL.Path, "Login": r.URL.Path == "/login", "Next": next,
			"Subject": r.Header.Get(verifier.HeaderSubject), "Session": r.Header.Get(verifier.HeaderSession),
			"Roles": r.Header.Get(verifier.HeaderRoles), "Script": template.JS(script),
		})
	})
}

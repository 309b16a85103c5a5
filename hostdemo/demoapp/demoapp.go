// Package demoapp is the small web app hostdemo serves when no upstream is given: it
// shows what the edge forwards (identity headers set by the gate only).
package demoapp

import (
	"html/template"
	"net/http"

	"github.com/edgeauth/edgeauth/verifier"
)

var page = template.Must(template.New("page").Parse(`<!doctype html>
<meta charset="utf-8"><title>edgeauth demo</title>
<h1 id="title">{{.Title}}</h1>
{{if .Login}}
<form id="login" method="post" action="/auth/login"><input name="email" type="email" placeholder="email" required>
<input name="password" type="password" placeholder="password" required><button>Sign in</button></form>
<p id="error"></p>
<script>
document.getElementById('login').onsubmit = async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const r = await fetch('/auth/login', {method: 'POST', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({email: f.get('email'), password: f.get('password')})});
  if (r.ok) { location = new URLSearchParams(location.search).get('return_to') || '/app/'; return; }
  document.getElementById('error').textContent = (await r.json()).error.message;
};
</script>
{{else}}
<p>Subject: <code id="subject">{{.Subject}}</code> Session: <code>{{.Session}}</code> Roles: <code>{{.Roles}}</code></p>
<form method="post" action="/auth/logout" onsubmit="event.preventDefault(); fetch('/auth/logout', {method: 'POST'}).then(() => location = '/')"><button>Sign out</button></form>
{{end}}
<p><a href="/">public</a> · <a href="/app/">app</a> · <a href="/admin/">admin</a></p>`))

// Handler serves the demo app: a login page at /login that signs in through the
// control plane's JSON API, and pages that show the identity headers the edge set.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		title := "edgeauth demo: " + r.URL.Path
		page.Execute(w, map[string]any{
			"Title": title, "Login": r.URL.Path == "/login",
			"Subject": r.Header.Get(verifier.HeaderSubject), "Session": r.Header.Get(verifier.HeaderSession),
			"Roles": r.Header.Get(verifier.HeaderRoles),
		})
	})
}

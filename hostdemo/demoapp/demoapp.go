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
// JSON API, runs the live page's socket, lists the user's devices and turns a second
// factor on. It reads the return target from the page, where the server put it after
// checking it; it never reads the URL.
const script = `
const login = document.getElementById('login');
const post = (path, body) => fetch(path, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
const goOn = () => {
  const next = new URL(login.dataset.next, location.origin);
  location.assign(next.origin === location.origin ? next.pathname + next.search : '/');
};
if (login) login.addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(login);
  const creds = {email: f.get('email'), password: f.get('password')};
  if (f.get('code')) creds.code = f.get('code');
  // An account that must have a second factor and has none turns one on first: the
  // login answered mfa_enrollment_required, and the code entered is the new secret's.
  const enrolling = !login.elements.enroll.hidden;
  const r = await post(enrolling ? '/auth/mfa/enroll/confirm' : '/auth/login', creds);
  if (r.ok && enrolling) {
    // Signed in; the recovery codes are shown this once, then the user goes on.
    login.hidden = true;
    document.getElementById('enroll-recovery').textContent = (await r.json()).recovery_codes.join(' ');
    document.getElementById('enrolled').hidden = false;
    return;
  }
  if (r.ok) return goOn();
  const err = (await r.json()).error;
  if (err.code === 'mfa_enrollment_required') {
    const setup = await post('/auth/mfa/enroll', {email: creds.email, password: creds.password});
    if (!setup.ok) {
      document.getElementById('error').textContent = (await setup.json()).error.message;
      return;
    }
    const s = await setup.json();
    document.getElementById('enroll-secret').textContent = s.secret;
    document.getElementById('enroll-uri').textContent = s.uri;
    login.elements.enroll.hidden = false;
  }
  if (err.code === 'mfa_required' || err.code === 'mfa_enrollment_required') {
    // Ask for the code (of the account's factor, or of the secret just shown), then
    // sign in again.
    login.elements.code.hidden = false;
    login.elements.code.required = true;
    login.elements.code.focus();
  }
  document.getElementById('error').textContent = err.message;
});
const enrolled = document.getElementById('enrolled');
if (enrolled) enrolled.addEventListener('submit', (e) => { e.preventDefault(); goOn(); });
const logout = document.getElementById('logout');
if (logout) logout.addEventListener('submit', async (e) => {
  e.preventDefault();
  await fetch('/auth/logout', {method: 'POST'});
  location.assign('/');
});
// The live page: a chat over a WebSocket the edge authorizes with the session cookie
// and closes, with a close code saying why, when the session ends.
const live = document.getElementById('live');
if (live) {
  const status = document.getElementById('status'), messages = document.getElementById('messages');
  let socket, refreshed = false;
  const connect = () => {
    let opened = false;
    socket = new WebSocket(location.origin.replace(/^http/, 'ws') + live.dataset.socket);
    socket.addEventListener('open', () => { opened = true; refreshed = false; status.textContent = 'open'; status.dataset.code = ''; });
    socket.addEventListener('message', (e) => {
      const li = document.createElement('li');
      li.textContent = e.data;
      messages.append(li);
    });
    socket.addEventListener('close', async (e) => {
      status.dataset.code = String(e.code);
      status.dataset.closes = ((status.dataset.closes || '') + ' ' + e.code).trim(); // every close, in order
      status.textContent = 'closed ' + e.code + ' ' + e.reason;
      if (opened && e.code === 4012) {
        // A password change on this page replaced the session, and its answer set the
        // new session's cookies: the user is still signed in.
        connect();
        return;
      }
      // 4011 and 4013: the token the socket was opened with is no longer accepted (its
      // signing key left the key set, or the revocation list's cutoff covers it).
      const renew = opened && (e.code === 4011 || e.code === 4013);
      if ((!opened || renew) && !refreshed) {
        // Refused before opening (a browser cannot see why: the access token may have
        // expired), or closed for its token. Refresh once and retry once; then send the
        // user to sign in.
        refreshed = true;
        const r = await fetch('/auth/refresh', {method: 'POST'});
        if (r.ok) { connect(); return; }
        location.assign('/login?return_to=' + encodeURIComponent(location.pathname));
      }
    });
  };
  live.addEventListener('submit', (e) => {
    e.preventDefault();
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(live.elements.text.value);
    live.elements.text.value = '';
  });
  connect();
}
// "Your devices": the sessions of this user, each signed out separately or all others.
const devices = document.getElementById('devices');
if (devices) {
  const browser = (ua) => (ua.match(/(Edg|OPR|Firefox|Chrome|Chromium|Safari)\/[0-9]+/) || [ua.slice(0, 40) || 'unknown'])[0].replace('Edg/', 'Edge/').replace('OPR/', 'Opera/');
  // Ending another device's session needs a recent sign-in (403
  // reauthentication_required): sign in again, then come back here. This session is
  // still valid, and the login page sends a signed-in browser on (already_signed_in),
  // so it signs out first; the new sign-in would have replaced it anyway.
  const signInAgain = async () => {
    await fetch('/auth/logout', {method: 'POST'});
    location.assign('/login?return_to=' + encodeURIComponent(location.pathname));
  };
  const render = async () => {
    const r = await fetch('/auth/sessions');
    if (!r.ok) { signInAgain(); return; }
    const rows = (await r.json()).sessions.map((s) => {
      const tr = document.createElement('tr');
      tr.dataset.session = s.id;
      for (const text of [browser(s.user_agent), s.ip, new Date(s.last_used).toLocaleString(), s.current ? 'this device' : '']) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      const out = document.createElement('button');
      out.textContent = 'Sign out';
      out.className = 'signout';
      out.addEventListener('click', async () => {
        const r = await fetch('/auth/sessions/' + encodeURIComponent(s.id), {method: 'DELETE'});
        if (r.status === 403) signInAgain();
        else if (s.current) location.assign('/');
        else render();
      });
      const td = document.createElement('td');
      td.append(out);
      tr.append(td);
      return tr;
    });
    devices.querySelector('tbody').replaceChildren(...rows);
  };
  // A second factor (TOTP): the password, then a code of the secret shown, then the
  // recovery codes, once. Confirming proves the factor in this session: a refresh
  // gets an access token that says so, and the vault opens.
  const mfa = document.getElementById('mfa');
  fetch('/auth/me').then((r) => r.json()).then((me) => {
    const on = !!(me.mfa && me.mfa.totp);
    mfa.querySelector('#mfa-state').textContent = (on ? 'on' : 'off') + (me.mfa && me.mfa.required ? ', required' : '');
    mfa.querySelector('#mfa-begin').hidden = on;
    mfa.querySelector('#mfa-renew').hidden = !on;
  });
  // New recovery codes: the password and a code (or an unused recovery code).
  mfa.querySelector('#mfa-renew').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = e.currentTarget.elements;
    const r = await post('/auth/mfa/recovery-codes', {password: f.password.value, code: f.code.value});
    const body = await r.json();
    if (!r.ok) { mfa.querySelector('#mfa-error').textContent = body.error.message; return; }
    mfa.querySelector('#mfa-recovery').textContent = body.recovery_codes.join(' ');
  });
  mfa.querySelector('#mfa-begin').addEventListener('submit', async (e) => {
    e.preventDefault();
    const r = await post('/auth/mfa/totp', {password: e.currentTarget.elements.password.value});
    const body = await r.json();
    if (!r.ok) { mfa.querySelector('#mfa-error').textContent = body.error.message; return; }
    mfa.querySelector('#mfa-secret').textContent = body.secret;
    mfa.querySelector('#mfa-uri').textContent = body.uri;
    mfa.querySelector('#mfa-confirm').hidden = false;
  });
  mfa.querySelector('#mfa-confirm').addEventListener('submit', async (e) => {
    e.preventDefault();
    const r = await post('/auth/mfa/totp/confirm', {code: e.currentTarget.elements.code.value});
    const body = await r.json();
    if (!r.ok) { mfa.querySelector('#mfa-error').textContent = body.error.message; return; }
    await fetch('/auth/refresh', {method: 'POST'});
    mfa.querySelector('#mfa-state').textContent = 'on';
    mfa.querySelector('#mfa-recovery').textContent = body.recovery_codes.join(' ');
    mfa.querySelector('#mfa-begin').hidden = mfa.querySelector('#mfa-confirm').hidden = true;
    mfa.querySelector('#mfa-renew').hidden = false;
  });
  document.getElementById('others').addEventListener('click', async () => {
    const r = await fetch('/auth/logout-others', {method: 'POST'});
    if (r.status === 403) signInAgain(); else render();
  });
  render();
}
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
<input name="password" type="password" placeholder="password" required>
<fieldset name="enroll" hidden><p>This account must have a second factor. Add this secret to an authenticator app: <code id="enroll-secret"></code> (<code id="enroll-uri"></code>), then enter its code.</p></fieldset>
<input name="code" inputmode="numeric" autocomplete="one-time-code" placeholder="code from your authenticator, or a recovery code" hidden><button>Sign in</button></form>
<form id="enrolled" hidden><p>Second factor on. Recovery codes, shown once: <code id="enroll-recovery"></code></p><button>Continue</button></form>
<p id="error"></p>
{{else}}
<p>Subject: <code id="subject">{{.Subject}}</code> Session: <code id="session">{{.Session}}</code> Roles: <code>{{.Roles}}</code> Second factor: <code id="second-factor">{{.SecondFactor}}</code></p>
<form id="logout" method="post" action="/auth/logout"><button>Sign out</button></form>
{{if .Live}}
<p>Socket: <code id="status">connecting</code></p>
<form id="live" data-socket="{{.Socket}}"><input name="text" placeholder="say something" autocomplete="off"><button>Send</button></form>
<ul id="messages"></ul>
{{end}}
{{if .Devices}}
<table id="devices"><thead><tr><th>browser</th><th>address</th><th>last used</th><th></th><th></th></tr></thead><tbody></tbody></table>
<p><button id="others">Sign out all other devices</button></p>
<section id="mfa"><h2>Second factor: <span id="mfa-state"></span></h2>
<form id="mfa-begin" hidden><input name="password" type="password" placeholder="your password" autocomplete="current-password" required><button>Turn on</button></form>
<form id="mfa-confirm" hidden><p>Add this secret to an authenticator app: <code id="mfa-secret"></code> (<code id="mfa-uri"></code>)</p>
<input name="code" inputmode="numeric" autocomplete="one-time-code" placeholder="its code" required><button>Confirm</button></form>
<form id="mfa-renew" hidden><input name="password" type="password" placeholder="your password" autocomplete="current-password" required>
<input name="code" inputmode="numeric" autocomplete="one-time-code" placeholder="a code, or a recovery code" required><button>New recovery codes</button></form>
<p>Recovery codes, shown once: <code id="mfa-recovery"></code></p><p id="mfa-error"></p></section>
{{end}}
{{end}}
<p><a href="/">public</a> · <a href="/app/">app</a> · <a href="/app/live">live</a> · <a href="/app/devices">your devices</a> · <a href="/app/vault">vault (second factor)</a> · <a href="/admin/">admin</a></p>
<script>{{.Script}}</script>`))

// Handler serves the demo app: a login page at /login that signs in through the
// control plane's JSON API, pages that show the identity headers the edge set, a live
// page (/app/live, a chat over a WebSocket to Live) and "your devices" (/app/devices:
// the user's sessions, each with its browser and last use, signed out one by one or
// all others at once, and a second factor turned on). /app/vault is any page to the
// app: the edge forwards it only to a sign-in with a second factor.
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
			"Live": r.URL.Path == "/app/live", "Socket": LivePath, "Devices": r.URL.Path == "/app/devices",
			"Subject": r.Header.Get(verifier.HeaderSubject), "Session": r.Header.Get(verifier.HeaderSession),
			"Roles": r.Header.Get(verifier.HeaderRoles), "SecondFactor": r.Header.Get(verifier.HeaderSecondFactor),
			"Script": template.JS(script),
		})
	})
}

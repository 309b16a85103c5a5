// The demo app behind the workerd, Deno and edge-runtime examples: a home page, a
// login page, a protected page, a page that needs a second factor (/vault: the edge
// routes say so), an API route and sign-out. It trusts the identity
// headers because the edge in front of it set them (after removing any a client sent).
// The Next.js example has the same pages as App Router routes.

const page = (title, body) =>
  new Response(`<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`, {
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
  });

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// The login page posts to the control plane's /auth/login (same origin, through the
// edge) and then goes back to return_to, if it is a path on this site. An account with
// a second factor is answered 401 mfa_required: the page then asks for a code and
// posts again with it. An account that must have one and has none yet is answered 403
// mfa_enrollment_required: the page gets it a new secret (/auth/mfa/enroll), shows it
// for the authenticator app and asks for its code; confirming signs in and answers the
// recovery codes, which the page shows this once before the user goes on.
const loginScript = `
const form = document.querySelector("form");
const error = document.querySelector("#error");
// A request that fails (the site unreachable, the network gone) is answered as a 503:
// refusal() says the service is unavailable and to try again, where the rejection left
// the page saying nothing.
const post = (path, body) => fetch(path, {
  method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
}).catch(() => new Response(null, { status: 503 }));
// totpURI: uri when it is an otpauth://totp/ URI (the Key Uri Format authenticator apps
// read), else null. The control plane's answer becomes a link: a javascript: URI, or any
// other, must never.
const totpURI = (uri) => {
  try {
    const u = new URL(String(uri));
    return u.protocol === "otpauth:" && u.host === "totp" && u.pathname.length > 1 ? String(uri) : null;
  } catch {
    return null;
  }
};
const errorCode = async (res) => (await res.json().catch(() => ({}))).error?.code;
// refusal says why an attempt was refused when no step of the page answers it: a wrong
// code (mfa_invalid, at sign-in or enrollment) is the code, not the password; 429
// too_many_attempts is no verdict on either: the user waits Retry-After seconds; nor is
// a 502, 503 or 504 (the edge could not reach the control plane, its database is
// down): the user tries again, the same password.
const refusal = (res, code) => {
  if (res.status === 502 || res.status === 503 || res.status === 504) return "Sign-in is unavailable right now: try again in a moment";
  if (code === "mfa_invalid") return "Wrong code: enter the one your authenticator app shows now";
  if (code !== "too_many_attempts") return "Sign-in failed";
  const minutes = Math.ceil(Number(res.headers.get("retry-after")) / 60);
  return minutes > 0 ? \`Too many attempts: try again in \${minutes} minute\${minutes > 1 ? "s" : ""}\` : "Too many attempts: try again later";
};
// return_to when it is a path on this site, read as the browser reads it: the URL
// parser drops tabs and newlines and takes a backslash for "/", so "/<tab>/evil.example"
// is "//evil.example", another site, though it does not start so.
const returnTo = (() => {
  const back = new URLSearchParams(location.search).get("return_to") ?? "";
  try {
    const to = new URL(back, location.origin);
    if (back.startsWith("/") && to.origin === location.origin) return to.pathname + to.search + to.hash;
  } catch {}
  return "/dashboard";
})();
let enrolling = false;
form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = { email: form.email.value, password: form.password.value };
  if (!form.code.hidden) body.code = form.code.value;
  if (enrolling) return confirmEnrollment(body);
  const res = await post("/auth/login", body);
  if (!res.ok) {
    const code = await errorCode(res);
    // The credentials alone: the endpoint refuses a code (400), and the field may hold
    // one typed for another account at its code step.
    if (code === "mfa_enrollment_required") return enroll({ email: body.email, password: body.password });
    if (code === "mfa_required") { form.code.hidden = false; form.code.focus(); }
    error.textContent = code === "mfa_required" ? "Enter the code of your authenticator app" : refusal(res, code);
    return;
  }
  location.assign(returnTo);
});
async function enroll(body) {
  const res = await post("/auth/mfa/enroll", body);
  if (!res.ok) { error.textContent = refusal(res, await errorCode(res)); return; }
  const { secret, uri } = await res.json();
  document.querySelector("#secret").textContent = secret;
  const link = totpURI(uri);
  document.querySelector("#open-uri").hidden = link === null;
  document.querySelector("#uri").textContent = link ?? "";
  if (link === null) document.querySelector("#uri").removeAttribute("href");
  else document.querySelector("#uri").href = link;
  document.querySelector("#enroll").hidden = false;
  enrolling = true;
  form.code.hidden = false;
  form.code.focus();
  error.textContent = "This account needs a second factor: add the key to your authenticator app and enter its code";
}
async function confirmEnrollment(body) {
  const res = await post("/auth/mfa/enroll/confirm", body);
  if (!res.ok) {
    const code = await errorCode(res);
    // This secret is no longer the one to confirm (confirmed in another browser meanwhile,
    // or reset): leave the step. mfa_enabled: the account has its factor, so
    // it signs in with its code; mfa_not_pending: the next sign-in starts over.
    if (code === "mfa_enabled" || code === "mfa_not_pending") {
      enrolling = false;
      document.querySelector("#enroll").hidden = true;
      form.code.hidden = code !== "mfa_enabled";
      form.code.value = "";
      error.textContent = code === "mfa_enabled" ? "This account has a second factor now: enter its code" : "Sign in again to set up the second factor";
      return;
    }
    error.textContent = refusal(res, code);
    return;
  }
  const list = document.querySelector("#recovery-codes");
  for (const c of (await res.json()).recovery_codes) list.append(Object.assign(document.createElement("li"), { textContent: c }));
  form.hidden = true;
  document.querySelector("#enroll").hidden = true;
  document.querySelector("#recovery").hidden = false;
  error.textContent = "";
}
document.querySelector("#continue").addEventListener("click", () => location.assign(returnTo));`;

const signOutScript = `
document.querySelector("#signout").addEventListener("click", async () => {
  await fetch("/auth/logout", { method: "POST" });
  location.assign("/login");
});`;

/** app answers a request the edge forwarded. */
export function app(request) {
  const url = new URL(request.url);
  const h = request.headers;
  switch (url.pathname) {
    case "/":
      return page("Home", `<h1>Home</h1><a href="/dashboard">Dashboard</a>`);
    case "/login":
      return page("Sign in", `<h1>Sign in</h1><form><input name="email" type="email" autocomplete="username">
<input name="password" type="password" autocomplete="current-password">
<input name="code" inputmode="numeric" autocomplete="one-time-code" hidden><button type="submit">Sign in</button></form>
<p id="enroll" hidden>Key for your authenticator app: <code id="secret"></code><span id="open-uri"> (or open <a id="uri"></a>)</span></p>
<div id="recovery" hidden><p>Signed in. Keep these recovery codes somewhere safe: each signs in once without the app, and they are not shown again.</p>
<ul id="recovery-codes"></ul><button id="continue">Continue</button></div>
<p id="error"></p><script type="module">${loginScript}</script>`);
    case "/dashboard":
      return page("Dashboard", `<h1>Dashboard</h1><p>Signed in as <span id="subject">${escape(h.get("x-edgeauth-subject"))}</span>,
session <span id="session">${escape(h.get("x-edgeauth-session"))}</span>, token expires at <span id="expires">${escape(h.get("x-edgeauth-expires-at"))}</span>.</p>
<button id="signout">Sign out</button><script type="module">${signOutScript}</script>`);
    case "/vault":
      return page("Vault", `<h1>Vault</h1><p>Signed in as <span id="subject">${escape(h.get("x-edgeauth-subject"))}</span>
with a second factor: <span id="second-factor">${escape(h.get("x-edgeauth-second-factor"))}</span>.</p>`);
    case "/api/me":
      return Response.json({ sub: h.get("x-edgeauth-subject"), sid: h.get("x-edgeauth-session"), roles: h.get("x-edgeauth-roles") });
    default:
      return new Response("not found\n", { status: 404 });
  }
}

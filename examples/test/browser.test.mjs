// End to end in Debian's chromium (playwright-core, never a downloaded browser): the
// Next.js app with proxy.ts and with middleware.ts, and the workerd example, each in
// front of its own real control plane with one-minute access tokens. Every wait is on
// a condition; the one long wait (past the tokens' lifetime plus leeway) is shared by
// all sites.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { readFile } from "node:fs/promises";
import { startEdge, buildNext, examples } from "./edges.mjs";
import { waitFor, startControlPlane, freePort } from "./controlplane.mjs";
import { makeCertificate, chromiumArgs, serveTLS, proxyTo } from "./tls.mjs";
import { totpCode } from "./totp.mjs";

const EMAIL = "grace@example.com";
const PASSWORD = "correct horse battery staple";
// The account that turns a second factor on (each site's control plane has its own).
const MFA_EMAIL = "ada@example.com";
// The account that must have a second factor and has none yet: every control plane
// here requires one of role ENROLL_ROLE (second_factor.required_for), which only this
// account has, so the others sign in as before.
const ENROLL_EMAIL = "lin@example.com";
const ENROLL_ROLE = "admin";
const CHROMIUM = process.env.EDGEAUTH_CHROMIUM ?? "/usr/bin/chromium";

// workerd gets a refresh cookie with Path=/ so it reaches the edge, which then
// refreshes without a browser round trip; the Next apps keep the default Path=/auth
// and go through the redirect form.
const SITES = [
  { kind: "next-proxy", cpEnv: {} },
  { kind: "next-middleware", cpEnv: {} },
  { kind: "workerd", cpEnv: { EDGEAUTH_COOKIES__REFRESH_PATH: "/" }, refreshAtEdge: true },
];
const COMMON_ENV = {
  EDGEAUTH_SESSIONS__ACCESS_TTL: "1m",
  EDGEAUTH_REVOCATIONS__MAX_AGE: "1s",
  EDGEAUTH_SECOND_FACTOR__REQUIRED_FOR: ENROLL_ROLE,
};

let browser;
const sites = [];
// The cross-subdomain app: examples/spa on https://app.example.test:<port>, the
// control plane behind TLS on https://api.example.test:<port>, cookies for Domain
// example.test (so __Secure- names), CORS for the app's origin.
const spa = {};

before(async () => {
  await buildNext("proxy");
  await buildNext("middleware");
  for (const s of SITES) {
    const e = await startEdge(s.kind, { cpEnv: { ...COMMON_ENV, ...s.cpEnv } });
    await e.cp.createUser(EMAIL, PASSWORD);
    await e.cp.createUser(MFA_EMAIL, PASSWORD);
    await e.cp.createUser(ENROLL_EMAIL, PASSWORD, [ENROLL_ROLE]);
    const ec = await (await fetch(`${e.cp.url}/.well-known/edgeauth/edge-config`)).json();
    sites.push({ ...s, e, leeway: ec.leeway_seconds });
  }
  const tls = await makeCertificate();
  const [appPort, apiPort] = [await freePort(), await freePort()];
  spa.app = `https://app.example.test:${appPort}`;
  spa.api = `https://api.example.test:${apiPort}`;
  spa.cp = await startControlPlane({
    publicURL: spa.api,
    env: { ...COMMON_ENV, EDGEAUTH_COOKIES__DOMAIN: "example.test", EDGEAUTH_ALLOWED_ORIGINS: spa.app },
  });
  await spa.cp.createUser(EMAIL, PASSWORD);
  await spa.cp.createUser(MFA_EMAIL, PASSWORD);
  await spa.cp.createUser(ENROLL_EMAIL, PASSWORD, [ENROLL_ROLE]);
  spa.apiServer = await serveTLS(tls, apiPort, proxyTo(spa.cp.url));
  // Served as a deployment writes it: with its own control plane's origin.
  const html = (await readFile(`${examples}spa/index.html`, "utf8"))
    .replace('name="edgeauth-control-plane" content="https://auth.example.com"', `name="edgeauth-control-plane" content="${spa.api}"`);
  assert.ok(html.includes(spa.api));
  const files = {
    "/": ["text/html", html, "no-store"],
    // The same app as a static host serves it (no no-store): chromium keeps such a page
    // in its back/forward cache.
    "/cached": ["text/html", html],
    "/edgeauth-browser.mjs": ["text/javascript", await readFile(`${examples}node_modules/@edgeauth/edge/src/browser.mjs`), "no-store"],
  };
  spa.appServer = await serveTLS(tls, appPort, (req, res) => {
    const f = files[new URL(req.url, spa.app).pathname];
    if (!f) return res.writeHead(404).end();
    res.writeHead(200, { "content-type": f[0], ...(f[2] && { "cache-control": f[2] }) }).end(f[1]);
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", ...chromiumArgs(tls.spki)],
    // Playwright turns the back/forward cache off; a user's chromium has it on.
    ignoreDefaultArgs: ["--disable-back-forward-cache"],
  });
});

after(async () => {
  await browser?.close();
  for (const s of sites) await s.e.stop();
  await spa.appServer?.close();
  await spa.apiServer?.close();
  await spa.cp?.stop();
});

const each = (fn) => Promise.all(sites.map(async (s) => {
  try {
    return await fn(s);
  } catch (err) {
    err.message = `${s.kind}: ${err.message}\n--- ${s.kind} logs ---\n${s.e.logs.join("").slice(-4000)}`;
    throw err;
  }
}));

// signIn fills the login page the edge sent the browser to and waits for the page
// the login page goes on to.
async function signIn(page, email = EMAIL) {
  await page.fill('input[name="email"]', email);
  await page.fill('input[name="password"]', PASSWORD);
  await page.click('button[type="submit"]');
}

async function identity(page) {
  await page.waitForSelector("#session");
  return {
    subject: await page.textContent("#subject"),
    session: await page.textContent("#session"),
    expires: Date.parse(await page.textContent("#expires")) / 1000, // RFC 3339 (X-Edgeauth-Expires-At)
  };
}

test("sign in: the protected page sends the browser to login and back", async () => {
  await each(async (s) => {
    s.context = await browser.newContext();
    s.page = await s.context.newPage();
    await s.page.goto(`${s.e.origin}/dashboard`);
    assert.equal(s.page.url(), `${s.e.origin}/login?return_to=%2Fdashboard`);
    await signIn(s.page);
    await s.page.waitForURL(`${s.e.origin}/dashboard`);
    s.id = await identity(s.page);
    assert.match(s.id.subject, /^[0-9a-f-]{36}$/);
    // A second tab of the same browser is in the same session.
    s.page2 = await s.context.newPage();
    await s.page2.goto(`${s.e.origin}/dashboard`);
    assert.equal((await identity(s.page2)).session, s.id.session);
  });
});

test("return_to naming another site is kept on ours", async () => {
  await each(async (s) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${s.e.origin}/login?return_to=${encodeURIComponent("https://evil.example/steal")}`);
    await signIn(page);
    await page.waitForURL(`${s.e.origin}/dashboard`);
    // Signed in, the login page itself sends the browser on: to our site only.
    await page.goto(`${s.e.origin}/login?return_to=${encodeURIComponent("//evil.example/x")}`);
    assert.equal(new URL(page.url()).origin, s.e.origin);
    await context.close();
  });
});

// The URL parser drops tabs and newlines and reads "\\" as "/": these are "//evil.example"
// to location.assign, though none starts with "//" as written.
test("return_to that the browser reads as another site (a tab, a newline) is kept on ours", async () => {
  await each(async (s) => {
    for (const back of ["/\t/evil.example/steal", "/\n\\evil.example/steal"]) {
      const context = await browser.newContext();
      await context.route(/^https?:\/\/evil\.example\//, (route) => route.fulfill({ body: "evil" }));
      const page = await context.newPage();
      await page.goto(`${s.e.origin}/login?return_to=${encodeURIComponent(back)}`);
      await signIn(page);
      await page.waitForURL((u) => u.pathname !== "/login");
      assert.equal(new URL(page.url()).origin, s.e.origin, `return_to ${JSON.stringify(back)} went to ${page.url()}`);
      await context.close();
    }
  });
});

test("too many failed sign-ins: the login page says to wait, and how long (429, Retry-After)", async () => {
  await each(async (s) => {
    const email = "kai@example.com";
    await s.e.cp.createUser(email, PASSWORD);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${s.e.origin}/login`);
    // Wrong passwords until the account's budget from this address is spent.
    let status;
    for (let i = 0; i < 10 && status !== 429; i++) {
      status = (await postJSON(page, "/auth/login", { email, password: "not the password" })).status;
    }
    assert.equal(status, 429);
    await signIn(page, email);
    await page.waitForFunction(() => document.querySelector("#error").textContent !== "");
    assert.match(await page.textContent("#error"), /too many attempts.*try again in \d+ minutes?/i);
    await context.close();
  });
});

test("sign out, then the old cookie replayed is refused and cleared", async () => {
  await each(async (s) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${s.e.origin}/dashboard`);
    await signIn(page);
    await page.waitForURL(`${s.e.origin}/dashboard`);
    const old = (await context.cookies()).filter((c) => c.name === "edgeauth_at");
    assert.equal(old.length, 1);
    await page.click("#signout");
    await page.waitForURL(`${s.e.origin}/login`);
    assert.deepEqual((await context.cookies()).filter((c) => c.name.startsWith("edgeauth_")), []);
    await context.close();

    // Someone kept the access cookie (still unexpired): once the revocation list
    // names the session, the edge refuses it, sends the browser to login and clears it.
    const replay = await browser.newContext();
    await replay.addCookies(old);
    const p = await replay.newPage();
    await waitFor("the edge to refuse the replayed cookie", async () => {
      await p.goto(`${s.e.origin}/dashboard`);
      return new URL(p.url()).pathname === "/login";
    }, { timeoutMs: 30_000, everyMs: 500 });
    assert.deepEqual((await replay.cookies()).filter((c) => c.name === "edgeauth_at"), []);
    await replay.close();
  });
});

// postJSON posts body (none when undefined) to path from the page (same origin, through
// the edge), as the app's own scripts would, and returns the status and the JSON answer.
const postJSON = (page, path, body) => page.evaluate(async ([path, body]) => {
  const res = await fetch(path, body === undefined ? { method: "POST" } :
    { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json().catch(() => null) };
}, [path, body]);

test("a second factor: the vault refuses a password-only session, opens once the factor is confirmed in it, and a new sign-in asks for the code", async () => {
  await each(async (s) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${s.e.origin}/vault`);
    assert.equal(page.url(), `${s.e.origin}/login?return_to=%2Fvault`);
    await signIn(page, MFA_EMAIL);
    await page.waitForURL(`${s.e.origin}/vault`);
    // Signed in with the password alone: the edge's rule for /vault/ has mfa.
    assert.equal((await page.goto(`${s.e.origin}/vault`)).status(), 403);

    // Turned on from this session (the password, then a first code): the confirmation
    // proves the factor here, and the next refresh's access token says so.
    const setup = await postJSON(page, "/auth/mfa/totp", { password: PASSWORD });
    assert.equal(setup.status, 200, JSON.stringify(setup.body));
    const confirmed = await postJSON(page, "/auth/mfa/totp/confirm", { code: totpCode(setup.body.secret) });
    assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
    assert.equal((await postJSON(page, "/auth/refresh")).status, 200);
    const opened = await page.goto(`${s.e.origin}/vault`);
    assert.equal(opened.status(), 200);
    assert.equal(await page.textContent("#second-factor"), "true");
    await context.close();

    // Another browser: the password alone is not enough to sign in any more; the login
    // page asks for the code (the next step's: each step's code signs in once).
    const other = await browser.newContext();
    const p = await other.newPage();
    await p.goto(`${s.e.origin}/vault`);
    await signIn(p, MFA_EMAIL);
    await p.waitForSelector('input[name="code"]:not([hidden])');
    assert.equal(new URL(p.url()).pathname, "/login");
    await p.fill('input[name="code"]', totpCode(setup.body.secret, Date.now() + 30_000));
    await p.click('button[type="submit"]');
    await p.waitForURL(`${s.e.origin}/vault`);
    assert.equal(await p.textContent("#second-factor"), "true");
    await other.close();
  });
});

// enrollmentSecret waits for the login page's enrollment step and returns the secret
// it shows (checking the otpauth URI beside it).
async function enrollmentSecret(page) {
  const secret = await (await page.waitForSelector("#secret:visible")).textContent();
  assert.match(secret, /^[A-Z2-7]{16,}=*$/);
  const uri = new URL(await page.textContent("#uri"));
  assert.equal(uri.protocol, "otpauth:");
  assert.equal(uri.searchParams.get("secret"), secret);
  return secret;
}

// wrongCode returns a code that no step near now has (the control plane accepts the
// steps either side of its own).
function wrongCode(secret) {
  const near = [-30_000, 0, 30_000].map((d) => totpCode(secret, Date.now() + d));
  for (let n = 0; ; n++) if (!near.includes(String(n).padStart(6, "0"))) return String(n).padStart(6, "0");
}

// recoveryCodes waits for the ten recovery codes the page shows once enrolled.
async function recoveryCodes(page) {
  await page.waitForSelector("#recovery-codes li:nth-child(10)");
  const codes = await page.$$eval("#recovery-codes li", (items) => items.map((li) => li.textContent));
  assert.equal(codes.length, 10);
  assert.equal(new Set(codes).size, 10, "distinct recovery codes");
  return codes;
}

test("a second factor required by policy: the login page enrolls the account (secret, code, recovery codes) and goes on to the vault", async () => {
  await each(async (s) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${s.e.origin}/vault`);
    assert.equal(page.url(), `${s.e.origin}/login?return_to=%2Fvault`);
    await signIn(page, ENROLL_EMAIL);
    // The password alone: no session, the enrollment step instead.
    const secret = await enrollmentSecret(page);
    assert.equal(new URL(page.url()).pathname, "/login");
    assert.deepEqual((await context.cookies()).filter((c) => c.name.startsWith("edgeauth_")), []);

    // A wrong code: the page says so and stays at the step; then the right one.
    await page.fill('input[name="code"]', wrongCode(secret));
    await page.click('button[type="submit"]');
    await page.waitForFunction(() => /wrong code/i.test(document.querySelector("#error").textContent));
    assert.equal(await page.textContent("#secret"), secret);
    await page.fill('input[name="code"]', totpCode(secret));
    await page.click('button[type="submit"]');
    await recoveryCodes(page);
    assert.equal(new URL(page.url()).pathname, "/login", "the codes are shown before the page goes on");
    await page.click("#continue");
    await page.waitForURL(`${s.e.origin}/vault`);
    assert.equal(await page.textContent("#second-factor"), "true");
    assert.equal((await page.goto(`${s.e.origin}/vault`)).status(), 200);
    await page.goto(`${s.e.origin}/dashboard`);
    assert.match((await identity(page)).subject, /^[0-9a-f-]{36}$/);
    await context.close();

    // Enrolled: another browser's sign-in asks for the code (the next step's: each
    // step's code signs in once), as for any account with a second factor.
    const other = await browser.newContext();
    const p = await other.newPage();
    await p.goto(`${s.e.origin}/vault`);
    await signIn(p, ENROLL_EMAIL);
    await p.waitForSelector('input[name="code"]:not([hidden])');
    assert.equal(await p.isVisible("#secret"), false, "no enrollment once enrolled");
    await p.fill('input[name="code"]', totpCode(secret, Date.now() + 30_000));
    await p.click('button[type="submit"]');
    await p.waitForURL(`${s.e.origin}/vault`);
    assert.equal(await p.textContent("#second-factor"), "true");
    await other.close();
  });
});

test("a second factor: a wrong code at sign-in is called a wrong code (401 mfa_invalid), and the right one signs in", async () => {
  await each(async (s) => {
    const email = "noor@example.com";
    await s.e.cp.createUser(email, PASSWORD);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${s.e.origin}/dashboard`);
    await signIn(page, email);
    await page.waitForURL(`${s.e.origin}/dashboard`);
    const setup = await postJSON(page, "/auth/mfa/totp", { password: PASSWORD });
    assert.equal(setup.status, 200, JSON.stringify(setup.body));
    assert.equal((await postJSON(page, "/auth/mfa/totp/confirm", { code: totpCode(setup.body.secret) })).status, 200);
    await context.close();

    const other = await browser.newContext();
    const p = await other.newPage();
    await p.goto(`${s.e.origin}/dashboard`);
    await signIn(p, email);
    await p.waitForSelector('input[name="code"]:not([hidden])');
    await p.fill('input[name="code"]', wrongCode(setup.body.secret));
    await p.click('button[type="submit"]');
    await p.waitForFunction(() => !/enter the code of/i.test(document.querySelector("#error").textContent));
    assert.match(await p.textContent("#error"), /wrong code/i);
    await p.fill('input[name="code"]', totpCode(setup.body.secret, Date.now() + 30_000));
    await p.click('button[type="submit"]');
    await p.waitForURL(`${s.e.origin}/dashboard`);
    await other.close();
  });
});

test("a second factor required by policy: at the code step of one account, another that has none yet is enrolled", async () => {
  await each(async (s) => {
    // One account already enrolled (from its own browser), one not yet: both of the role.
    const [enrolled, fresh] = ["ravi@example.com", "sana@example.com"];
    for (const email of [enrolled, fresh]) await s.e.cp.createUser(email, PASSWORD, [ENROLL_ROLE]);
    const setupContext = await browser.newContext();
    const setupPage = await setupContext.newPage();
    await setupPage.goto(`${s.e.origin}/`);
    const setup = await postJSON(setupPage, "/auth/mfa/enroll", { email: enrolled, password: PASSWORD });
    assert.equal(setup.status, 200, JSON.stringify(setup.body));
    assert.equal((await postJSON(setupPage, "/auth/mfa/enroll/confirm", { email: enrolled, password: PASSWORD, code: totpCode(setup.body.secret) })).status, 200);
    await setupContext.close();

    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${s.e.origin}/vault`);
    await signIn(page, enrolled);
    await page.waitForSelector('input[name="code"]:not([hidden])');
    // The user meant the other account: its password alone, then its enrollment.
    await signIn(page, fresh);
    const secret = await enrollmentSecret(page);
    await page.fill('input[name="code"]', totpCode(secret));
    await page.click('button[type="submit"]');
    await recoveryCodes(page);
    await context.close();
  });
});

// enrollInTwoPages starts the enrollment of a new account (one that must have a second
// factor) in two pages of two browsers and confirms it in the second, which replaced
// the first's pending secret; the first page is left at its enrollment step. fill
// fills a page's login form. Returns the factor's secret.
async function enrollInTwoPages(open, fill, email) {
  const [first, second] = [await open(), await open()];
  await fill(first, email);
  await enrollmentSecret(first);
  await fill(second, email);
  const secret = await enrollmentSecret(second);
  await second.fill('input[name="code"]', totpCode(secret));
  await second.click("form button");
  await recoveryCodes(second);
  return { first, secret };
}

test("a second factor required by policy, confirmed in another browser meanwhile: the page at its enrollment step signs in with the factor's code", async () => {
  await each(async (s) => {
    const email = "mei@example.com";
    await s.e.cp.createUser(email, PASSWORD, [ENROLL_ROLE]);
    const contexts = [];
    const open = async () => {
      const context = await browser.newContext();
      contexts.push(context);
      const page = await context.newPage();
      await page.goto(`${s.e.origin}/vault`);
      return page;
    };
    const { first, secret } = await enrollInTwoPages(open, signIn, email);
    // The user types the code the authenticator app shows (the factor now on).
    await first.fill('input[name="code"]', totpCode(secret, Date.now() + 30_000));
    await first.click('button[type="submit"]');
    // 409 mfa_enabled: the page leaves its enrollment step for the code step.
    await first.waitForFunction(() => /has a second factor now/i.test(document.querySelector("#error").textContent), null, { timeout: 5_000 });
    assert.equal(await first.isVisible("#secret"), false, "no enrollment once enrolled");
    await first.fill('input[name="code"]', totpCode(secret, Date.now() + 30_000));
    await first.click('button[type="submit"]');
    await first.waitForURL(`${s.e.origin}/vault`);
    assert.equal(await first.textContent("#second-factor"), "true");
    for (const c of contexts) await c.close();
  });
});

test("the control plane unreachable (502) or unavailable (503): the login page and its enrollment step say so and to try again", async () => {
  // Sites of their own: their control planes are stopped. The page said "Sign-in failed",
  // as to a wrong password, and the user tried other passwords.
  const unavailable = /unavailable.*try again/i;
  await Promise.all(["next-proxy", "workerd"].map(async (kind) => {
    const e = await startEdge(kind, { cpEnv: COMMON_ENV });
    const context = await browser.newContext();
    try {
      await e.cp.createUser(ENROLL_EMAIL, PASSWORD, [ENROLL_ROLE]);
      const login = await context.newPage();
      await login.goto(`${e.origin}/login`);
      const enrolling = await context.newPage();
      await enrolling.goto(`${e.origin}/login`);
      await signIn(enrolling, ENROLL_EMAIL);
      await enrollmentSecret(enrolling);
      // 503 unavailable, as the control plane answers while its database is unreachable.
      const busy = await context.newPage();
      await busy.route((u) => u.pathname === "/auth/login", (r) => r.fulfill({
        status: 503,
        headers: { "retry-after": "5", "cache-control": "no-store" },
        contentType: "application/json",
        body: JSON.stringify({ error: { code: "unavailable", message: "temporarily unavailable; retry shortly" } }),
      }));
      await busy.goto(`${e.origin}/login`);
      await signIn(busy);
      await busy.waitForFunction(() => document.querySelector("#error").textContent !== "");
      assert.match(await busy.textContent("#error"), unavailable, "503");
      // The control plane gone: the edge cannot reach it.
      await e.cp.stop();
      await signIn(login);
      await login.waitForFunction(() => document.querySelector("#error").textContent !== "");
      assert.match(await login.textContent("#error"), unavailable, "502 at sign-in");
      await enrolling.fill('input[name="code"]', "123456");
      await enrolling.click('button[type="submit"]');
      await enrolling.waitForFunction(() => !/second factor/.test(document.querySelector("#error").textContent));
      assert.match(await enrolling.textContent("#error"), unavailable, "502 at the enrollment step");
      assert.equal(await enrolling.isVisible("#secret"), true, "still at the step: the code can be sent again");
    } catch (err) {
      err.message = `${kind}: ${err.message}\n--- ${kind} logs ---\n${e.logs.join("").slice(-4000)}`;
      throw err;
    } finally {
      await context.close();
      await e.stop();
    }
  }));
});

test("the site unreachable (the request fails: the edge is down, the network gone): the login page says the service is unavailable, not nothing", async () => {
  // fetch rejected, the submit handler with it, and the page showed nothing: the button
  // seemed to do nothing at all.
  await Promise.all(["next-proxy", "workerd"].map(async (kind) => {
    const e = await startEdge(kind, { cpEnv: COMMON_ENV });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${e.origin}/login`);
      await e.stop();
      await signIn(page);
      await page.waitForFunction(() => document.querySelector("#error").textContent !== "", null, { timeout: 10_000 });
      assert.match(await page.textContent("#error"), /unavailable.*try again/i, kind);
    } finally {
      await context.close();
      await e.stop();
    }
  }));
});

// A control plane's enrollment answer whose uri is not an otpauth://totp/ URI, as a
// compromised or misconfigured one could send: the page shows the secret, and no link.
const badURIs = ["javascript:alert(document.domain)", "https://evil.example/otpauth://totp/x", "otpauth://hotp/Example:lin?secret=JBSWY3DPEHPK3PXP&counter=0"];
async function enrollWithURI(page, uri) {
  await page.route((u) => u.pathname === "/auth/mfa/enroll", (r) => r.fulfill({
    status: 200,
    // The SPA's control plane is another origin: CORS with credentials, as it answers.
    headers: { "access-control-allow-origin": spa.app, "access-control-allow-credentials": "true", "cache-control": "no-store" },
    contentType: "application/json",
    body: JSON.stringify({ secret: "JBSWY3DPEHPK3PXP", uri }),
  }));
}
async function assertNoLink(page, uri) {
  await page.waitForSelector("#secret:visible");
  assert.equal(await page.textContent("#secret"), "JBSWY3DPEHPK3PXP", uri);
  const hrefs = await page.$$eval("a[href]", (as) => as.map((a) => a.getAttribute("href")));
  assert.ok(!hrefs.some((h) => h.includes(uri) || /^\s*(javascript|data):/i.test(h)), `${uri}: links ${JSON.stringify(hrefs)}`);
  assert.ok(!((await page.textContent("body")) ?? "").includes(uri), `${uri}: shown as the key's link`);
}

test("second-factor enrollment: a uri that is not otpauth://totp/ never becomes a link (javascript:, another scheme or type)", async () => {
  await each(async (s) => {
    // An account of its own: the enrollment tests enroll ENROLL_EMAIL. No secret is
    // confirmed here (the enrollment is the page's route), so it stays unenrolled.
    const email = "uri@example.com";
    await s.e.cp.createUser(email, PASSWORD, [ENROLL_ROLE]);
    for (const uri of badURIs) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await enrollWithURI(page, uri);
      await page.goto(`${s.e.origin}/login`);
      await signIn(page, email);
      await assertNoLink(page, uri);
      await context.close();
    }
  });
});

test("cross-subdomain SPA: an enrollment uri that is not otpauth://totp/ never becomes a link", async () => {
  const email = "uri@example.com";
  await spa.cp.createUser(email, PASSWORD, [ENROLL_ROLE]);
  for (const uri of badURIs) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await enrollWithURI(page, uri);
    await page.goto(`${spa.app}/`);
    await page.waitForFunction(() => window.ready === true);
    await page.fill('#login input[name="email"]', email);
    await page.fill('#login input[name="password"]', PASSWORD);
    await page.click("#login button");
    await assertNoLink(page, uri);
    await context.close();
  }
});

test("cross-subdomain SPA over TLS: sign in with credentials (CORS), __Secure- Domain cookies, two tabs", async () => {
  spa.context = await browser.newContext();
  spa.tabs = [await spa.context.newPage(), await spa.context.newPage()];
  for (const tab of spa.tabs) {
    await tab.goto(`${spa.app}/`);
    await tab.waitForFunction(() => window.ready === true);
  }
  const login = await spa.tabs[0].evaluate(([e, p]) => window.signIn(e, p), [EMAIL, PASSWORD]);
  assert.equal(login.status, 200, JSON.stringify(login.body));
  spa.expires = login.body.access_expires_at;
  const cookies = await spa.context.cookies();
  for (const name of ["__Secure-edgeauth_at", "__Secure-edgeauth_rt"]) {
    const c = cookies.find((x) => x.name === name);
    assert.ok(c, `${name} set: ${cookies.map((x) => x.name)}`);
    assert.equal(c.domain, ".example.test");
    assert.equal(c.secure, true);
    assert.equal(c.httpOnly, true);
  }
  const [a, b] = await Promise.all(spa.tabs.map((t) => t.evaluate(() => window.me())));
  assert.equal(a.status, 200);
  assert.equal(b.status, 200);
  assert.equal(a.body.session_id, login.body.session_id);
  assert.equal(b.body.session_id, login.body.session_id);
  spa.session = login.body.session_id;
});

// The SPA posts the password to its control plane: a link to the app that names another
// origin (?api=, once a test hook) must not choose where it goes, nor what the page shows.
test("cross-subdomain SPA: a link cannot choose where the form sends the password", async () => {
  const context = await browser.newContext();
  const evil = "https://evil.example.test";
  const seen = [];
  await context.route((u) => u.origin === evil, (route) => {
    seen.push(`${route.request().method()} ${route.request().url()}`);
    return route.fulfill({
      status: 200, contentType: "application/json", body: "{}",
      headers: { "access-control-allow-origin": spa.app, "access-control-allow-credentials": "true", "access-control-allow-headers": "content-type" },
    });
  });
  const page = await context.newPage();
  await page.goto(`${spa.app}/?api=${encodeURIComponent(evil)}`);
  await page.waitForFunction(() => window.ready === true);
  await page.fill('#login input[name="email"]', EMAIL);
  await page.fill('#login input[name="password"]', PASSWORD);
  await page.click("#login button");
  await page.waitForFunction(() => (document.querySelector("#me").textContent ?? "") !== "");
  assert.deepEqual(seen, []);
  assert.equal((await page.evaluate(() => window.me())).status, 200, "signed in with the app's own control plane");
  await context.close();
});

test("past the access token's lifetime, two tabs reloading at once stay in the same session", async () => {
  // The control plane tolerates the same leeway the edges read from its edge configuration.
  const deadline = Math.max(...sites.map((s) => s.id.expires + s.leeway), spa.expires + sites[0].leeway) + 1;
  await waitFor("every site's access token to expire (lifetime plus leeway)", () => Date.now() / 1000 > deadline,
    { timeoutMs: 4 * 60_000, everyMs: 1000 });
  await each(async (s) => {
    const refreshes = [];
    s.context.on("request", (r) => {
      if (new URL(r.url()).pathname === "/auth/refresh") refreshes.push(r.url());
    });
    await Promise.all([s.page.reload(), s.page2.reload()]);
    for (const page of [s.page, s.page2]) {
      assert.equal(page.url(), `${s.e.origin}/dashboard`);
      const id = await identity(page);
      assert.equal(id.session, s.id.session, "same session, nobody logged out");
      assert.ok(id.expires > s.id.expires, "a new access token");
    }
    if (s.refreshAtEdge) assert.deepEqual(refreshes, [], "refreshed at the edge, no browser round trip");
    else assert.ok(refreshes.length >= 1, "refreshed through the control plane's redirect");
  });
});

test("cross-subdomain SPA: the 401 of both tabs leads to one refresh, a retry, the same session", async () => {
  const refreshes = [];
  spa.context.on("request", (r) => {
    if (r.method() === "POST" && r.url() === `${spa.api}/auth/refresh`) refreshes.push(r.url());
  });
  const [a, b] = await Promise.all(spa.tabs.map((t) => t.evaluate(() => window.me())));
  assert.equal(a.status, 200, JSON.stringify(a.body));
  assert.equal(b.status, 200, JSON.stringify(b.body));
  assert.equal(a.body.session_id, spa.session);
  assert.equal(b.body.session_id, spa.session);
  assert.equal(refreshes.length, 1, "one refresh for both tabs (Web Locks)");

  // Signed out elsewhere: the next 401's refresh is refused, and only then the app is
  // sent to login, once.
  assert.equal(await spa.tabs[0].evaluate(() => window.signOut()), 204);
  const after = await spa.tabs[1].evaluate(async () => {
    const r = await Promise.all([window.me(), window.me()]);
    return { statuses: r.map((x) => x.status), ended: window.sessionEnded };
  });
  assert.deepEqual(after, { statuses: [401, 401], ended: 1 });
});

test("cross-subdomain SPA: a tab told its session ended, signed in again in the other tab, refreshes its next 401", async () => {
  // Tab 1 was told (above) and stays: the app shows its own sign-in (onSessionEnded).
  // The user signs in in tab 0; tab 1's first call comes after the new access token
  // expired (removed here: the same 401 without waiting for its minute and leeway).
  const login = await spa.tabs[0].evaluate(([e, p]) => window.signIn(e, p), [EMAIL, PASSWORD]);
  assert.equal(login.status, 200);
  await spa.context.clearCookies({ name: "__Secure-edgeauth_at" });
  const me = await spa.tabs[1].evaluate(async () => ({ me: await window.me(), ended: window.sessionEnded }));
  assert.equal(me.me.status, 200, `the new session's token is refreshed: ${JSON.stringify(me.me.body)}`);
  assert.equal(me.me.body.session_id, login.body.session_id);
  assert.equal(me.ended, 1, "not told again");

  // That session ends too: tab 1 is told of this ending.
  assert.equal(await spa.tabs[0].evaluate(() => window.signOut()), 204);
  const after = await spa.tabs[1].evaluate(async () => ({ status: (await window.me()).status, ended: window.sessionEnded }));
  assert.deepEqual(after, { status: 401, ended: 2 });
});

test("SPA restored from the back/forward cache after its session ended: signed in again since, its next 401 refreshes", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const refreshes = [];
  context.on("request", (r) => {
    if (r.method() === "POST" && r.url() === `${spa.api}/auth/refresh`) refreshes.push(r.url());
  });
  await page.goto(`${spa.app}/cached`);
  await page.waitForFunction(() => window.ready === true);
  await page.evaluate(() => addEventListener("pageshow", (e) => { window.restored = e.persisted; }));
  assert.equal((await page.evaluate(([e, p]) => window.signIn(e, p), [EMAIL, PASSWORD])).status, 200);
  // Signed out: the refresh of the next 401 is refused and the app told, once.
  assert.equal(await page.evaluate(() => window.signOut()), 204);
  assert.deepEqual(await page.evaluate(async () => ({ status: (await window.me()).status, ended: window.sessionEnded })), { status: 401, ended: 1 });
  assert.equal(refreshes.length, 1);

  // The tab goes on to sign in again (the app's other page), and its new access token
  // expires (removed here: the same 401 without waiting for its minute and leeway).
  await page.goto(`${spa.app}/`);
  await page.waitForFunction(() => window.ready === true);
  assert.equal((await page.evaluate(([e, p]) => window.signIn(e, p), [EMAIL, PASSWORD])).status, 200);
  await context.clearCookies({ name: "__Secure-edgeauth_at" });

  // Back: chromium restores the first page as it was left, session ended included.
  await page.goBack({ waitUntil: "commit" });
  await page.waitForFunction(() => window.ready === true);
  assert.equal(await page.evaluate(() => window.restored), true, "restored from the back/forward cache");
  const me = await page.evaluate(() => window.me());
  assert.equal(me.status, 200, `the new session's token is refreshed: ${JSON.stringify(me.body)}`);
  assert.equal(refreshes.length, 2);
  assert.equal(await page.evaluate(() => window.sessionEnded), 1, "not told again");
  await context.close();
});

test("cross-subdomain SPA: an account with a second factor signs in with its code (CORS with credentials)", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${spa.app}/`);
  await page.waitForFunction(() => window.ready === true);
  assert.equal((await page.evaluate(([e, p]) => window.signIn(e, p), [MFA_EMAIL, PASSWORD])).status, 200);
  // Turned on from the app's origin, as the app's settings page would.
  const post = (path, body) => page.evaluate(async ([url, body]) => {
    const res = await fetch(url, { method: "POST", credentials: "include", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  }, [`${spa.api}${path}`, body]);
  const setup = await post("/auth/mfa/totp", { password: PASSWORD });
  assert.equal(setup.status, 200, JSON.stringify(setup.body));
  assert.equal((await post("/auth/mfa/totp/confirm", { code: totpCode(setup.body.secret) })).status, 200);
  assert.equal(await page.evaluate(() => window.signOut()), 204);

  // The form: the password alone shows the code field; with the code, signed in.
  await page.fill('#login input[name="email"]', MFA_EMAIL);
  await page.fill('#login input[name="password"]', PASSWORD);
  await page.click("#login button");
  await page.waitForSelector('#login input[name="code"]:not([hidden])');
  await page.fill('#login input[name="code"]', totpCode(setup.body.secret, Date.now() + 30_000));
  await page.click("#login button");
  await page.waitForFunction(() => (document.querySelector("#me").textContent ?? "").includes('"mfa"'));
  const me = JSON.parse(await page.textContent("#me"));
  assert.deepEqual(me.amr, ["pwd", "otp", "mfa"]);
  await context.close();
});

test("cross-subdomain SPA: an account a second factor is required of enrolls from the form (CORS with credentials) and is signed in with it", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${spa.app}/`);
  await page.waitForFunction(() => window.ready === true);
  await page.fill('#login input[name="email"]', ENROLL_EMAIL);
  await page.fill('#login input[name="password"]', PASSWORD);
  await page.click("#login button");
  const secret = await enrollmentSecret(page);
  assert.deepEqual((await context.cookies()).filter((c) => c.name.includes("edgeauth_")), [], "no session before the code");

  await page.fill('#login input[name="code"]', totpCode(secret));
  await page.click("#login button");
  await recoveryCodes(page);
  await page.waitForFunction(() => (document.querySelector("#me").textContent ?? "").includes('"mfa"'));
  const me = JSON.parse(await page.textContent("#me"));
  assert.deepEqual(me.amr, ["pwd", "otp", "mfa"]);
  assert.equal((await page.evaluate(() => window.me())).status, 200);
  await context.close();
});

test("cross-subdomain SPA: an enrollment confirmed in another browser meanwhile leaves the form's enrollment step for the code", async () => {
  const email = "mei@example.com";
  await spa.cp.createUser(email, PASSWORD, [ENROLL_ROLE]);
  const contexts = [];
  const open = async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${spa.app}/`);
    await page.waitForFunction(() => window.ready === true);
    return page;
  };
  const fill = async (page, email) => {
    await page.fill('#login input[name="email"]', email);
    await page.fill('#login input[name="password"]', PASSWORD);
    await page.click("#login button");
  };
  const { first, secret } = await enrollInTwoPages(open, fill, email);
  await first.fill('#login input[name="code"]', totpCode(secret, Date.now() + 30_000));
  await first.click("#login button");
  await first.waitForSelector("#enroll", { state: "hidden", timeout: 5_000 });
  assert.equal(await first.isVisible('#login input[name="code"]'), true);
  await first.fill('#login input[name="code"]', totpCode(secret, Date.now() + 30_000));
  await first.click("#login button");
  await first.waitForFunction(() => (document.querySelector("#me").textContent ?? "").includes('"mfa"'));
  for (const c of contexts) await c.close();
});

test("cross-subdomain SPA: a refused sign-in shows the control plane's refusal, and no refresh is tried for it", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const refreshes = [];
  page.on("request", (r) => { if (new URL(r.url()).pathname === "/auth/refresh") refreshes.push(r.url()); });
  await page.goto(`${spa.app}/`);
  await page.waitForFunction(() => window.ready === true);
  await page.fill('#login input[name="email"]', EMAIL);
  await page.fill('#login input[name="password"]', "not the password");
  await page.click("#login button");
  await page.waitForFunction(() => (document.querySelector("#me").textContent ?? "") !== "");
  assert.equal(JSON.parse(await page.textContent("#me")).error?.code, "invalid_credentials");
  assert.deepEqual(refreshes, []);
  assert.equal(await page.evaluate(() => window.sessionEnded), undefined, "no session ended: there was none");
  await context.close();
});

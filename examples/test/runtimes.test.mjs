// Every example over HTTP, in front of the real control plane (Go binary, PostgreSQL):
// workerd, Deno, Vercel's edge-runtime (standalone), and the Next.js app built with proxy.ts (Node) and with middleware.ts
// (edge runtime, Vercel's edge-runtime sandbox inside `next start`).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startEdge } from "./edges.mjs";
import { waitFor } from "./controlplane.mjs";
import { totpCode } from "./totp.mjs";

const EMAIL = "ada@example.com";
const PASSWORD = "correct horse battery staple";
// The account that turns a second factor on.
const MFA_EMAIL = "grace@example.com";

// cookiesOf turns Set-Cookie headers into a name -> value map.
function cookiesOf(res) {
  const out = {};
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(";");
    const i = pair.indexOf("=");
    out[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return out;
}

// cookieAttr is one attribute of a Set-Cookie value.
function cookieAttr(setCookie, attr) {
  return new RegExp(`;\\s*${attr}=([^;]*)`, "i").exec(setCookie)?.[1]?.trim();
}

// cookiePath is the Path attribute of the Set-Cookie header that sets name.
function cookiePath(res, name) {
  return cookieAttr(res.headers.getSetCookie().find((s) => s.startsWith(`${name}=`)) ?? "", "Path");
}

// pageIdentity reads the subject and session the protected page was given.
async function pageIdentity(res) {
  const html = await res.text();
  return { subject: /id="subject">([^<]+)</.exec(html)?.[1], session: /id="session">([^<]+)</.exec(html)?.[1] };
}

// Revocation list max-age 1 s: a sign-out reaches a polling edge within a second or
// two. The Deno example holds the revocation stream instead; its control plane's list
// may be cached for 4 minutes, so only the stream can deliver a sign-out within the
// test's 30 s. workerd gets a refresh cookie on Path=/, as in browser.test.mjs: it
// reaches the pages, and the edge refreshes there without a browser round trip. The
// others keep the default Path=/auth and refresh through the control plane's redirect.
// The control planes of workerd, Deno, edge-runtime and Next's middleware sign RS256:
// their edges check those signatures with the runtime's WebCrypto (the two-phase path,
// verifier/ABI.md), except Deno's, where the module's RSA is the faster and the package
// keeps it; Next's proxy (Node) and browser.test.mjs keep the default EdDSA.
// EXAMPLES_NEXT_KINDS picks the Next builds (next-proxy, next-middleware,
// next-middleware-node: middleware.ts with runtime "nodejs"), say for another Next
// under EXAMPLES_NEXT_ROOT (edges.mjs).
const NEXT_KINDS = process.env.EXAMPLES_NEXT_KINDS?.split(",") ?? ["next-proxy", "next-middleware"];
const RS256 = { EDGEAUTH_KEYS__ALGORITHM: "RS256" };
const CP_ENV = {
  default: { EDGEAUTH_REVOCATIONS__MAX_AGE: "1s" },
  workerd: { EDGEAUTH_REVOCATIONS__MAX_AGE: "1s", EDGEAUTH_COOKIES__REFRESH_PATH: "/", ...RS256 },
  deno: { EDGEAUTH_REVOCATIONS__MAX_AGE: "4m", EDGEAUTH_REVOCATIONS__LIFETIME: "5m", ...RS256 },
  "edge-runtime": { EDGEAUTH_REVOCATIONS__MAX_AGE: "1s", ...RS256 },
  "next-middleware": { EDGEAUTH_REVOCATIONS__MAX_AGE: "1s", ...RS256 },
};

for (const kind of ["workerd", "deno", "edge-runtime", ...NEXT_KINDS]) {
  describe(kind, () => {
    let e;
    const get = (path, headers = {}) => fetch(`${e.origin}${path}`, { headers, redirect: "manual" });
    const signIn = async () => {
      const res = await fetch(`${e.origin}/auth/login`, {
        method: "POST",
        headers: { origin: e.origin, "content-type": "application/json" },
        body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
      });
      assert.equal(res.status, 200, await res.clone().text());
      return Object.defineProperty(cookiesOf(res), "refreshPath", { value: cookiePath(res, "edgeauth_rt") });
    };

    before(async () => {
      e = await startEdge(kind, { cpEnv: CP_ENV[kind] ?? CP_ENV.default });
      await e.cp.createUser(EMAIL, PASSWORD, ["member"]);
      await e.cp.createUser(MFA_EMAIL, PASSWORD);
    });
    after(() => e?.stop());

    // curl sends Expect: 100-continue with a large body, a streaming client sends it
    // chunked: where edge.fetch proxies (not Next, whose rewrite does), Node's fetch
    // refused these headers and edge-runtime answered 500.
    if (!kind.startsWith("next-")) {
      test("a sign-in sent chunked with Expect: 100-continue reaches the control plane", async () => {
        const { request } = await import("node:http");
        const body = JSON.stringify({ email: EMAIL, password: PASSWORD });
        const status = await new Promise((resolve, reject) => {
          const req = request(`${e.origin}/auth/login`, {
            method: "POST",
            headers: { origin: e.origin, "content-type": "application/json", expect: "100-continue", "transfer-encoding": "chunked" },
          }, (res) => {
            res.resume();
            resolve(res.statusCode);
          });
          let sent = false;
          const send = () => !sent && (sent = true) && req.end(body);
          req.on("continue", send).on("error", reject);
          setTimeout(send, 1000); // as curl does when no 100 comes
        });
        assert.equal(status, 200);
      });
    }

    test("without a session: the page redirects to login with return_to, the API answers 401 JSON", async () => {
      const page = await get("/dashboard?tab=2");
      assert.equal(page.status, 302);
      assert.equal(new URL(page.headers.get("location"), e.origin).href, `${e.origin}/login?return_to=%2Fdashboard%3Ftab%3D2`);
      const api = await get("/api/me");
      assert.equal(api.status, 401);
      assert.equal((await api.json()).error.code, "unauthenticated");
      assert.equal((await get("/")).status, 200, "public home");
    });

    test("signed in through the edge: page and API see our identity, never a client-sent one", async () => {
      const c = await signIn();
      assert.ok(c.edgeauth_at && c.edgeauth_rt, JSON.stringify(Object.keys(c)));
      const { alg } = JSON.parse(Buffer.from(c.edgeauth_at.split(".")[0], "base64url"));
      assert.equal(alg, (CP_ENV[kind] ?? CP_ENV.default).EDGEAUTH_KEYS__ALGORITHM ?? "EdDSA");
      const cookie = `edgeauth_at=${c.edgeauth_at}`;
      const page = await get("/dashboard", { cookie });
      assert.equal(page.status, 200);
      const html = await page.text();
      const subject = /id="subject">([^<]+)</.exec(html)?.[1];
      assert.match(subject ?? "", /^[0-9a-f-]{36}$/);
      const spoofed = await get("/api/me", {
        cookie, "x-edgeauth-subject": "admin", x_edgeauth_roles: "admin", "X-EDGEAUTH-SESSION": "forged",
      });
      assert.equal(spoofed.status, 200);
      const me = await spoofed.json();
      assert.equal(me.sub, subject);
      assert.equal(me.roles, "member");
      assert.notEqual(me.sid, "forged");
      // The login page sends a signed-in user on, to a same-site return_to only.
      const away = await get(`/login?return_to=${encodeURIComponent("https://evil.example/")}`, { cookie });
      assert.equal(new URL(away.headers.get("location"), e.origin).origin, e.origin);
    });

    // The examples' routes give /vault/ "mfa": true.
    test("a route that needs a second factor: 403 to a password-only session, forwarded to one signed in with a code", async () => {
      const post = (path, body, cookie) => fetch(`${e.origin}${path}`, {
        method: "POST", redirect: "manual", body: JSON.stringify(body),
        headers: { origin: e.origin, "content-type": "application/json", ...(cookie && { cookie }) },
      });
      let res = await post("/auth/login", { email: MFA_EMAIL, password: PASSWORD });
      assert.equal(res.status, 200, await res.clone().text());
      const weak = `edgeauth_at=${cookiesOf(res).edgeauth_at}`;
      res = await get("/vault", { cookie: weak });
      assert.equal(res.status, 403);
      assert.match(await res.text(), /second factor/);

      res = await post("/auth/mfa/totp", { password: PASSWORD }, weak);
      assert.equal(res.status, 200, await res.clone().text());
      const { secret } = await res.json();
      res = await post("/auth/mfa/totp/confirm", { code: totpCode(secret) }, weak);
      assert.equal(res.status, 200, await res.clone().text());
      // The next step's code: each step's code signs in once.
      res = await post("/auth/login", { email: MFA_EMAIL, password: PASSWORD, code: totpCode(secret, Date.now() + 30_000) });
      assert.equal(res.status, 200, await res.clone().text());
      const strong = `edgeauth_at=${cookiesOf(res).edgeauth_at}`;
      res = await get("/vault", { cookie: strong, "x-edgeauth-second-factor": "forged" });
      assert.equal(res.status, 200);
      assert.equal(/id="second-factor">([^<]+)</.exec(await res.text())?.[1], "true");
      // The token issued before the confirmation still says password only.
      assert.equal((await get("/vault", { cookie: weak })).status, 403);
    });

    test("signed out: the old access cookie is refused at the edge and cleared", async () => {
      const c = await signIn();
      const cookie = `edgeauth_at=${c.edgeauth_at}`;
      assert.equal((await get("/dashboard", { cookie })).status, 200);
      const out = await fetch(`${e.origin}/auth/logout`, { method: "POST", headers: { origin: e.origin, cookie: `${cookie}; edgeauth_rt=${c.edgeauth_rt}` } });
      assert.equal(out.status, 204);
      // The edge learns of it from the signed revocation list: polled (max-age 1 s), or
      // pushed on the revocation stream (Deno).
      const refused = await waitFor("the edge to refuse the revoked session", async () => {
        const r = await get("/dashboard", { cookie });
        return r.status !== 200 && r;
      }, { timeoutMs: 30_000 });
      assert.equal(new URL(refused.headers.get("location"), e.origin).pathname, "/login");
      const cleared = refused.headers.getSetCookie();
      assert.ok(cleared.some((s) => s.startsWith("edgeauth_at=;") && /Max-Age=0/.test(s) && /Path=\//.test(s)), cleared.join(" | "));
      assert.ok(cleared.some((s) => s.startsWith("edgeauth_rt=;") && cookieAttr(s, "Path") === c.refreshPath), cleared.join(" | "));
    });

    // A browser refreshes when its access token has expired. Waiting for that (the
    // lifetime plus the leeway) is browser.test.mjs's job; here the refresh starts
    // where a browser's does without waiting:
    // - refresh cookie on Path=/ (workerd): it reaches the page, and a page request
    //   carrying it without an access cookie is refreshed at the edge, which answers
    //   the page itself with the new cookies;
    // - refresh cookie on Path=/auth (the others): a page never sees it; the edge
    //   sends an expired session to the refresh path with return_to, which it forwards
    //   to the control plane, whose redirect must come back with its cookies (not be
    //   followed by the edge, which drops them). The browser's hop starts at that
    //   redirect's target, built as the edge builds it.
    // Either way the rotated refresh cookie must work for one more refresh.
    test("a session is refreshed through the control plane, new cookies reach the browser, the rotated one refreshes again", async () => {
      const c = await signIn();
      const signedIn = await get("/dashboard?tab=2", { cookie: `edgeauth_at=${c.edgeauth_at}` });
      assert.equal(signedIn.status, 200);
      const id = await pageIdentity(signedIn);
      assert.match(id.subject ?? "", /^[0-9a-f-]{36}$/);
      const atEdge = c.refreshPath === "/";
      assert.equal(c.refreshPath, kind === "workerd" ? "/" : "/auth");

      let [at, rt] = [c.edgeauth_at, c.edgeauth_rt];
      // rotated checks that res set both cookies anew, with their paths.
      const rotated = (res, what) => {
        const fresh = cookiesOf(res);
        const all = res.headers.getSetCookie().join(" | ");
        assert.ok(fresh.edgeauth_at && fresh.edgeauth_rt, `${what}: both cookies set: ${all}`);
        assert.notEqual(fresh.edgeauth_at, at, `${what}: a new access token`);
        assert.notEqual(fresh.edgeauth_rt, rt, `${what}: the refresh token rotated`);
        assert.equal(cookiePath(res, "edgeauth_at"), "/", `${what}: ${all}`);
        assert.equal(cookiePath(res, "edgeauth_rt"), c.refreshPath, `${what}: ${all}`);
        return fresh;
      };
      for (const what of ["refresh", "refresh with the rotated cookie"]) {
        let fresh;
        if (atEdge) {
          const page = await get("/dashboard?tab=2", { cookie: `edgeauth_rt=${rt}` });
          assert.equal(page.status, 200, `${what}: the edge refreshes and answers the page itself`);
          fresh = rotated(page, what);
          assert.deepEqual(await pageIdentity(page), id, `${what}: same subject and session`);
        } else {
          const ec = await (await get("/.well-known/edgeauth/edge-config")).json();
          const back = `${ec.refresh_path}?return_to=${encodeURIComponent("/dashboard?tab=2")}`;
          const refreshed = await get(back, { cookie: `edgeauth_at=${at}; edgeauth_rt=${rt}` });
          assert.equal(refreshed.status, 302, `${what}: the control plane's redirect, not followed by the edge`);
          assert.equal(new URL(refreshed.headers.get("location"), e.origin).href, `${e.origin}/dashboard?tab=2`, what);
          fresh = rotated(refreshed, what);
          const page = await get("/dashboard?tab=2", { cookie: `edgeauth_at=${fresh.edgeauth_at}` });
          assert.equal(page.status, 200, `${what}: the page with the new access cookie`);
          assert.deepEqual(await pageIdentity(page), id, `${what}: same subject and session`);
        }
        [at, rt] = [fresh.edgeauth_at, fresh.edgeauth_rt];
      }
    });
  });
}

// Next.js with the refresh cookie on Path=/ (the control plane's cookies.refresh_path: /,
// which the README recommends for refreshing at the edge): Next hands proxy.ts and
// middleware.ts a request whose URL is Next's own listener (http://localhost:<port>), not
// the origin the browser used, and the edge's refresh call must still carry an Origin
// the control plane allows. The new cookies reach the browser on a page, on an App
// Router navigation and prefetch (RSC: 1), and on a redirect.
for (const kind of NEXT_KINDS) {
  describe(`${kind}, refresh cookie on Path=/`, () => {
    let e;
    const get = (path, headers = {}) => fetch(`${e.origin}${path}`, { headers, redirect: "manual" });
    const session = async () => {
      const res = await fetch(`${e.origin}/auth/login`, {
        method: "POST",
        headers: { origin: e.origin, "content-type": "application/json" },
        body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
      });
      assert.equal(res.status, 200, await res.clone().text());
      const c = cookiesOf(res);
      assert.equal(cookiePath(res, "edgeauth_rt"), "/");
      return c;
    };
    // rotated: res set both cookies anew, and the new access cookie opens the API.
    const rotated = async (res, c, what) => {
      const fresh = cookiesOf(res);
      const all = res.headers.getSetCookie().join(" | ");
      assert.ok(fresh.edgeauth_at && fresh.edgeauth_rt && fresh.edgeauth_rt !== c.edgeauth_rt, `${what}: both cookies set anew: ${all}`);
      const me = await get("/api/me", { cookie: `edgeauth_at=${fresh.edgeauth_at}` });
      assert.equal(me.status, 200, `${what}: the new access cookie works`);
    };

    // The bearerProxy backend: it answers with the headers it received.
    let backend;
    before(async () => {
      const { createServer } = await import("node:http");
      backend = createServer((req, res) => {
        req.resume();
        req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ url: req.url, headers: req.headers })));
      });
      await new Promise((r) => backend.listen(0, "127.0.0.1", r));
      e = await startEdge(kind, {
        cpEnv: { ...(CP_ENV[kind] ?? CP_ENV.default), EDGEAUTH_COOKIES__REFRESH_PATH: "/" },
        env: { BACKEND_URL: `http://127.0.0.1:${backend.address().port}` },
      });
      await e.cp.createUser(EMAIL, PASSWORD, ["member"]);
    });
    after(async () => {
      await e?.stop();
      backend?.close();
    });

    // Next copies a proxy's response headers onto the request it rewrites: a refresh on a
    // bearerProxy route must not hand the backend the new cookies as a Set-Cookie header.
    test("refreshed at the edge on a bearerProxy route: the backend gets the Bearer token, never a cookie; the browser gets the cookies", async () => {
      const c = await session();
      const res = await get("/backend/me?x=1", { cookie: `theme=dark; edgeauth_rt=${c.edgeauth_rt}` });
      assert.equal(res.status, 200);
      await rotated(res, c, "bearerProxy");
      const got = await res.json();
      assert.equal(got.url, "/me?x=1");
      assert.equal(got.headers.authorization, `Bearer ${cookiesOf(res).edgeauth_at}`);
      assert.match(got.headers["x-edgeauth-subject"] ?? "", /^[0-9a-f-]{36}$/);
      const leaked = Object.keys(got.headers).filter((k) => k === "cookie" || k === "set-cookie" || /edgeauth_(at|rt)=/.test(got.headers[k]));
      assert.deepEqual(leaked, [], JSON.stringify(got.headers));
    });

    test("an expired session is refreshed at the edge: page, API, App Router navigation and prefetch, Next's redirect", async () => {
      const navigation = { rsc: "1" };
      const prefetch = { ...navigation, "next-router-prefetch": "1" };
      // Next 16 answers an RSC request whose _rsc does not match its headers with a 307
      // to the one that does (after the proxy ran): ask it, signed in, for the right one.
      // Next 15 answers any _rsc (200).
      let staleRedirects = false;
      const rscPath = async (headers) => {
        const c = await session();
        const res = await get("/dashboard?_rsc=0", { cookie: `edgeauth_at=${c.edgeauth_at}`, ...headers });
        assert.ok(res.status === 307 || res.status === 200, String(res.status));
        staleRedirects = res.status === 307;
        return staleRedirects ? res.headers.get("location") : "/dashboard?_rsc=0";
      };
      const cases = [
        ["page", "/dashboard", {}, 200],
        ["API route", "/api/me", {}, 200],
        ["navigation (RSC)", await rscPath(navigation), navigation, 200],
        ["prefetch (RSC)", await rscPath(prefetch), prefetch, 200],
      ];
      if (staleRedirects) cases.push(["Next's redirect of a stale _rsc", "/dashboard?_rsc=0", navigation, 307]);
      for (const [what, path, headers, status] of cases) {
        const c = await session();
        const res = await get(path, { cookie: `theme=dark; edgeauth_rt=${c.edgeauth_rt}`, ...headers });
        assert.equal(res.status, status, `${what}: ${res.headers.get("location") ?? ""}`);
        await rotated(res, c, what);
        if (headers.rsc && status === 200) assert.match(res.headers.get("content-type") ?? "", /^text\/x-component/, `${what}: an RSC payload, not a page`);
        if (path === "/api/me") assert.match((await res.json()).sub ?? "", /^[0-9a-f-]{36}$/, what);
      }
    });
  });
}

// The control plane's routes (/auth/*, its documents) through an edge whose control plane
// has gone: 502 upstream_unreachable JSON, as the Go edge answers (edge.ProxyError, api:
// the control plane is an API). Next's rewrite answered 500 "Internal Server Error" as
// text, which the login page took for a refused password.
test("the control plane unreachable: its routes are answered 502 upstream_unreachable JSON by every example", async () => {
  for (const kind of ["workerd", "deno", "edge-runtime", ...NEXT_KINDS]) {
    const e = await startEdge(kind, { cpEnv: CP_ENV[kind] ?? CP_ENV.default });
    try {
      assert.equal((await fetch(`${e.origin}/login`)).status, 200, `${kind}: the edge has its keys`);
      await e.cp.stop();
      for (const [method, path, headers] of [
        ["POST", "/auth/login", { origin: e.origin, "content-type": "application/json", "sec-fetch-mode": "cors" }],
        ["GET", "/.well-known/jwks.json", {}],
      ]) {
        const res = await fetch(`${e.origin}${path}`, { method, headers, body: method === "POST" ? "{}" : undefined, redirect: "manual" });
        const what = `${kind}: ${method} ${path}`;
        const body = await res.text();
        assert.equal(res.status, 502, `${what}: ${body}`);
        assert.equal(res.headers.get("content-type"), "application/json", what);
        assert.equal(res.headers.get("cache-control"), "no-store", what);
        assert.equal(JSON.parse(body).error.code, "upstream_unreachable", what);
      }
    } finally {
      await e.stop();
    }
  }
});

// workerd reads no node_modules: its configuration names each module of the package
// that index.mjs imports, and a module added to the package must be added there too.
test("workerd's config.capnp lists every module the package's entry point imports", async () => {
  const { readFile, readdir } = await import("node:fs/promises");
  const { examples } = await import("./edges.mjs");
  const config = await readFile(`${examples}workerd/config.capnp`, "utf8");
  const src = `${examples}node_modules/@edgeauth/edge/src`;
  const seen = new Set();
  const visit = async (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const m of (await readFile(`${src}/${file}`, "utf8")).matchAll(/from "\.\/([\w.-]+\.mjs)"/g)) await visit(m[1]);
  };
  await visit("index.mjs");
  assert.ok((await readdir(src)).includes("index.mjs"));
  for (const f of seen) assert.ok(config.includes(`"@edgeauth/edge/src/${f}"`), `config.capnp lacks ${f}`);
});

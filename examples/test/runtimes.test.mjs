// Every example over HTTP, in front of the real control plane (Go binary, PostgreSQL):
// workerd, Deno, Vercel's edge-runtime (standalone), and the Next.js app built with proxy.ts (Node) and with middleware.ts
// (edge runtime, Vercel's edge-runtime sandbox inside `next start`).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startEdge } from "./edges.mjs";
import { waitFor } from "./controlplane.mjs";

const EMAIL = "ada@example.com";
const PASSWORD = "correct horse battery staple";

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

// Revocation list max-age 1 s: a sign-out reaches a polling edge within a second or
// two. The Deno example holds the revocation stream instead; its control plane's list
// may be cached for 4 minutes, so only the stream can deliver a sign-out within the
// test's 30 s.
const CP_ENV = {
  default: { EDGEAUTH_REVOCATIONS__MAX_AGE: "1s" },
  deno: { EDGEAUTH_REVOCATIONS__MAX_AGE: "4m", EDGEAUTH_REVOCATIONS__LIFETIME: "5m" },
};

for (const kind of ["workerd", "deno", "edge-runtime", "next-proxy", "next-middleware"]) {
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
      return cookiesOf(res);
    };

    before(async () => {
      e = await startEdge(kind, { cpEnv: CP_ENV[kind] ?? CP_ENV.default });
      await e.cp.createUser(EMAIL, PASSWORD, ["member"]);
    });
    after(() => e?.stop());

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
      assert.ok(cleared.some((s) => s.startsWith("edgeauth_rt=;") && /Path=\/auth/.test(s)), cleared.join(" | "));
    });
  });
}

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

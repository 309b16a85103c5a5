// createEdge against a scripted control plane (a local HTTP server that serves the
// well-known documents signed here and counts requests), so that failures the real
// control plane cannot be made to show on demand (timeouts, redirects, outages, key
// rotation at a chosen moment) are tested. The examples' tests run the same package
// against the real control plane.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { createHash, sign } from "node:crypto";
import { gzipSync, gunzipSync } from "node:zlib";
import v8 from "node:v8";
import { testKey } from "./keys.mjs";
import { createEdge, isIdentityHeader } from "../src/index.mjs";
import { cleanHeaders } from "../src/edge.mjs";

const module = await WebAssembly.compile(await readFile(new URL("../../verifier/verifier.wasm", import.meta.url)));

const ISSUER = "https://auth.example.test";
const b64url = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

// keyPair is the fixed Ed25519 key of kid "k1", "k2" or "k3" (the first, second and third).
function keyPair(kid) {
  const { publicKey, privateKey } = testKey("ed25519", ["k1", "k2", "k3"].indexOf(kid));
  return { kid, privateKey, jwk: { ...publicKey.export({ format: "jwk" }), kid, alg: "EdDSA", use: "sig" } };
}

function jws(key, header, payload) {
  const input = `${b64url({ alg: "EdDSA", kid: key.kid, ...header })}.${b64url(payload)}`;
  return `${input}.${sign(null, Buffer.from(input), key.privateKey).toString("base64url")}`;
}

const edgeConfig = {
  issuer: ISSUER,
  audience: ISSUER,
  algorithms: ["EdDSA"],
  leeway_seconds: 0,
  access_cookie: { name: "at", path: "/", secure: false, http_only: true, same_site: "Lax" },
  refresh_cookie: { name: "rt", path: "/", secure: false, http_only: true, same_site: "Lax" },
  login_path: "/login",
  refresh_path: "/auth/refresh",
  logout_path: "/auth/logout",
};
const routes = { public_paths: ["/login", "/auth/"], protected: [{ prefix: "/admin/", roles: ["admin"] }], default_protected: true };

// controlPlane starts a scripted control plane; s.keys, s.revoked, s.down, s.hang,
// s.refresh, s.delay (ms before answering, by path), s.maxAge (seconds, by path; 60
// otherwise) can be changed by a test; s.hits counts requests per path.
async function controlPlane(clock = () => now) {
  const s = { edgeConfig, keys: [keyPair("k1")], revoked: [], down: false, hang: false, redirect: false, hits: {}, conditional: {}, refresh: null, clock, streams: [], delay: {}, maxAge: {}, age: {} };
  s.revocationList = () => {
    const now = Math.floor(s.clock() / 1000);
    return jws(s.keys[0], { typ: "edgeauth-revocations+jwt" }, { iss: ISSUER, iat: now, exp: now + 120, sids: s.revoked });
  };
  s.push = (event, data, id) => { for (const st of s.streams) st.res.write(`event: ${event}\nid: ${id}\ndata: ${data}\n\n`); };
  s.sign = (claims, key = s.keys[0]) => jws(key, { typ: "at+jwt" }, { iss: ISSUER, aud: ISSUER, sub: "user-1", sid: "c2Vzc2lvbi1vbmUtMTIzNDU2", roles: ["member"], jti: "j", ...claims });
  const server = createServer(async (req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    s.hits[path] = (s.hits[path] ?? 0) + 1;
    if (s.delay[path]) await new Promise((r) => setTimeout(r, s.delay[path])); // s.delay[path] ms before answering
    if (s.hang) return; // never answers
    if (s.down) return res.writeHead(502).end();
    if (s.redirect) return res.writeHead(302, { location: "https://elsewhere.example/" }).end();
    const send = (body, type) => {
      const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 16)}"`;
      // s.age[path]: the Age a shared cache in front of the control plane would add.
      const caching = { "cache-control": `public, max-age=${s.maxAge[path] ?? 60}`, ...(s.age[path] != null && { age: String(s.age[path]) }) };
      if (req.headers["if-none-match"] === etag) {
        s.conditional[path] = (s.conditional[path] ?? 0) + 1;
        return res.writeHead(304, { etag, ...caching }).end();
      }
      res.writeHead(200, { "content-type": type, etag, ...caching }).end(body);
    };
    const now = Math.floor(s.clock() / 1000);
    switch (path) {
      case "/.well-known/edgeauth/edge-config":
        return send(JSON.stringify(s.edgeConfig), "application/json");
      case "/.well-known/jwks.json":
        return send(JSON.stringify({ keys: s.keys.map((k) => k.jwk) }), "application/json");
      case "/.well-known/edgeauth/revocations":
        return send(s.revocationList(), "application/jwt");
      case "/auth/refresh":
        return s.refresh(req, res);
      case "/.well-known/edgeauth/revocations/stream":
        s.streams.push({ res, lastEventId: req.headers["last-event-id"] ?? null });
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
        return res.write("retry: 100\n\n");
      default:
        res.writeHead(200, { "content-type": "text/plain" }).end(`control plane saw ${path}`);
    }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  s.url = `http://127.0.0.1:${server.address().port}`;
  after(() => new Promise((r) => {
    for (const st of s.streams) st.res.end();
    server.closeAllConnections?.();
    server.close(r);
  }));
  return s;
}

const get = (path, headers = {}) => new Request(`http://app.test${path}`, { headers });
// Tests that move the edge's clock move the scripted control plane's with it.
const now = Date.now();
const fresh = () => ({ iat: Math.floor(now / 1000) - 5, exp: Math.floor(now / 1000) + 600 });

test("forwards with identity headers after removing every client-sent spelling", async () => {
  const cp = await controlPlane();
  const edge = createEdge({ module, controlPlane: cp.url, routes });
  const o = await edge.handle(get("/dashboard", {
    cookie: `at=${cp.sign(fresh())}`,
    "X-Edgeauth-Subject": "admin", x_edgeauth_roles: "admin", "X-EDGEAUTH_SESSION": "s", "x-edgeauth-other": "1",
  }));
  assert.equal(o.action, "forward");
  assert.equal(o.upstream, undefined);
  const h = Object.fromEntries(o.requestHeaders);
  assert.equal(h["x-edgeauth-subject"], "user-1");
  assert.equal(h["x-edgeauth-roles"], "member");
  assert.equal(h["x-edgeauth-session"], "c2Vzc2lvbi1vbmUtMTIzNDU2");
  assert.match(h["x-edgeauth-expires-at"], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(h["x_edgeauth_roles"], undefined);
  assert.equal(h["x-edgeauth_session"], undefined);
  assert.equal(h["x-edgeauth-other"], undefined);
});

test("a repeat visitor's token is verified once: the edge caches by default, routes.cache_entries: 0 turns it off", async () => {
  const cp = await controlPlane();
  const cookie = `at=${cp.sign(fresh())}`;
  const twice = async (edge) => {
    const a = await edge.handle(get("/dashboard", { cookie }));
    const b = await edge.handle(get("/dashboard", { cookie }));
    assert.equal(a.action, "forward");
    assert.equal(b.identity.sub, "user-1");
    return [a, b];
  };
  const cached = createEdge({ module, controlPlane: cp.url, routes });
  const [a, b] = await twice(cached);
  assert.equal(cached.config.cache_entries, 1024);
  // A cached token's identity is read from the module once and shared (a cold
  // verification reads a new one), so the same object means the second was a hit.
  assert.equal(b.decision.identity, a.decision.identity, "second request answered from the cache");
  const uncached = createEdge({ module, controlPlane: cp.url, routes: { ...routes, cache_entries: 0 } });
  const [c, d] = await twice(uncached);
  assert.notEqual(d.decision.identity, c.decision.identity, "cache_entries: 0 verifies every time");
  assert.deepEqual(d.decision.identity, c.decision.identity);
});

test("identity headers: a role that is not ASCII goes upstream as its UTF-8 bytes (as the Go edge sends it), not an exception", async () => {
  const cp = await controlPlane();
  const edge = createEdge({ module, controlPlane: cp.url, routes });
  for (const roles of [["管理者"], ["rédacteur", "member"]]) {
    const o = await edge.handle(get("/dashboard", { cookie: `at=${cp.sign({ ...fresh(), roles })}` }));
    assert.equal(o.action, "forward", roles.join());
    // Headers hold a byte string: one char per byte on the wire.
    assert.equal(Buffer.from(o.requestHeaders.get("x-edgeauth-roles"), "latin1").toString("utf8"), roles.join(","));
  }
});

test("the edges' answers: the shared table the Go edge runs too (verifier/testdata/edge-answers.json)", async () => {
  // One contract: hostdemo/edge/answers_test.go runs these requests through the Go edge.
  // The edge refreshes at the edge (refreshAtEdge, the default); no case may rotate.
  const table = JSON.parse(await readFile(new URL("../../verifier/testdata/edge-answers.json", import.meta.url), "utf8"));
  const cp = await controlPlane();
  let refreshes = 0;
  cp.refresh = (req, res) => {
    refreshes++;
    res.writeHead(500).end();
  };
  // websocket_routes are the Go edge's (its WebSocket proxy's paths): this edge checks every upgrade's Origin.
  const options = { module, routes: table.routes, apiPrefixes: table.api_prefixes, webSocketOrigins: table.websocket_origins };
  const edge = createEdge({ ...options, controlPlane: cp.url });
  // An edge whose control plane has been unreachable since it started (control_plane_down).
  const downCP = await controlPlane();
  downCP.down = true;
  const down = createEdge({ ...options, controlPlane: downCP.url, log: () => {} });
  // The app's origin for upstream_down: a port nothing listens on.
  const gone = createServer();
  await new Promise((r) => gone.listen(0, "127.0.0.1", r));
  const deadOrigin = `http://127.0.0.1:${gone.address().port}`;
  await new Promise((r) => gone.close(r));
  const quiet = createEdge({ ...options, controlPlane: cp.url, log: () => {} });
  const tokens = {
    valid: cp.sign(fresh()),
    expired: cp.sign({ iat: Math.floor(now / 1000) - 700, exp: Math.floor(now / 1000) - 100 }),
    invalid: "not-a-token",
  };
  for (const c of table.cases) {
    const cookies = [];
    if (c.access === "smuggled") cookies.push(`theme=dark, at=${tokens.valid}`);
    else if (c.access !== "none") cookies.push(`at=${tokens[c.access] ?? assert.fail(`${c.name}: access ${c.access}`)}`);
    if (c.refresh_cookie) cookies.push("rt=old");
    const headers = { ...c.headers, ...(cookies.length > 0 && { cookie: cookies.join("; ") }) };
    const body = c.method === "GET" || c.method === "HEAD" ? undefined : "a=1";
    const request = new Request(`http://app.test${c.path}`, { method: c.method, headers, body });
    const o = c.upstream_down ? { response: await quiet.fetch(request, deadOrigin), reason: "upstream_down" } : await (c.control_plane_down ? down : edge).handle(request);
    const res = o.response;
    const want = c.want;
    assert.equal(res?.status ?? 200, want.status, `${c.name}: ${o.reason}`);
    if (!res) continue;
    assert.equal(res.headers.get("location"), want.location ?? null, c.name);
    if (want.cache_control) assert.equal(res.headers.get("cache-control"), want.cache_control, c.name);
    for (const [k, v] of Object.entries(want.headers ?? {})) assert.equal(res.headers.get(k) ?? "", v, `${c.name}: ${k}`);
    const ct = res.headers.get("content-type") ?? "";
    if (want.code) {
      assert.equal(ct, "application/json", c.name);
      assert.equal((await res.json()).error.code, want.code, c.name);
    } else if (want.status >= 400) {
      assert.match(ct, /^text\/plain/, c.name);
    }
    assert.equal(res.headers.getSetCookie().some((sc) => sc.includes("Max-Age=0")), want.clears ?? false, c.name);
  }
  assert.equal(refreshes, 0, "no case rotates");
});

test("identity headers: the shared table of reserved and not-reserved names (verifier/testdata)", async () => {
  const table = JSON.parse(await readFile(new URL("../../verifier/testdata/identity-headers.json", import.meta.url), "utf8"));
  for (const name of table.reserved) assert.ok(isIdentityHeader(name), `reserved: ${name}`);
  for (const name of table.not_reserved) assert.ok(!isIdentityHeader(name), `not reserved: ${name}`);
  // The rule as README states it, against the allocation-free scan, on random names.
  const rule = (n) => n.replace(/[^A-Za-z0-9]/g, "").toUpperCase().startsWith("XEDGEAUTH");
  const alphabet = ["x", "X", "e", "E", "d", "g", "a", "u", "t", "h", "H", "-", "_", ".", " ", "0", "9", "ı", "ſ", "é", "\u0000", "~", "%", "y"];
  let seed = 7;
  const rand = (n) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
  for (let i = 0; i < 20000; i++) {
    let name = i % 2 ? "x-edgeauth".slice(0, rand(11)) : "";
    for (let k = rand(14); k > 0; k--) name += alphabet[rand(alphabet.length)];
    if (i % 3 === 0) name = [...name].map((c) => (rand(4) === 0 ? c + alphabet[rand(alphabet.length)] : c)).join("");
    assert.equal(isIdentityHeader(name), rule(name), JSON.stringify(name));
  }
  // Every reserved name that Headers accepts is removed from a forwarded request.
  const cp = await controlPlane();
  const edge = createEdge({ module, controlPlane: cp.url, routes });
  const sent = new Headers({ "x-request-id": "r1" });
  for (const name of table.reserved) {
    try {
      sent.append(name, "spoofed");
    } catch {
      // not an RFC 9110 token: Headers refuses it, so it never reaches the edge
    }
  }
  sent.set("connection", "keep-alive, X-Edgeauth-Subject, x_edgeauth_roles");
  const o = await edge.handle(get("/login", sent));
  assert.equal(o.action, "forward");
  const names = [...o.requestHeaders.keys()];
  assert.deepEqual(names.filter((n) => isIdentityHeader(n)), []);
  assert.equal(o.requestHeaders.get("connection"), "keep-alive");
  assert.equal(o.requestHeaders.get("x-request-id"), "r1");
  const trailer = await edge.handle(get("/login", { trailer: "X-Edgeauth-Subject" }));
  assert.equal(trailer.response.status, 400);
});

test("cleanHeaders: both ways of copying (Deno's and the others') keep and drop the same headers", () => {
  // The rule as written before the one-pass copy: copy, drop reserved names, then Trailer and Connection.
  const reference = (init) => {
    const out = new Headers(init);
    for (const name of [...out.keys()]) if (isIdentityHeader(name)) out.delete(name);
    const connection = out.get("connection");
    if (connection) {
      const kept = connection.split(",").map((t) => t.trim()).filter((t) => t && !isIdentityHeader(t));
      if (kept.length > 0) out.set("connection", kept.join(", "));
      else out.delete("connection");
    }
    return out;
  };
  const cases = [
    [["accept", "text/html"], ["cookie", "a=1"], ["cookie", "b=2"], ["authorization", "Bearer t"], ["x-request-id", "r"], ["X-Edgeauth-Subject", "spoof"], ["x_edgeauth_roles", "admin"]],
    [["set-cookie", "a=1"], ["set-cookie", "b=2"], ["x-edgeauth-session", "s"], ["connection", "keep-alive, X-Edgeauth-Subject"]],
    [["connection", "x-edgeauth-roles"], ["__proto__", "p"], ["123", "n"], ["zzz", ""]],
    [],
  ];
  for (const pairs of cases) {
    const source = new Headers(pairs);
    const want = [...reference(source)];
    for (const collect of [false, true]) {
      const got = cleanHeaders(source, collect);
      assert.deepEqual([...got.headers], want, `collect=${collect} ${JSON.stringify(pairs)}`);
      assert.equal(got.cookie, source.get("cookie"));
      assert.equal(got.authorization, source.get("authorization"));
    }
    assert.deepEqual([...cleanHeaders(pairs).headers], want, "from pairs");
  }
  for (const collect of [false, true]) {
    assert.throws(() => cleanHeaders(new Headers({ trailer: "Expires, X-Edgeauth-Subject" }), collect), TypeError);
  }
});

test("a path no upstream should read: 400 for pages and API routes, signed in or not (ABI.md), not a 403", async () => {
  const cp = await controlPlane();
  const edge = createEdge({ module, controlPlane: cp.url, routes, apiPrefixes: ["/api/"] });
  const cookie = `at=${cp.sign(fresh())}`;
  for (const path of ["/x/%252e%252e/admin/", "/api/%00"]) {
    for (const headers of [{}, { cookie }]) {
      const o = await edge.handle(get(path, headers));
      assert.equal(o.reason, "invalid_path", path);
      assert.equal(o.response.status, 400, path);
    }
  }
  const api = await edge.handle(get("/api/%00"));
  assert.equal((await api.response.json()).error.code, "invalid_path");
});

test("a route that needs a second factor: 403 mfa_required without one (amr), forwarded with it", async () => {
  const cp = await controlPlane();
  const mfaRoutes = { ...routes, protected: [...routes.protected, { prefix: "/vault/", mfa: true }, { prefix: "/api/vault/", mfa: true }] };
  const edge = createEdge({ module, controlPlane: cp.url, routes: mfaRoutes, apiPrefixes: ["/api/"] });
  for (const [what, amr] of [["no amr", undefined], ["password only", ["pwd"]]]) {
    const cookie = `at=${cp.sign({ ...fresh(), ...(amr && { amr }) })}`;
    for (const path of ["/vault/notes", "/api/vault/notes"]) {
      const o = await edge.handle(get(path, { cookie }));
      assert.equal(o.response?.status, 403, `${what} ${path}: ${o.reason}`);
      assert.equal(o.reason, "mfa_required");
      if (path.startsWith("/api/")) assert.equal((await o.response.json()).error.code, "mfa_required");
    }
  }
  const withFactor = `at=${cp.sign({ ...fresh(), amr: ["pwd", "otp", "mfa"] })}`;
  for (const path of ["/vault/notes", "/api/vault/notes"]) {
    const o = await edge.handle(get(path, { cookie: withFactor }));
    assert.equal(o.action, "forward", `${path}: ${o.reason}`);
    assert.equal(o.requestHeaders.get("x-edgeauth-subject"), "user-1");
    assert.equal(o.requestHeaders.get("x-edgeauth-second-factor"), "true");
    assert.equal(o.decision.identity.mfa, true);
  }
  // Elsewhere a password-only sign-in passes, and the upstream is told it had no second factor.
  const plain = await edge.handle(get("/dashboard", { cookie: `at=${cp.sign({ ...fresh(), amr: ["pwd"] })}`, "x-edgeauth-second-factor": "true" }));
  assert.equal(plain.action, "forward", plain.reason);
  assert.equal(plain.requestHeaders.get("x-edgeauth-second-factor"), "false");
  assert.equal(plain.decision.identity.mfa, undefined);
  // The role check comes first: a second factor does not stand in for a role.
  const o = await edge.handle(get("/admin/", { cookie: withFactor }));
  assert.equal(o.reason, "missing_role");
});

test("no session: pages redirect to login, API routes answer 401 JSON, roles 403", async () => {
  const cp = await controlPlane();
  const edge = createEdge({ module, controlPlane: cp.url, routes, apiPrefixes: ["/api/"] });
  let o = await edge.handle(get("/dashboard?tab=1"));
  assert.equal(o.response.status, 302);
  assert.equal(o.response.headers.get("location"), "/login?return_to=%2Fdashboard%3Ftab%3D1");
  o = await edge.handle(get("/api/items"));
  assert.equal(o.response.status, 401);
  assert.equal((await o.response.json()).error.code, "unauthenticated");
  o = await edge.handle(get("/admin/", { cookie: `at=${cp.sign(fresh())}` }));
  assert.equal(o.response.status, 403);
  // A WebSocket upgrade on a page path: a socket follows no redirect, so 401 JSON.
  o = await edge.handle(get("/dashboard/live", { upgrade: "websocket", connection: "Upgrade" }));
  assert.equal(o.response.status, 401);
  assert.equal((await o.response.json()).error.code, "unauthenticated");
  // A forged token: redirect and clear both cookies with their attributes.
  const forged = cp.sign(fresh()).slice(0, -4) + "AAAA";
  o = await edge.handle(get("/dashboard", { cookie: `at=${forged}` }));
  assert.equal(o.response.status, 302);
  assert.deepEqual(o.response.headers.getSetCookie().map((c) => c.split("=")[0]), ["at", "rt"]);
  assert.ok(o.response.headers.getSetCookie().every((c) => c.includes("Max-Age=0") && c.includes("Path=/")));
});

test("a POST that needs sign-in: 303 when the browser navigates, 401 JSON to a fetch (a server action), never a 302", async () => {
  // A 302 to a POST (a server action, a form) with an expired token and no refresh
  // cookie here: fetch follows it as a GET and ends on the page's HTML with a 200, the
  // POST lost and nothing saying so. A navigation goes to the refresh with 303 (See
  // Other: GET it, RFC 9110 15.4.4), which no client may answer by POSTing to
  // /auth/refresh; a fetch is answered as an API route is, 401 JSON, which a caller (or
  // createAuthFetch) can refresh and retry on.
  const cp = await controlPlane();
  const edge = createEdge({ module, controlPlane: cp.url, routes });
  const expired = `at=${cp.sign({ iat: Math.floor(now / 1000) - 700, exp: Math.floor(now / 1000) - 100 })}`;
  const post = (headers) => new Request("http://app.test/dashboard?x=1", { method: "POST", body: "a=1", headers: { "content-type": "application/x-www-form-urlencoded", ...headers } });
  for (const [name, headers, status, location, code] of [
    ["form navigation, expired", { cookie: expired, "sec-fetch-mode": "navigate" }, 303, /^\/auth\/refresh\?return_to=%2Fdashboard%3Fx%3D1$/],
    ["no Sec-Fetch-Mode (curl), expired", { cookie: expired }, 303, /^\/auth\/refresh\?/],
    ["form navigation, no session", { "sec-fetch-mode": "navigate" }, 303, /^\/login\?return_to=/],
    ["server action, expired", { cookie: expired, "sec-fetch-mode": "cors", "next-action": "7f3a" }, 401, null, "token_expired"],
    ["fetch from the page, expired", { cookie: expired, "sec-fetch-mode": "same-origin" }, 401, null, "token_expired"],
    ["fetch from the page, no session", { "sec-fetch-mode": "same-origin" }, 401, null, "unauthenticated"],
    ["server action without Sec-Fetch-Mode, expired", { cookie: expired, "next-action": "7f3a" }, 401, null, "token_expired"],
  ]) {
    const o = await edge.handle(post(headers));
    assert.equal(o.response?.status, status, name);
    if (location) assert.match(o.response.headers.get("location"), location, name);
    else assert.equal((await o.response.json()).error.code, code, name);
  }
  // GET keeps 302, navigation or fetch: following it as a GET replays nothing lost.
  for (const mode of ["navigate", "cors"]) {
    const o = await edge.handle(get("/dashboard", { cookie: expired, "sec-fetch-mode": mode }));
    assert.equal(o.response.status, 302, mode);
  }
});

test("ctx.basePath (Next's basePath): rules and control plane paths name app paths, redirects go back under the base path", async () => {
  // Next serves the app under basePath and hands the proxy the full path, while a Next
  // user writes paths without it (matcher, Link, redirects), and the control plane's
  // paths (/login, /auth/*) are the edge configuration's: every page under /app
  // redirected to a /login outside the app, and /app/auth/login was no control plane route.
  const cp = await controlPlane();
  const edge = createEdge({ module, controlPlane: cp.url, routes, apiPrefixes: ["/api/"], bearerProxy: [{ prefix: "/bp/", upstream: "http://backend.test", stripPrefix: true }] });
  const ctx = { basePath: "/app" };
  const expired = `at=${cp.sign({ iat: Math.floor(now / 1000) - 700, exp: Math.floor(now / 1000) - 100 })}`;
  let o = await edge.handle(get("/app/dashboard?tab=1"), ctx);
  assert.equal(o.response.status, 302);
  assert.equal(o.response.headers.get("location"), "/app/login?return_to=%2Fapp%2Fdashboard%3Ftab%3D1", "the login page and the way back, both in the app");
  o = await edge.handle(get("/app/dashboard", { cookie: expired }), ctx);
  assert.equal(o.response.headers.get("location"), "/app/auth/refresh?return_to=%2Fapp%2Fdashboard");
  o = await edge.handle(get("/app/login"), ctx);
  assert.equal(o.action, "forward", "public_paths name app paths");
  o = await edge.handle(get("/app"), ctx);
  assert.equal(o.response.headers.get("location"), "/app/login?return_to=%2Fapp%2F", "the base path itself is the app's /");
  o = await edge.handle(get("/app/api/items"), ctx);
  assert.equal(o.response.status, 401, "apiPrefixes name app paths");
  o = await edge.handle(get("/app/auth/login?x=1"), ctx);
  assert.equal(o.upstream, `${cp.url}/auth/login?x=1`, "the control plane's own path");
  o = await edge.handle(get("/app/bp/items?x=1", { cookie: `at=${cp.sign(fresh())}` }), ctx);
  assert.equal(o.upstream, "http://backend.test/items?x=1");
  o = await edge.handle(get("/app/admin/", { cookie: `at=${cp.sign(fresh())}` }), ctx);
  assert.equal(o.response.status, 403, "protected prefixes name app paths");
  // A path outside the base path (Next does not hand one over) is decided as it is.
  o = await edge.handle(get("/application"), ctx);
  assert.equal(o.response.headers.get("location"), "/login?return_to=%2Fapplication");
  await assert.rejects(edge.handle(get("/app/x"), { basePath: "app/" }), /basePath/);
});

test("documents: one fetch each for concurrent first requests, ETag on the next, no redirects followed", async () => {
  let t = now;
  const cp = await controlPlane(() => t);
  const edge = createEdge({ module, controlPlane: cp.url, routes, now: () => t });
  const tok = cp.sign(fresh());
  const outcomes = await Promise.all(Array.from({ length: 8 }, () => edge.handle(get("/dashboard", { cookie: `at=${tok}` }))));
  assert.ok(outcomes.every((o) => o.action === "forward"));
  assert.equal(cp.hits["/.well-known/jwks.json"], 1);
  assert.equal(cp.hits["/.well-known/edgeauth/edge-config"], 1);
  t += 61_000; // past max-age=60
  const background = [];
  await edge.handle(get("/dashboard", { cookie: `at=${tok}` }), { waitUntil: (p) => background.push(p) });
  assert.equal(background.length, 3, "edge configuration, JWKS and revocation list refetched in the background");
  await Promise.all(background);
  assert.equal(cp.conditional["/.well-known/jwks.json"], 1, "JWKS revalidated with If-None-Match");

  const cp2 = await controlPlane();
  cp2.redirect = true;
  const edge2 = createEdge({ module, controlPlane: cp2.url, routes });
  await assert.rejects(edge2.ready(), /redirect to https:\/\/elsewhere\.example\/: set controlPlane/);
  assert.equal(cp2.hits["/"], undefined, "redirect not followed");
  const o = await edge2.handle(get("/dashboard"));
  assert.equal(o.response.status, 503);
});

test("the edge configuration's leeway_seconds is the leeway, 0 included; a document without it means 0", async () => {
  // A token 30 s past its exp, on a protected path.
  const expired = { iat: Math.floor(now / 1000) - 600, exp: Math.floor(now / 1000) - 30 };
  const { leeway_seconds, ...withoutLeeway } = edgeConfig;
  for (const [name, doc, forwarded] of [
    ["leeway_seconds: 0", { ...edgeConfig, leeway_seconds: 0 }, false],
    ["no leeway_seconds", withoutLeeway, false],
    ["leeway_seconds: 90", { ...edgeConfig, leeway_seconds: 90 }, true],
  ]) {
    const cp = await controlPlane();
    cp.edgeConfig = doc;
    const edge = createEdge({ module, controlPlane: cp.url, routes, now: () => now });
    const o = await edge.handle(get("/dashboard", { cookie: `at=${cp.sign(expired)}` }));
    assert.equal(o.action === "forward", forwarded, `${name}: ${o.action} ${o.decision?.reason}`);
    if (!forwarded) assert.equal(o.decision.reason, "token_expired", name);
    assert.equal(edge.config.leeway_seconds, doc.leeway_seconds, name);
  }
});

test("an edge configuration with a member this edge does not know is refused, not half applied", async () => {
  // A newer control plane may publish a member an edge must apply to be safe; an older
  // edge refuses the document, as the Go edge does, rather than run without it.
  const cp = await controlPlane();
  cp.edgeConfig = { ...edgeConfig, second_factor_paths: ["/vault/"] };
  const edge = createEdge({ module, controlPlane: cp.url, routes, log: () => {} });
  await assert.rejects(edge.ready(), /second_factor_paths/);
  assert.equal((await edge.handle(get("/dashboard", { cookie: `at=${cp.sign(fresh())}` }))).response?.status, 503);
  // Once running, such a document is refused and the configuration held stays.
  const cp2 = await controlPlane();
  const edge2 = createEdge({ module, controlPlane: cp2.url, routes, log: () => {} });
  await edge2.ready();
  cp2.edgeConfig = { ...edgeConfig, login_path: "/signin", protected: [] };
  await assert.rejects(edge2.docs.config.refresh(), /protected/);
  assert.equal(edge2.config.login_path, "/login");
});

test("a control plane that does not answer times out", async () => {
  const cp = await controlPlane();
  cp.hang = true;
  const edge = createEdge({ module, controlPlane: cp.url, routes, timeoutMs: 200 });
  await assert.rejects(edge.ready(), /no answer within 200 ms/);
});

test("unknown kid: one JWKS refetch, then at most one per cooldown", async () => {
  let t = now;
  const cp = await controlPlane(() => t);
  const edge = createEdge({ module, controlPlane: cp.url, routes, now: () => t, keyRefetchCooldownMs: 10_000 });
  await edge.ready();
  const k2 = keyPair("k2");
  cp.keys.push(k2);
  const o = await edge.handle(get("/dashboard", { cookie: `at=${cp.sign(fresh(), k2)}` }));
  assert.equal(o.action, "forward", "the new key was fetched and the token accepted");
  assert.equal(cp.hits["/.well-known/jwks.json"], 2);
  const forgedKid = keyPair("k3");
  t += 10_001;
  for (let i = 0; i < 5; i++) await edge.handle(get("/dashboard", { cookie: `at=${cp.sign(fresh(), forgedKid)}` }));
  assert.equal(cp.hits["/.well-known/jwks.json"], 3, "one refetch for five unknown-kid requests within the cooldown");
  t += 10_001;
  await edge.handle(get("/dashboard", { cookie: `at=${cp.sign(fresh(), forgedKid)}` }));
  assert.equal(cp.hits["/.well-known/jwks.json"], 4);
});

test("a rotation met after an idle spell: the list signed by the new key loads after the new keys, not 503", async () => {
  let t = now;
  const cp = await controlPlane(() => t);
  const edge = createEdge({ module, controlPlane: cp.url, routes, now: () => t, maxStaleMs: 120_000 });
  const tok = `at=${cp.sign(fresh())}`; // signed by k1, which stays published
  assert.equal((await edge.handle(get("/dashboard", { cookie: tok }))).action, "forward");
  cp.keys.unshift(keyPair("k2")); // k2 signs from now on, the revocation list included
  t += 150_000; // no request for longer than maxStaleMs: both documents are stale
  cp.delay["/.well-known/jwks.json"] = 200; // the list comes back before the keys that verify it
  const o = await edge.handle(get("/dashboard", { cookie: tok }));
  assert.equal(o.response?.status, undefined, `answered ${o.response?.status} (${o.reason})`);
  assert.equal(o.action, "forward");
  delete cp.delay["/.well-known/jwks.json"];
  assert.equal((await edge.handle(get("/dashboard", { cookie: `at=${cp.sign(fresh(), cp.keys[0])}` }))).action, "forward");
});

test("a list signed by a key the edge has not fetched (an immediate rotation) fetches the keys, and loads", async () => {
  let t = now;
  const cp = await controlPlane(() => t);
  const edge = createEdge({ module, controlPlane: cp.url, routes, now: () => t });
  const tok = `at=${cp.sign(fresh())}`;
  assert.equal((await edge.handle(get("/dashboard", { cookie: tok }))).action, "forward");
  cp.keys.unshift(keyPair("k2"));
  cp.revoked = ["c2Vzc2lvbi1vbmUtMTIzNDU2"];
  t += 61_000; // the list is due (max-age 60 s), the keys too: the list must wait for them
  cp.delay["/.well-known/jwks.json"] = 200;
  const background = [];
  await edge.handle(get("/dashboard", { cookie: tok }), { waitUntil: (p) => background.push(p) });
  await Promise.all(background);
  const o = await edge.handle(get("/dashboard", { cookie: tok }));
  assert.equal(o.reason, "revoked", "the list signed by k2 was loaded once k2 was");

  // Keys not due (a JWKS cached longer than the list): the unknown kid fetches them.
  cp.maxAge["/.well-known/jwks.json"] = 3600;
  delete cp.delay["/.well-known/jwks.json"];
  t += 61_000;
  await Promise.all(background.splice(0));
  await edge.handle(get("/dashboard", { cookie: tok }), { waitUntil: (p) => background.push(p) }); // keys now cached for an hour
  await Promise.all(background.splice(0));
  cp.keys.unshift(keyPair("k3"));
  cp.revoked = [];
  const fetched = cp.hits["/.well-known/jwks.json"];
  t += 61_000;
  await edge.handle(get("/dashboard", { cookie: tok }), { waitUntil: (p) => background.push(p) });
  await Promise.all(background.splice(0));
  assert.equal(cp.hits["/.well-known/jwks.json"], fetched + 1, "one JWKS fetch for the list's unknown kid");
  assert.equal((await edge.handle(get("/dashboard", { cookie: tok }))).action, "forward", "the list signed by k3 (no longer naming the session) was loaded");
});

test("fails closed once keys and revocations are older than maxStaleMs, recovers after", async () => {
  let t = now;
  const cp = await controlPlane(() => t);
  const edge = createEdge({ module, controlPlane: cp.url, routes, now: () => t, maxStaleMs: 120_000 });
  const tok = `at=${cp.sign(fresh())}`;
  assert.equal((await edge.handle(get("/dashboard", { cookie: tok }))).action, "forward");
  cp.down = true;
  t += 90_000; // stale for max-age, not for maxStale: keeps serving
  assert.equal((await edge.handle(get("/dashboard", { cookie: tok }))).action, "forward");
  t += 60_000;
  const o = await edge.handle(get("/dashboard", { cookie: tok }));
  assert.equal(o.response?.status, 503);
  assert.equal(o.reason, "stale");
  cp.down = false;
  assert.equal((await edge.handle(get("/dashboard", { cookie: tok }))).action, "forward");
});

test("a clock the module cannot take (outside int64 seconds) fails the request with a clear error, and keeps the instance and its revocation list", async () => {
  let t = now;
  const cp = await controlPlane(() => now);
  const logs = [];
  const edge = createEdge({ module, controlPlane: cp.url, routes, now: () => t, log: (e) => logs.push(e) });
  cp.revoked = ["c2Vzc2lvbi1vbmUtMTIzNDU2"];
  const tok = `at=${cp.sign(fresh())}`;
  assert.equal((await edge.handle(get("/dashboard", { cookie: tok }))).reason, "revoked");
  const instance = edge.verifier;
  const lists = cp.hits["/.well-known/edgeauth/revocations"];
  // A clock gone far into the past: every document reads as fresh, the module cannot take the time.
  t = -1e22;
  const outcomes = [];
  for (let i = 0; i < 3; i++) outcomes.push(await edge.handle(get("/dashboard", { cookie: tok })).then((o) => `${o.response?.status} ${o.reason}`, (err) => err.message));
  assert.ok(edge.verifier === instance, `the instance was replaced: ${JSON.stringify(logs.map((e) => e.event))}`);
  for (const o of outcomes) assert.match(o, /options\.now returned a time the module cannot take/);
  t = now;
  assert.equal((await edge.handle(get("/dashboard", { cookie: tok }))).reason, "revoked");
  assert.equal(cp.hits["/.well-known/edgeauth/revocations"], lists, "the list was dropped and fetched again");
});

// withWasmMemoryCap runs fn with every wasm memory capped at pages (64 KiB each), as the
// Go host caps an instance's (wasmhost.Options.MemoryLimitPages): a module call that
// needs more traps (verifier/ABI.md: "a trap (a module bug or memory exhaustion)").
async function withWasmMemoryCap(pages, fn) {
  v8.setFlagsFromString(`--wasm-max-mem-pages=${pages}`);
  try {
    return await fn();
  } finally {
    v8.setFlagsFromString("--wasm-max-mem-pages=4294967295"); // V8's default
  }
}

test("a trap while loading a key set (memory exhausted) replaces the instance, as ABI.md asks: the next key set loads", async () => {
  let t = now;
  const cp = await controlPlane(() => t);
  const logs = [];
  const edge = createEdge({ module, controlPlane: cp.url, routes, now: () => t, log: (e) => logs.push(e) });
  const tok = `at=${cp.sign(fresh())}`;
  assert.equal((await edge.handle(get("/dashboard", { cookie: tok }))).action, "forward");
  const first = edge.verifier;
  await withWasmMemoryCap(first.x.memory.buffer.byteLength / 65536, async () => {
    // A key set too large for the memory the instance has: load_keys traps.
    const [k1] = cp.keys;
    cp.keys = [k1, ...Array.from({ length: 2000 }, (_, i) => ({ jwk: { ...k1.jwk, kid: `k1-${i}` } }))];
    t += 61_000; // the keys are due
    const background = [];
    assert.equal((await edge.handle(get("/dashboard", { cookie: tok }), { waitUntil: (p) => background.push(p) })).action, "forward");
    await Promise.all(background);
    const refused = logs.find((e) => e.event === "document_refused" && e.url.endsWith("/.well-known/jwks.json"));
    assert.equal(refused?.error, "unreachable", "load_keys trapped");

    // A rotation then publishes an ordinary key set: it loads, and its key's tokens pass.
    const k2 = keyPair("k2");
    cp.keys = [k2, k1];
    const o = await edge.handle(get("/dashboard", { cookie: `at=${cp.sign(fresh(), k2)}` }));
    assert.equal(o.action, "forward", `${o.reason} ${o.response?.status}: ${JSON.stringify(logs.slice(1))}`);
    assert.equal((await edge.handle(get("/dashboard", { cookie: tok }))).action, "forward");
    assert.ok(edge.verifier !== first, "the trapped instance is still the edge's");
  });
});

test("a document a shared cache has held for a while (Age) is due when its max-age runs out, not a max-age later", async () => {
  // Key rotation's timings (pre_publish > jwks_max_age + reload) count on an edge
  // holding a key set at most max-age after the control plane served it. A CDN in front
  // of the control plane answers with Age: the edge counts that time as spent.
  let t = now;
  const cp = await controlPlane(() => t);
  cp.age["/.well-known/jwks.json"] = 50;
  cp.age["/.well-known/edgeauth/revocations"] = "garbage"; // not a number: ignored
  const edge = createEdge({ module, controlPlane: cp.url, routes, now: () => t });
  const tok = `at=${cp.sign(fresh())}`;
  assert.equal((await edge.handle(get("/dashboard", { cookie: tok }))).action, "forward");
  const jwks = cp.hits["/.well-known/jwks.json"];
  const list = cp.hits["/.well-known/edgeauth/revocations"];
  t += 15_000; // 50 + 15 s old: past its 60 s max-age
  const refetches = [];
  await edge.handle(get("/dashboard", { cookie: tok }), { waitUntil: (p) => refetches.push(p) });
  await Promise.all(refetches);
  assert.equal(cp.hits["/.well-known/jwks.json"], jwks + 1, "the key set was not fetched again");
  assert.equal(cp.hits["/.well-known/edgeauth/revocations"], list, "the list (no usable Age) is 15 s old of 60");
});

test("a document a shared cache serves within its max-age is current: its Age does not make the edge stale", async () => {
  // keys.jwks_max_age may exceed maxStaleMs (the defaults are both 10 min; the control
  // plane allows up to 24 h). A cache in front of the control plane then rightly serves
  // a key set older than maxStaleMs: as current as the control plane's own answer, it
  // must not make the edge answer 503.
  let t = now;
  const cp = await controlPlane(() => t);
  cp.maxAge["/.well-known/jwks.json"] = 3600;
  cp.age["/.well-known/jwks.json"] = 1200; // 20 min in the cache, 40 min of max-age left
  const edge = createEdge({ module, controlPlane: cp.url, routes, now: () => t });
  const tok = `at=${cp.sign(fresh())}`;
  const o = await edge.handle(get("/dashboard", { cookie: tok }));
  assert.equal(o.response?.status, undefined, `answered ${o.response?.status} (${o.reason})`);
  assert.equal(o.action, "forward");
  // A cache serving a document past its max-age (stale) has held it too long: the excess counts.
  cp.maxAge["/.well-known/jwks.json"] = 60;
  cp.age["/.well-known/jwks.json"] = 60 + 11 * 60;
  t += 3601_000;
  const stale = await edge.handle(get("/dashboard", { cookie: tok }));
  assert.equal(stale.response?.status, 503, "a key set 11 min past its max-age in a cache");
});

test("a list refetch does not wait forever on a key set fetch that never settles (workerd cancels a finished request's I/O)", { timeout: 20_000 }, async () => {
  let t = now;
  const cp = await controlPlane(() => t);
  let stall = false;
  const fetch = (input, init) => (stall && String(input).endsWith("/jwks.json") ? new Promise(() => {}) : globalThis.fetch(input, init));
  const edge = createEdge({ module, controlPlane: cp.url, routes, now: () => t, fetch, timeoutMs: 2_000 });
  await edge.ready();
  stall = true;
  void edge.docs.keys.refresh(); // in flight for good
  t += 2_000; // a new list (another iat)
  cp.revoked = ["c2Vzc2lvbi1vbmUtMTIzNDU2"];
  await edge.docs.revocations.refresh(); // waits for the keys, then gives up on them
  const o = await edge.handle(get("/dashboard", { cookie: `at=${cp.sign(fresh())}` }));
  assert.equal(o.response?.status, 302, "the new list, which names the session, is applied");
});

test("a 304 (or the same body again) does not keep a revocation list past its own exp: stale at maxStaleMs as after a failed fetch, current again with a new list", async () => {
  // A cache in front of the control plane that goes on answering 304 (or the same body)
  // for a list whose exp has passed: each answer counted as a confirmation, and the edge
  // decided with a list its signer no longer vouches for, never turning stale.
  let t = now;
  const cp = await controlPlane(() => t);
  const signed = cp.revocationList; // a new list (iat now, exp now + 120 s) per call
  const held = signed();
  cp.revocationList = () => held;
  const edge = createEdge({ module, controlPlane: cp.url, routes, now: () => t, maxStaleMs: 200_000, log: () => {} });
  const tok = () => `at=${cp.sign({ iat: Math.floor(t / 1000) - 5, exp: Math.floor(t / 1000) + 600 })}`;
  assert.equal((await edge.handle(get("/dashboard", { cookie: tok() }))).action, "forward");
  t += 100_000; // within the list's exp: a 304 confirms it
  await edge.docs.revocations.refresh();
  assert.equal(edge.status().revocations.ageMs, 0);
  t += 30_000; // 130 s: past the list's exp (120 s)
  await edge.docs.revocations.refresh().catch(() => {});
  assert.equal(edge.status().revocations.ageMs, 30_000, "a list past its exp is not confirmed");
  t += 180_000; // 310 s: 210 s since the last confirmation that counted
  const stale = await edge.handle(get("/dashboard", { cookie: tok() }));
  assert.equal(stale.reason, "stale");
  assert.equal(stale.response.status, 503);
  cp.revocationList = signed;
  assert.equal((await edge.handle(get("/dashboard", { cookie: tok() }))).action, "forward", "a current list ends it");
});

test("a public page reached with a refused token is forwarded without identity, and the cookies cleared (as the Go edge clears them)", async () => {
  const cp = await controlPlane();
  const edge = createEdge({ module, controlPlane: cp.url, routes });
  const o = await edge.handle(get("/login", { cookie: "at=not-a-token; rt=r1; theme=dark" }));
  assert.equal(o.action, "forward", o.reason);
  assert.equal(o.identity, null);
  assert.equal(o.requestHeaders.get("x-edgeauth-session"), null);
  for (const name of ["at", "rt"]) {
    assert.ok(o.setCookies.some((c) => c.startsWith(`${name}=;`) && c.includes("Max-Age=0")), `${name} cleared: ${JSON.stringify(o.setCookies)}`);
  }
  const res = await edge.fetch(get("/login", { cookie: "at=not-a-token" }), () => new Response("login page"));
  assert.equal(res.status, 200);
  assert.equal(res.headers.getSetCookie().length, 2, "edge.fetch sets them on the app's answer");
});

test("a revoked session is refused once the list names it", async () => {
  let t = now;
  const cp = await controlPlane(() => t);
  const edge = createEdge({ module, controlPlane: cp.url, routes, now: () => t });
  const tok = `at=${cp.sign(fresh())}`;
  assert.equal((await edge.handle(get("/dashboard", { cookie: tok }))).action, "forward");
  cp.revoked = ["c2Vzc2lvbi1vbmUtMTIzNDU2"];
  t += 61_000;
  const background = [];
  assert.equal((await edge.handle(get("/dashboard", { cookie: tok }), { waitUntil: (p) => background.push(p) })).action, "forward",
    "the old list still holds while the new one is fetched");
  await Promise.all(background);
  const o = await edge.handle(get("/dashboard", { cookie: tok }));
  assert.equal(o.reason, "revoked");
  assert.equal(o.response.status, 302);
});

test("lists of one second add up, and an instance rebuilt for a new edge configuration still holds what each named", async () => {
  // Two replicas can sign lists in the same second on either side of a revocation; the
  // stream may push them in any order (verifier/ABI.md, "load_revocations").
  const cp = await controlPlane();
  const edge = createEdge({ module, controlPlane: cp.url, routes, log: () => {} });
  await edge.ready();
  const two = "c2Vzc2lvbi10d28tMTIzNDU2";
  const tokOne = `at=${cp.sign(fresh())}`, tokTwo = `at=${cp.sign({ ...fresh(), sid: two })}`;
  cp.revoked = ["c2Vzc2lvbi1vbmUtMTIzNDU2"];
  const first = cp.revocationList();
  cp.revoked = [two];
  const second = cp.revocationList();
  edge.docs.revocations.acceptBody(first);
  edge.docs.revocations.acceptBody(second);
  const reason = async (tok) => (await edge.handle(get("/dashboard", { cookie: tok }))).decision?.reason;
  assert.equal(await reason(tokOne), "revoked", "named by the first list of the second");
  assert.equal(await reason(tokTwo), "revoked", "named by the second");
  cp.edgeConfig = { ...edgeConfig, leeway_seconds: 1 };
  await edge.docs.config.refresh();
  assert.equal(edge.config.leeway_seconds, 1);
  assert.equal(await reason(tokOne), "revoked", "after the rebuild: named by the first list of the second");
  assert.equal(await reason(tokTwo), "revoked", "after the rebuild: named by the second");
});

test("a WebSocket upgrade is never refreshed at the edge: 401 token_expired, the refresh token left unspent", async () => {
  // The refresh cookie reaches a socket's path when its Path is / (as for refreshing at
  // the edge). Rotated at the edge, the new cookies could only ride on the 101: the Deno
  // recipe (edge.handle, then upgrade the request) answers without them, fetch in Node
  // and edge-runtime cannot proxy the upgrade at all, and a client other than a browser
  // keeps no cookies from a handshake. The client would keep a spent refresh token and
  // its next refresh would be refused as reused. The Go edge answers token_expired too.
  const cp = await controlPlane();
  const calls = [];
  cp.refresh = (req, res) => {
    calls.push(req.headers.cookie);
    res.writeHead(200, { "content-type": "application/json", "set-cookie": [`at=${cp.sign(fresh())}; Path=/; HttpOnly`, "rt=new; Path=/; HttpOnly"] }).end("{}");
  };
  const edge = createEdge({ module, controlPlane: cp.url, routes });
  const expired = cp.sign({ iat: Math.floor(now / 1000) - 700, exp: Math.floor(now / 1000) - 100 });
  for (const cookie of [`at=${expired}; rt=old`, "rt=old"]) {
    for (const upgrade of ["websocket", "WebSocket"]) {
      const o = await edge.handle(get("/live", { cookie, upgrade, connection: "Upgrade", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" }));
      assert.equal(o.response?.status, 401, `${cookie} ${upgrade}: ${o.reason}`);
      assert.equal((await o.response.json()).error.code, "token_expired");
      assert.deepEqual(o.response.headers.getSetCookie(), []);
    }
  }
  assert.deepEqual(calls, [], "the refresh token is not spent on an upgrade");
  // The client refreshes over HTTP (a page, or createAuthFetch's POST) and reconnects.
  const page = await edge.handle(get("/dashboard", { cookie: "rt=old" }));
  assert.equal(page.action, "forward");
  assert.deepEqual(calls, ["rt=old"]);
});

test("a WebSocket upgrade from another site's page is refused 403 origin_not_allowed, whatever its session (cross-site WebSocket hijacking)", async () => {
  // A browser sends the session cookie on a cross-site handshake when it is SameSite=None
  // (cross-domain setups): without an Origin check any page could open a socket as the
  // signed-in user. The Go edge's WebSocket proxy (wsauth) checks Origin too.
  const cp = await controlPlane();
  let refreshes = 0;
  cp.refresh = (req, res) => {
    refreshes++;
    res.writeHead(200, { "content-type": "application/json", "set-cookie": [`at=${cp.sign(fresh())}; Path=/; HttpOnly`, "rt=new; Path=/; HttpOnly"] }).end("{}");
  };
  const edge = createEdge({ module, controlPlane: cp.url, routes });
  const expired = cp.sign({ iat: Math.floor(now / 1000) - 700, exp: Math.floor(now / 1000) - 100 });
  const ws = { upgrade: "websocket", connection: "Upgrade", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" };
  const sessions = { valid: `at=${cp.sign(fresh())}`, "expired, refresh cookie": `at=${expired}; rt=old`, "refresh cookie only": "rt=old", none: undefined };
  for (const [session, cookie] of Object.entries(sessions)) {
    for (const origin of ["https://evil.example", "null", "http://app.test.evil.example", "https://app.test", "http://APP.test", "http://app.test:80", "http://app.test/", ""]) {
      const o = await edge.handle(get("/live", { ...ws, origin, ...(cookie && { cookie }) }));
      const what = `session ${session}, Origin ${JSON.stringify(origin)}`;
      assert.equal(o.action, "respond", `${what}: forwarded (${o.reason})`);
      assert.equal(o.response.status, 403, `${what}: ${o.reason}`);
      assert.equal(o.response.headers.get("content-type"), "application/json");
      assert.equal(o.response.headers.get("cache-control"), "no-store");
      assert.equal((await o.response.json()).error.code, "origin_not_allowed", what);
      assert.deepEqual(o.response.headers.getSetCookie(), [], what);
    }
  }
  assert.equal(refreshes, 0, "refused before any refresh");
  // The page's own origin opens it; so does a client that sends no Origin (not a browser).
  for (const origin of ["http://app.test", undefined]) {
    const o = await edge.handle(get("/live", { ...ws, cookie: `at=${cp.sign(fresh())}`, ...(origin && { origin }) }));
    assert.equal(o.action, "forward", `${origin}: ${o.reason}`);
    assert.match(o.requestHeaders.get("x-edgeauth-subject"), /^user-1$/);
  }
  // edge.fetch answers the refusal itself: the app never sees the upgrade.
  let reached = 0;
  const res = await edge.fetch(get("/live", { ...ws, origin: "https://evil.example", cookie: `at=${cp.sign(fresh())}` }), () => {
    reached++;
    return new Response("app");
  });
  assert.equal(res.status, 403);
  assert.equal(reached, 0);
  // A request that is not an upgrade is left to the CSRF rules: a cross-site GET of a page is decided by its session.
  assert.equal((await edge.handle(get("/dashboard", { origin: "https://evil.example", cookie: `at=${cp.sign(fresh())}` }))).action, "forward");
});

test("webSocketOrigins: the other origins whose pages may open a socket; the edge's own origin is the refresh call's (publicOrigin, ctx.origin, the URL's)", async () => {
  const cp = await controlPlane();
  const ws = { upgrade: "websocket", connection: "Upgrade", cookie: `at=${cp.sign(fresh())}` };
  const upgrade = (origin, url = "http://app.test/live") => new Request(url, { headers: { ...ws, origin } });
  // Read as wsauth reads AllowedOrigins (spaces and a trailing "/" trimmed), kept as a browser writes an origin.
  const edge = createEdge({ module, controlPlane: cp.url, routes, webSocketOrigins: [" https://Pages.Example:443/", "http://localhost:8080"] });
  for (const [origin, action] of [["https://pages.example", "forward"], ["http://localhost:8080", "forward"], ["http://app.test", "forward"],
    ["https://Pages.Example:443", "respond"], ["http://localhost:8081", "respond"], ["https://pages.example.evil.example", "respond"]]) {
    assert.equal((await edge.handle(upgrade(origin))).action, action, origin);
  }
  // Next's proxy sees its own listener's URL: the browser's origin is ctx.origin, as for the refresh call.
  const asNext = (origin) => upgrade(origin, "http://localhost:3000/live");
  assert.equal((await edge.handle(asNext("https://app.example"), { origin: "https://app.example" })).action, "forward");
  assert.equal((await edge.handle(asNext("http://localhost:3000"), { origin: "https://app.example" })).response?.status, 403);
  // publicOrigin over both.
  const pinned = createEdge({ module, controlPlane: cp.url, routes, publicOrigin: "https://www.example/" });
  assert.equal((await pinned.handle(asNext("https://www.example"), { origin: "https://app.example" })).action, "forward");
  assert.equal((await pinned.handle(asNext("https://app.example"), { origin: "https://app.example" })).response?.status, 403);
  assert.equal((await pinned.handle(upgrade("http://app.test"))).response?.status, 403);
  // Checked before anything else: an edge that has loaded nothing refuses it 403, not 503,
  // and a control-plane path is not forwarded.
  const downCP = await controlPlane();
  downCP.down = true;
  const down = createEdge({ module, controlPlane: downCP.url, routes, log: () => {} });
  assert.equal((await down.handle(upgrade("https://evil.example"))).response.status, 403);
  assert.equal((await down.handle(upgrade("http://app.test"))).response.status, 503);
  assert.equal((await edge.handle(upgrade("https://evil.example", "http://app.test/auth/socket"))).response?.status, 403);
  // Refused at createEdge, saying what to write.
  for (const bad of ["https://app.example/path", "app.example", "wss://app.example", "https://user@app.example", "https://app.example?x", "*", "", 7, "null",
    // Refused by wsauth too (internal/weborigin): a wildcard matches no Origin a browser sends,
    // and an escape is not how a browser writes a host.
    "https://*.app.example", "https://app%2Eexample", "https://app .example"]) {
    assert.throws(() => createEdge({ module, controlPlane: cp.url, webSocketOrigins: [bad] }), /webSocketOrigins: .* is not an origin/, String(bad));
  }
  assert.throws(() => createEdge({ module, controlPlane: cp.url, webSocketOrigins: "https://app.example" }), /webSocketOrigins must be a list/);
});

test("refresh at the edge: new cookies upstream and to the browser in one response; refused: login once", async () => {
  const cp = await controlPlane();
  const expired = cp.sign({ iat: Math.floor(now / 1000) - 700, exp: Math.floor(now / 1000) - 100 });
  const renewed = cp.sign(fresh());
  const calls = [];
  cp.refresh = (req, res) => {
    calls.push(`${req.method} ${req.headers.cookie} ${req.headers.origin}`);
    setTimeout(() => res.writeHead(200, { "content-type": "application/json", "set-cookie": [`at=${renewed}; Path=/; HttpOnly`, "rt=new-refresh; Path=/; HttpOnly"] }).end("{}"), 200);
  };
  const edge = createEdge({ module, controlPlane: cp.url, routes });
  // The app's own cookies go upstream as they came, whatever their names (an object's
  // inherited ones included).
  const cookie = `theme=dark; constructor=kept; toString=too; at=${expired}; rt=old-refresh`;
  const [o, o2] = await Promise.all([edge.handle(get("/dashboard", { cookie })), edge.handle(get("/dashboard", { cookie }))]);
  assert.deepEqual(calls, ["POST rt=old-refresh http://app.test"], "one refresh for concurrent requests with the same refresh token");
  for (const x of [o, o2]) {
    assert.equal(x.action, "forward");
    assert.equal(x.requestHeaders.get("cookie"), `theme=dark; constructor=kept; toString=too; at=${renewed}; rt=new-refresh`);
    assert.equal(x.requestHeaders.get("x-edgeauth-subject"), "user-1");
    assert.deepEqual(x.setCookies, [`at=${renewed}; Path=/; HttpOnly`, "rt=new-refresh; Path=/; HttpOnly"]);
  }
  // The adapter adds them to the app's response.
  const res = await edge.fetch(get("/dashboard", { cookie: `at=${expired}; rt=again` }), (req) => new Response(`hello ${req.headers.get("x-edgeauth-subject")}`));
  assert.equal(await res.text(), "hello user-1");
  assert.equal(res.headers.getSetCookie().length, 2);
  // The old pairs are replaced however they were spaced: names read as the module reads them.
  const spaced = await edge.handle(get("/dashboard", { cookie: `theme=dark;\tat\t=${expired} ; rt =again` }));
  assert.equal(spaced.action, "forward");
  assert.equal(spaced.requestHeaders.get("cookie"), `theme=dark; at=${renewed}; rt=new-refresh`);

  const clearing = ["at=; Path=/; Max-Age=0; HttpOnly", "rt=; Path=/; Max-Age=0; HttpOnly"];
  cp.refresh = (req, res) => res.writeHead(401, { "content-type": "application/json", "set-cookie": clearing }).end('{"error":{"code":"refresh_token_reused"}}');
  const refused = await edge.handle(get("/dashboard?x=1", { cookie: `at=${expired}; rt=stolen` }));
  assert.equal(refused.response.status, 302);
  assert.equal(refused.response.headers.get("location"), "/login?return_to=%2Fdashboard%3Fx%3D1");
  assert.deepEqual(refused.response.headers.getSetCookie(), clearing);
  // To an API request: 401 session_ended, with a challenge (every 401 carries one).
  const refusedAPI = await edge.handle(new Request("http://app.test/dashboard", { method: "POST", body: "a=1", headers: { cookie: `at=${expired}; rt=stolen`, "sec-fetch-mode": "cors" } }));
  assert.equal(refusedAPI.response.status, 401);
  assert.equal((await refusedAPI.response.json()).error.code, "session_ended");
  assert.equal(refusedAPI.response.headers.get("www-authenticate"), 'Bearer error="invalid_token"');
  // return_to follows the module's rule (SafeReturnTo) there too: a path that would
  // read as another site's address, or one too long to carry, goes without it.
  for (const path of ["//evil.example/x", `/dashboard?q=${"a".repeat(2100)}`]) {
    const unsafe = await edge.handle(get(path, { cookie: `at=${expired}; rt=stolen` }));
    assert.equal(unsafe.reason, "refresh_refused", path);
    assert.equal(unsafe.response.headers.get("location"), "/login", path);
  }
  // Without the refresh cookie (its Path does not cover the route): the redirect form.
  const viaBrowser = await edge.handle(get("/dashboard", { cookie: `at=${expired}` }));
  assert.equal(viaBrowser.response.status, 302);
  assert.match(viaBrowser.response.headers.get("location"), /^\/auth\/refresh\?return_to=/);
});

test("refresh at the edge: a refresh cookie sent twice is not chosen from: the control plane sees every copy, refuses, and the browser signs in", async () => {
  // A sibling subdomain can toss a refresh cookie of its own (a __Secure- name with
  // Domain= the parent, a longer Path so it is sent first). The control plane refuses
  // a refresh cookie sent twice rather than guess which copy is the browser's; an edge
  // that sent only the first would rotate the planted session and set its cookies in
  // the victim's browser (the victim signed in as the attacker).
  const cp = await controlPlane();
  const expired = cp.sign({ iat: Math.floor(now / 1000) - 700, exp: Math.floor(now / 1000) - 100 });
  const clearing = ["at=; Path=/; Max-Age=0; HttpOnly", "rt=; Path=/; Max-Age=0; HttpOnly"];
  const calls = [];
  cp.refresh = (req, res) => {
    calls.push(req.headers.cookie);
    // As the control plane answers (cookies.Spec.Read): one copy rotates, two are refused.
    if ((req.headers.cookie ?? "").split("; ").filter((p) => p.startsWith("rt=")).length !== 1) {
      return res.writeHead(401, { "content-type": "application/json", "set-cookie": clearing }).end('{"error":{"code":"refresh_token_missing"}}');
    }
    res.writeHead(200, { "content-type": "application/json", "set-cookie": [`at=${cp.sign({ ...fresh(), sub: "attacker" })}; Path=/; HttpOnly`, "rt=next; Path=/; HttpOnly"] }).end("{}");
  };
  const edge = createEdge({ module, controlPlane: cp.url, routes });
  for (const [name, cookie] of [["expired access token", `at=${expired}; rt=planted; rt=mine`], ["no access token", "rt=planted; theme=dark; rt=mine"]]) {
    calls.length = 0;
    const o = await edge.handle(get("/dashboard", { cookie }));
    assert.deepEqual(calls, ["rt=planted; rt=mine"], `${name}: every copy goes to the control plane, none chosen`);
    assert.notEqual(o.action, "forward", `${name}: forwarded as ${o.identity?.sub}`);
    assert.equal(o.response.status, 302, name);
    assert.equal(o.response.headers.get("location"), "/login?return_to=%2Fdashboard", name);
    assert.deepEqual(o.response.headers.getSetCookie(), clearing, name);
  }
});

test("refresh at the edge: only a 401 ends the session; a refresh refused for the request (403, 400) falls back to the browser's own refresh", async () => {
  // The control plane refuses a session's refresh only with 401 (refresh_token_missing,
  // _invalid, _reused) and clears both cookies. A 403 cross_site_request or a 400 is
  // about the edge's request (a publicOrigin not in allowed_origins, say): the session
  // is fine, and the browser's own GET /auth/refresh, with its real Origin, may pass.
  const cp = await controlPlane();
  const expired = cp.sign({ iat: Math.floor(now / 1000) - 700, exp: Math.floor(now / 1000) - 100 });
  const logs = [];
  const edge = createEdge({ module, controlPlane: cp.url, routes, log: (e) => logs.push(e) });
  for (const [status, code] of [[403, "cross_site_request"], [400, "invalid_request"], [415, "unsupported_media_type"]]) {
    cp.refresh = (req, res) => res.writeHead(status, { "content-type": "application/json" }).end(`{"error":{"code":"${code}"}}`);
    const o = await edge.handle(get("/dashboard?x=1", { cookie: `at=${expired}; rt=live` }));
    assert.equal(o.response.status, 302, String(status));
    assert.match(o.response.headers.get("location"), /^\/auth\/refresh\?return_to=%2Fdashboard%3Fx%3D1/, String(status));
    assert.deepEqual(o.response.headers.getSetCookie(), [], `${status}: the cookies stay`);
    const api = await edge.handle(new Request("http://app.test/dashboard", { method: "POST", body: "a=1", headers: { cookie: `at=${expired}; rt=live`, "sec-fetch-mode": "cors" } }));
    assert.equal(api.response.status, 401, String(status));
    assert.equal((await api.response.json()).error.code, "token_expired", String(status));
  }
  assert.ok(logs.some((e) => e.event === "refresh_request_refused" && e.level === "error" && e.status === 403), JSON.stringify(logs));
});

test("refresh at the edge: a HEAD or a prefetch does not rotate the session; the navigation that follows does", async () => {
  // A prefetch (Next's router, <link rel=prefetch>, speculation rules) or a HEAD (a link
  // checker) rotated the refresh token: its answer, and the new cookies in it, may be
  // thrown away, or race the navigation it foretells, which then presents the spent
  // token (the control plane refuses a HEAD on /auth/refresh for the same reason).
  const cp = await controlPlane();
  const expired = cp.sign({ iat: Math.floor(now / 1000) - 700, exp: Math.floor(now / 1000) - 100 });
  let calls = 0;
  cp.refresh = (req, res) => {
    calls++;
    res.writeHead(200, { "content-type": "application/json", "set-cookie": [`at=${cp.sign(fresh())}; Path=/; HttpOnly`, "rt=new; Path=/; HttpOnly"] }).end("{}");
  };
  const edge = createEdge({ module, controlPlane: cp.url, routes });
  const cookie = `at=${expired}; rt=old`;
  const head = await edge.handle(new Request("http://app.test/dashboard", { method: "HEAD", headers: { cookie } }));
  assert.equal(head.response.status, 302, "HEAD: the redirect form, which the control plane answers 405 to a HEAD");
  assert.match(head.response.headers.get("location"), /^\/auth\/refresh\?/);
  assert.deepEqual(head.response.headers.getSetCookie(), []);
  for (const prefetch of [{ "next-router-prefetch": "1", rsc: "1" }, { purpose: "prefetch" }, { "sec-purpose": "prefetch" }, { "sec-purpose": "prefetch;prerender" }]) {
    const o = await edge.handle(get("/dashboard", { cookie, ...prefetch }));
    const name = JSON.stringify(prefetch);
    // Not a redirect either: following it to /auth/refresh would rotate there.
    assert.equal(o.response?.status, 401, name);
    assert.equal(o.response.headers.get("cache-control"), "no-store", name);
    assert.deepEqual(o.response.headers.getSetCookie(), [], name);
    assert.equal(o.reason, "prefetch_needs_refresh", name);
  }
  assert.equal(calls, 0, "no refresh for a HEAD or a prefetch");
  const nav = await edge.handle(get("/dashboard", { cookie }));
  assert.equal(nav.action, "forward");
  assert.equal(calls, 1);
});

test("refresh at the edge: Origin is ctx.origin when the adapter gives one (Next), publicOrigin over both", async () => {
  const cp = await controlPlane();
  const expired = cp.sign({ iat: Math.floor(now / 1000) - 700, exp: Math.floor(now / 1000) - 100 });
  const origins = [];
  let n = 0;
  cp.refresh = (req, res) => {
    origins.push(req.headers.origin);
    res.writeHead(200, { "content-type": "application/json", "set-cookie": [`at=${cp.sign(fresh())}; Path=/; HttpOnly`, `rt=r${++n}; Path=/; HttpOnly`] }).end("{}");
  };
  const edge = createEdge({ module, controlPlane: cp.url, routes });
  // Next's proxy sees http://localhost:3000/... whatever origin the browser used.
  const asNext = () => new Request("http://localhost:3000/dashboard", { headers: { cookie: `at=${expired}; rt=old-${n}` } });
  assert.equal((await edge.handle(asNext(), { origin: "https://app.example" })).action, "forward");
  assert.equal((await edge.handle(asNext())).action, "forward");
  const pinned = createEdge({ module, controlPlane: cp.url, routes, publicOrigin: "https://www.example/" });
  assert.equal((await pinned.handle(asNext(), { origin: "https://app.example" })).action, "forward");
  assert.deepEqual(origins, ["https://app.example", "http://localhost:3000", "https://www.example"]);
});

test("a refreshed token that is already expired here (clock skew): 503 once with the new cookies, never a redirect loop", async () => {
  const cp = await controlPlane();
  // The control plane's clock is ten minutes behind the edge's: what it issues as fresh
  // has expired by the edge's clock.
  const expired = cp.sign({ iat: Math.floor(now / 1000) - 1300, exp: Math.floor(now / 1000) - 700 });
  const stale = cp.sign({ iat: Math.floor(now / 1000) - 605, exp: Math.floor(now / 1000) - 5 });
  let refreshes = 0;
  cp.refresh = (req, res) => {
    refreshes++;
    res.writeHead(200, { "content-type": "application/json", "set-cookie": [`at=${stale}; Path=/; HttpOnly`, `rt=next-${refreshes}; Path=/; HttpOnly`] }).end("{}");
  };
  const logs = [];
  const edge = createEdge({ module, controlPlane: cp.url, routes, apiPrefixes: ["/api/"], log: (e) => logs.push(e) });
  let cookie = `at=${expired}; rt=first`;
  for (const [path, json] of [["/dashboard", false], ["/api/me", true], ["/dashboard", false]]) {
    const before = refreshes;
    const o = await edge.handle(get(path, { cookie }));
    assert.equal(refreshes, before + 1, `${path}: one refresh call, not a retry loop`);
    assert.equal(o.action, "respond");
    assert.equal(o.reason, "clock_skew");
    assert.equal(o.response.status, 503, `${path}: an answer, not a redirect to refresh or login`);
    assert.equal(o.response.headers.get("location"), null);
    assert.equal(o.response.headers.get("retry-after"), "5");
    assert.equal(o.response.headers.get("content-type").startsWith("application/json"), json);
    assert.match(await o.response.text(), /check the edge's clock/);
    // The rotation happened: the browser must keep the successor, or its next visit
    // would present a used refresh token (reuse detection would end the session).
    const set = o.response.headers.getSetCookie();
    assert.deepEqual(set, [`at=${stale}; Path=/; HttpOnly`, `rt=next-${refreshes}; Path=/; HttpOnly`]);
    cookie = `at=${stale}; rt=next-${refreshes}`;
  }
  assert.equal(logs.filter((e) => e.event === "refresh_loop_prevented").length, 3);
});

test("cookie-to-Bearer: API prefix forwarded with Authorization and without cookies", async () => {
  const cp = await controlPlane();
  const edge = createEdge({ module, controlPlane: cp.url, routes, bearerProxy: [{ prefix: "/api/", upstream: "http://backend.internal:9000/v1", stripPrefix: true }] });
  const tok = cp.sign(fresh());
  const o = await edge.handle(get("/api/items?limit=5", { cookie: `theme=dark; at=${tok}`, authorization: "Bearer spoofed" }));
  assert.equal(o.upstream, "http://backend.internal:9000/v1/items?limit=5");
  assert.equal(o.requestHeaders.get("authorization"), `Bearer ${tok}`);
  assert.equal(o.requestHeaders.get("cookie"), null);
  const anon = await edge.handle(get("/api/items"));
  assert.equal(anon.response.status, 401);
  // The control plane's own paths pass through unchanged (cookies included).
  const auth = await edge.handle(get("/auth/login", { cookie: "rt=x", "x-edgeauth-subject": "spoof" }));
  assert.equal(auth.upstream, `${cp.url}/auth/login`);
  assert.equal(auth.requestHeaders.get("cookie"), "rt=x");
  assert.equal(auth.requestHeaders.get("x-edgeauth-subject"), null);
});

test("cookie-to-Bearer: the token is read as the module reads it (quotes and tabs stripped)", async () => {
  // RFC 6265 lets a cookie value be quoted; the module strips one pair of quotes and
  // SP/HTAB around names and values, so the Bearer token must be that same value.
  const cp = await controlPlane();
  const edge = createEdge({ module, controlPlane: cp.url, routes, bearerProxy: [{ prefix: "/api/", upstream: "http://backend.internal:9000" }] });
  const tok = cp.sign(fresh());
  for (const cookie of [`at="${tok}"`, `theme=dark;\tat\t=\t${tok}`, `theme=dark; at= "${tok}" `]) {
    const o = await edge.handle(get("/api/items", { cookie }));
    assert.equal(o.upstream, "http://backend.internal:9000/api/items", cookie);
    assert.equal(o.requestHeaders.get("authorization"), `Bearer ${tok}`, cookie);
  }
});

test("cookie-to-Bearer: stripPrefix keeps the upstream's host and path whatever the prefix's form", async () => {
  const cp = await controlPlane();
  const edge = createEdge({ module, controlPlane: cp.url, routes, bearerProxy: [
    { prefix: "/graphql", upstream: "http://gql.internal", stripPrefix: true },
    { prefix: "/api/", upstream: "http://backend.internal:9000/v1", stripPrefix: true },
  ] });
  const cookie = `at=${cp.sign(fresh())}`;
  for (const [path, want] of [["/graphql?op=me", "http://gql.internal/?op=me"], ["/api", "http://backend.internal:9000/v1/"], ["/api/users/7?x=1", "http://backend.internal:9000/v1/users/7?x=1"]]) {
    const o = await edge.handle(get(path, { cookie }));
    assert.equal(o.action, "forward", path);
    assert.equal(o.upstream, want, `${path}: the Bearer token goes to the configured backend only`);
  }
});

test("edge.fetch proxying: the client's hop-by-hop headers stay at the edge, the body passes through unchanged", async () => {
  // An origin that echoes what reached it. Node's HTTP server (edge-runtime's too) hands a
  // request's Transfer-Encoding, Expect, Keep-Alive and Connection over with the others;
  // Node's fetch refuses to send them (it threw: 500), and fetch elsewhere sent them on,
  // with the fields Connection names, to a connection they do not describe.
  const origin = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c)).on("end", () => res.end(JSON.stringify({ body, headers: req.headers })));
  });
  await new Promise((r) => origin.listen(0, "127.0.0.1", r));
  after(() => origin.close());
  const cp = await controlPlane();
  const edge = createEdge({ module, controlPlane: cp.url, routes });
  const cookie = `at=${cp.sign(fresh())}`;
  for (const hop of [
    { "transfer-encoding": "chunked" },
    { expect: "100-continue" },
    { "keep-alive": "timeout=5", "proxy-connection": "keep-alive", te: "trailers" },
    { connection: "keep-alive, X-Hop", "x-hop": "1" },
    { connection: "Upgrade, HTTP2-Settings", upgrade: "h2c", "http2-settings": "AAMAAABkAAQAAP__" },
  ]) {
    const request = new Request("http://app.test/dashboard?x=1", { method: "POST", body: "hello \u00e9", headers: { cookie, "content-type": "text/plain", ...hop } });
    const res = await edge.fetch(request, `http://127.0.0.1:${origin.address().port}`);
    assert.equal(res.status, 200, JSON.stringify(hop));
    const seen = await res.json();
    assert.equal(seen.body, "hello \u00e9", "the body as the client sent it");
    assert.equal(seen.headers["content-type"], "text/plain");
    assert.equal(seen.headers["x-edgeauth-subject"], "user-1");
    for (const name of ["x-hop", "upgrade", "http2-settings", "expect", "keep-alive", "proxy-connection", "te"]) {
      assert.equal(seen.headers[name], undefined, `${JSON.stringify(hop)}: ${name} not forwarded`);
    }
  }
  // The control plane's paths are proxied the same way.
  const login = await edge.fetch(new Request("http://app.test/auth/login", { method: "POST", body: "{}", headers: { expect: "100-continue", "transfer-encoding": "chunked" } }), () => assert.fail("not the app"));
  assert.equal(await login.text(), "control plane saw /auth/login");
});

test("edge.fetch proxying a WebSocket upgrade where fetch opens no WebSocket (Node, edge-runtime, Deno): 501 websocket_unsupported", async () => {
  // Node's fetch (undici) refuses a request with Upgrade (edge.fetch threw: the server's
  // 500); Deno's sends a plain GET and the upstream's answer to it went to the client.
  // Only workerd's fetch opens a WebSocket (examples/test/websocket.test.mjs).
  let reached = 0;
  const origin = createServer((req, res) => {
    reached++;
    res.writeHead(426).end();
  });
  origin.on("upgrade", (req, sock) => {
    reached++;
    sock.destroy();
  });
  await new Promise((r) => origin.listen(0, "127.0.0.1", r));
  after(() => new Promise((r) => { origin.closeAllConnections?.(); origin.close(r); }));
  const cp = await controlPlane();
  const edge = createEdge({ module, controlPlane: cp.url, routes, bearerProxy: [{ prefix: "/bearer/", upstream: `http://127.0.0.1:${origin.address().port}` }] });
  const upgrade = { upgrade: "websocket", connection: "Upgrade", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" };
  for (const [path, app] of [["/live", `http://127.0.0.1:${origin.address().port}`], ["/bearer/live", () => assert.fail("not the app")]]) {
    const res = await edge.fetch(get(path, { ...upgrade, cookie: `at=${cp.sign(fresh())}` }), app);
    assert.equal(res.status, 501, path);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.equal((await res.json()).error.code, "websocket_unsupported", path);
  }
  assert.equal(reached, 0, "the origin is not asked");
  // Refused at the edge as before: the refusal, not 501.
  const refused = await edge.fetch(get("/live", upgrade), `http://127.0.0.1:${origin.address().port}`);
  assert.equal(refused.status, 401);
  // The app itself (a function) answers an upgrade as it can.
  const own = await edge.fetch(get("/live", { ...upgrade, cookie: `at=${cp.sign(fresh())}` }), (req) => new Response(`app ${req.headers.get("upgrade")}`, { status: 426 }));
  assert.equal(await own.text(), "app websocket");
});

test("edge.fetch proxying: a gzip answer fetch decoded goes to the client without its Content-Encoding", async () => {
  // Node's fetch (undici) decodes a gzip or br body and keeps Content-Encoding and
  // Content-Length: handed on as they were, the client got a plain body labelled gzip
  // (which it fails to decode) with the compressed length.
  const text = "hello from the origin ".repeat(200);
  const gz = gzipSync(text);
  const origin = createServer((req, res) => res.writeHead(200, { "content-type": "text/plain", "content-encoding": "gzip", "content-length": gz.length }).end(gz));
  await new Promise((r) => origin.listen(0, "127.0.0.1", r));
  after(() => new Promise((r) => { origin.closeAllConnections?.(); origin.close(r); }));
  const cp = await controlPlane();
  const expired = cp.sign({ iat: Math.floor(now / 1000) - 700, exp: Math.floor(now / 1000) - 100 });
  cp.refresh = (req, res) => res.writeHead(200, { "content-type": "application/json", "set-cookie": [`at=${cp.sign(fresh())}; Path=/; HttpOnly`, "rt=new; Path=/; HttpOnly"] }).end("{}");
  const edge = createEdge({ module, controlPlane: cp.url, routes });
  // What a client that asked for gzip reads: the bytes, decoded as the headers say.
  const received = async (res) => {
    const bytes = Buffer.from(await res.arrayBuffer());
    const length = res.headers.get("content-length");
    if (length !== null) assert.equal(Number(length), bytes.length, "Content-Length is the length sent");
    return res.headers.get("content-encoding") === "gzip" ? gunzipSync(bytes).toString() : bytes.toString();
  };
  for (const cookie of [`at=${cp.sign(fresh())}`, `at=${expired}; rt=old`]) {
    const request = get("/dashboard", { cookie, "accept-encoding": "gzip" });
    const res = await edge.fetch(request, `http://127.0.0.1:${origin.address().port}`);
    assert.equal(res.status, 200);
    assert.equal(await received(res), text, cookie.includes("rt=") ? "with refreshed cookies" : "as proxied");
  }
});

test("edge.fetch proxying: an origin that cannot be reached is a 502, and a refresh made for the request still reaches the browser", async () => {
  // fetch rejected, so edge.fetch rejected and the runtime answered 500. Worse, when the
  // edge had refreshed for the request, the new cookies were lost with it: the control
  // plane had rotated, the browser kept the spent refresh token, and its next refresh
  // after the grace window reads as reuse and ends the session.
  const gone = createServer();
  await new Promise((r) => gone.listen(0, "127.0.0.1", r));
  const port = gone.address().port;
  await new Promise((r) => gone.close(r));
  const cp = await controlPlane();
  const expired = cp.sign({ iat: Math.floor(now / 1000) - 700, exp: Math.floor(now / 1000) - 100 });
  const renewed = [`at=${cp.sign(fresh())}; Path=/; HttpOnly`, "rt=new; Path=/; HttpOnly"];
  cp.refresh = (req, res) => res.writeHead(200, { "content-type": "application/json", "set-cookie": renewed }).end("{}");
  const logs = [];
  const edge = createEdge({ module, controlPlane: cp.url, routes, log: (e) => logs.push(e) });
  const plain = await edge.fetch(get("/dashboard", { cookie: `at=${cp.sign(fresh())}` }), `http://127.0.0.1:${port}`);
  assert.equal(plain.status, 502);
  assert.equal(plain.headers.get("cache-control"), "no-store");
  assert.deepEqual(plain.headers.getSetCookie(), []);
  const refreshed = await edge.fetch(get("/dashboard", { cookie: `at=${expired}; rt=old` }), `http://127.0.0.1:${port}`);
  assert.equal(refreshed.status, 502);
  assert.deepEqual(refreshed.headers.getSetCookie(), renewed, "the rotated cookies go to the browser with the 502");
  assert.ok(logs.some((e) => e.event === "upstream_unreachable" && e.level === "error" && e.upstream === `http://127.0.0.1:${port}`), JSON.stringify(logs));
});

test("edge.fetch: an upstream's failure is logged without the request's query", async () => {
  // Deno's fetch names the URL in its error ("error sending request for url (...)"), and
  // the query is the client's: a token in it reached upstream_unreachable. The Go edge
  // logs the upstream's host and the transport's error, not the URL (edge.ProxyError).
  const token = "Query-Tok3n-Secret";
  const cp = await controlPlane();
  const logs = [];
  const denoFetch = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (url.startsWith(cp.url)) return fetch(input, init);
    throw new TypeError(`error sending request for url (${url}): client error (Connect): tcp connect error: Connection refused (os error 111)`);
  };
  const edge = createEdge({ module, controlPlane: cp.url, routes, fetch: denoFetch, log: (e) => logs.push(e) });
  const res = await edge.fetch(get(`/dashboard?access_token=${token}&x=1`, { cookie: `at=${cp.sign(fresh())}` }), "http://127.0.0.1:9");
  assert.equal(res.status, 502);
  const failed = logs.find((e) => e.event === "upstream_unreachable");
  assert.ok(failed && /Connection refused/.test(failed.error), JSON.stringify(logs));
  const text = JSON.stringify(logs);
  assert.ok(!text.includes(token), `the query's token reached the log: ${text.replaceAll(token, "<secret>")}`);
});

test("edge.fetch: an app that throws after a refresh at the edge still hands the browser its new cookies", async () => {
  // The control plane has rotated; lost with the exception, the new cookies would leave the
  // browser the spent refresh token, read as reuse once the grace window is over.
  const cp = await controlPlane();
  const expired = cp.sign({ iat: Math.floor(now / 1000) - 700, exp: Math.floor(now / 1000) - 100 });
  const renewed = [`at=${cp.sign(fresh())}; Path=/; HttpOnly`, "rt=new; Path=/; HttpOnly"];
  cp.refresh = (req, res) => res.writeHead(200, { "content-type": "application/json", "set-cookie": renewed }).end("{}");
  const logs = [];
  const edge = createEdge({ module, controlPlane: cp.url, routes, log: (e) => logs.push(e) });
  const boom = () => { throw new Error("the app broke"); };
  const res = await edge.fetch(get("/dashboard", { cookie: `at=${expired}; rt=old` }), boom);
  assert.equal(res.status, 500);
  assert.deepEqual(res.headers.getSetCookie(), renewed);
  // The exception's type and where it was thrown, not its message, as the control plane
  // logs a handler's panic (httpapi: the type and the stack, never the value).
  assert.ok(logs.some((e) => e.event === "app_failed" && e.level === "error" && e.error_type === "Error" && /^\s+at boom /m.test(e.stack)), JSON.stringify(logs));
  // With nothing to hand on, the app's exception is the runtime's to report, as before.
  await assert.rejects(edge.fetch(get("/dashboard", { cookie: `at=${cp.sign(fresh())}` }), boom), /the app broke/);
});

test("edge.fetch: an app's exception after a refresh at the edge is logged without its message, which may carry a secret", async () => {
  const cp = await controlPlane();
  const expired = cp.sign({ iat: Math.floor(now / 1000) - 700, exp: Math.floor(now / 1000) - 100 });
  cp.refresh = (req, res) => res.writeHead(200, { "content-type": "application/json", "set-cookie": [`at=${cp.sign(fresh())}; Path=/`, "rt=new; Path=/"] }).end("{}");
  const logs = [];
  const edge = createEdge({ module, controlPlane: cp.url, routes, log: (e) => logs.push(e) });
  const secret = "Db-Passw0rd-of-the-app";
  const app = () => { throw new Error(`connect postgres://app:${secret}@db.internal/app: connection refused (token=${secret})`); };
  const res = await edge.fetch(get("/dashboard", { cookie: `at=${expired}; rt=old` }), app);
  assert.equal(res.status, 500);
  const text = JSON.stringify(logs);
  assert.ok(logs.some((e) => e.event === "app_failed"), text);
  assert.ok(!text.includes(secret), `the app's secret reached the log: ${text.replaceAll(secret, "<secret>")}`);
});

test("options: mistakes say what to fix", () => {
  assert.throws(() => createEdge({ controlPlane: "http://x" }), /module is required/);
  assert.throws(() => createEdge({ module, controlPlane: "auth.example.com" }), /controlPlane must be an absolute http\(s\) URL/);
  assert.throws(() => createEdge({ module, controlPlane: "http://x", routes: { issuer: "y" } }), /routes.issuer comes from the control plane's edge configuration/);
  assert.throws(() => createEdge({ module, controlPlane: "http://x", routes: { publik: [] } }), /routes.publik is not a route rule/);
  assert.throws(() => createEdge({ module, controlPlane: "http://x", apiPrefixes: ["api"] }), /apiPrefixes: "api" is not a path prefix/);
  assert.throws(() => createEdge({ module, controlPlane: "http://x", maxStale: 5 }), /unknown option "maxStale"/);
});

test("options: a URL's password or query never reaches the error that refuses it", () => {
  // As the Go edge's refused --control-plane (hostdemo TestBinaryLogsHoldNoURLPassword):
  // a configuration error is printed, logged and kept in deploy logs.
  const secret = "Cp-Basic-Passw0rd";
  const cases = [
    ["controlPlane", { controlPlane: `http://edge:${secret}@127.0.0.1:bad` }],
    ["controlPlane", { controlPlane: `http://127.0.0.1:bad/?token=${secret}` }],
    ["webSocketOrigins", { controlPlane: "http://x", webSocketOrigins: [`https://app:${secret}@app.example`] }],
    ["webSocketOrigins", { controlPlane: "http://x", webSocketOrigins: [`https://app.example/?token=${secret}`] }],
  ];
  for (const [name, options] of cases) {
    let err;
    try {
      createEdge({ module, ...options });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof TypeError, `${name} accepted`);
    assert.match(err.message, new RegExp(name));
    assert.ok(!err.message.includes(secret), `the secret reached the error: ${err.message.replaceAll(secret, "<secret>")}`);
  }
});

test("a configuration the module refuses is reported with the module's reason", async () => {
  const cp = await controlPlane();
  const edge = createEdge({ module, controlPlane: cp.url, routes: { protected: [{ prefix: "/login" }] } });
  await assert.rejects(edge.ready(), (err) =>
    /refused the edge configuration plus routes: login_path "\/login" needs a token .* add "\/login" to public_paths/.test(err.message) &&
    err.cause?.status === "InvalidConfig");
});

// waitUntil waits for cond (the stream's work happens between the edge's calls), up to
// 10 s, a guard only a failing test reaches; then asserts it.
async function waitUntil(what, cond) {
  for (let i = 0; i < 1000 && !(await cond()); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(await cond(), what);
}

test("revocation stream: a pushed list is loaded at once, a revoked event fetches the list, Last-Event-ID on reconnect", async () => {
  let t = now;
  const cp = await controlPlane(() => t);
  const edge = createEdge({ module, controlPlane: cp.url, routes, now: () => t, revocationStream: true, log: () => {} });
  after(() => edge.close());
  const tok = `at=${cp.sign(fresh())}`;
  assert.equal((await edge.handle(get("/dashboard", { cookie: tok }))).action, "forward");
  await waitUntil("stream connected", () => cp.streams.length === 1 && edge.stream.connected);
  const polls = cp.hits["/.well-known/edgeauth/revocations"];

  // A list pushed on the stream: the session is refused without any poll (max-age 60 s not reached).
  cp.revoked = ["c2Vzc2lvbi1vbmUtMTIzNDU2"];
  t += 1000;
  cp.push("revocations", cp.revocationList(), "7");
  await waitUntil("pushed list applied", async () => (await edge.handle(get("/dashboard", { cookie: tok }))).reason === "revoked");
  assert.equal(cp.hits["/.well-known/edgeauth/revocations"], polls, "no poll");

  // A revoked event: the edge fetches the list at once.
  const other = `at=${cp.sign({ ...fresh(), sid: "c2Vzc2lvbi10d28tMTIzNDU2" })}`;
  assert.equal((await edge.handle(get("/dashboard", { cookie: other }))).action, "forward");
  cp.revoked.push("c2Vzc2lvbi10d28tMTIzNDU2");
  t += 1000;
  cp.push("revoked", revokedEvent(cp, { sid: "c2Vzc2lvbi10d28tMTIzNDU2" }), "8");
  await waitUntil("list fetched after the event", () => cp.hits["/.well-known/edgeauth/revocations"] === polls + 1);
  assert.equal((await edge.handle(get("/dashboard", { cookie: other }))).reason, "revoked");

  // The stream drops: the edge reconnects with the last id it applied.
  cp.streams.shift().res.end();
  await waitUntil("reconnected", () => cp.streams.length === 1);
  assert.equal(cp.streams[0].lastEventId, "8");
});

// revokedEvent is a `revoked` event of the revocation stream as the control plane signs
// it (controlplane/README.md, "Revocation stream"); claims and header replace its parts.
function revokedEvent(cp, claims = {}, header = {}, key = cp.keys[0]) {
  const iat = Math.floor(cp.clock() / 1000);
  return jws(key, { typ: "edgeauth-revocation+jwt", ...header }, { iss: ISSUER, iat, sid: "c2Vzc2lvbi1vbmUtMTIzNDU2", seq: 9, reason: "logout", ...claims });
}

test("revocation stream: a session pushed as revoked is refused at once while the list stalls, and stays refused when a list that predates it arrives", async () => {
  let t = now;
  const cp = await controlPlane(() => t);
  const logs = [];
  const edge = createEdge({ module, controlPlane: cp.url, routes: { ...routes, public_paths: [...routes.public_paths, "/about"] }, apiPrefixes: ["/api/"], now: () => t, revocationStream: true, log: (e) => logs.push(e) });
  after(() => edge.close());
  const tok = `at=${cp.sign(fresh())}; rt=r1`;
  const other = `at=${cp.sign({ ...fresh(), sid: "c2Vzc2lvbi10d28tMTIzNDU2" })}`;
  assert.equal((await edge.handle(get("/dashboard", { cookie: tok }))).action, "forward");
  await waitUntil("stream connected", () => cp.streams.length === 1 && edge.stream.connected);
  const list = "/.well-known/edgeauth/revocations";
  const polls = cp.hits[list];

  // The replica is slow: the list fetch the event starts stalls, and when it comes it
  // was built before the revocation (it does not name the session).
  cp.delay[list] = 1500;
  t += 1000;
  cp.push("revoked", revokedEvent(cp), "9");
  await waitUntil("the event's list fetch started", () => cp.hits[list] === polls + 1);
  assert.ok(edge.docs.revocations.inflight, "the list fetch is still pending");
  const page = await edge.handle(get("/dashboard", { cookie: tok }));
  assert.equal(page.reason, "revoked", `right after the push, with the list stalled: ${page.action} ${page.response?.status ?? ""}`);
  assert.equal(page.response.status, 302);
  assert.equal(page.response.headers.get("location"), "/login?return_to=%2Fdashboard");
  const cleared = (o) => ["at", "rt"].every((n) => (o.response?.headers.getSetCookie() ?? o.setCookies).some((c) => c.startsWith(`${n}=;`) && c.includes("Max-Age=0")));
  assert.ok(cleared(page), "both cookies cleared");
  const api = await edge.handle(get("/api/me", { cookie: tok }));
  assert.equal(api.response.status, 401);
  assert.equal((await api.response.json()).error.code, "unauthenticated");
  assert.equal(api.response.headers.get("www-authenticate"), 'Bearer error="invalid_token"');
  assert.ok(cleared(api), "both cookies cleared (API)");
  const pub = await edge.handle(get("/about", { cookie: tok }));
  assert.equal(pub.action, "forward", `${pub.reason} ${JSON.stringify(pub.decision)}`);
  assert.equal(pub.identity, null);
  assert.equal(pub.requestHeaders.get("x-edgeauth-session"), null);
  assert.ok(cleared(pub), "both cookies cleared (public page)");
  assert.equal((await edge.handle(get("/dashboard", { cookie: other }))).action, "forward", "another session is left alone");

  // The stalled list arrives (iat before the push, not naming the session), then a
  // pushed list of the same moment: neither forgets the revocation.
  await waitUntil("the stalled list loaded", () => edge.docs.revocations.inflight === null);
  delete cp.delay[list];
  assert.equal((await edge.handle(get("/dashboard", { cookie: tok }))).reason, "revoked", "after the stalled list");
  t += 1000;
  cp.push("revocations", cp.revocationList(), "10");
  await waitUntil("pushed list applied", () => edge.docs.revocations.body === cp.revocationList());
  assert.equal((await edge.handle(get("/dashboard", { cookie: tok }))).reason, "revoked", "after a list of the same minute that omits it");
  assert.ok(!logs.some((e) => e.event === "revocation_event_refused"), JSON.stringify(logs));

  // A list issued more than the leeway (60 s) after the push, which a revoked session
  // is still in (the control plane names it for the access token's lifetime), is the
  // truth: one that omits the session ends the edge's own memory of it.
  t += 61_000;
  cp.push("revocations", cp.revocationList(), "11");
  await waitUntil("a later list applied", async () => (await edge.handle(get("/dashboard", { cookie: tok }))).action === "forward");
});

test("revocation stream: a revoked event that fails a check (signature, issuer, typ, kid, algorithm, sid) changes nothing", async () => {
  let t = now;
  const cp = await controlPlane(() => t);
  const logs = [];
  const edge = createEdge({ module, controlPlane: cp.url, routes, now: () => t, revocationStream: true, log: (e) => logs.push(e) });
  after(() => edge.close());
  const tok = `at=${cp.sign(fresh())}`;
  assert.equal((await edge.handle(get("/dashboard", { cookie: tok }))).action, "forward");
  await waitUntil("stream connected", () => cp.streams.length === 1 && edge.stream.connected);
  const good = revokedEvent(cp);
  const [h, p] = good.split(".");
  const forged = {
    "bad signature": `${h}.${p}.${revokedEvent(cp, { sid: "c2Vzc2lvbi10d28tMTIzNDU2" }).split(".")[2]}`,
    "other issuer": revokedEvent(cp, { iss: "https://evil.example" }),
    "wrong typ": revokedEvent(cp, {}, { typ: "edgeauth-revocations+jwt" }),
    "no typ": revokedEvent(cp, {}, { typ: undefined }),
    "unknown kid": revokedEvent(cp, {}, {}, keyPair("k2")),
    "known kid, another key": revokedEvent(cp, {}, {}, { ...keyPair("k2"), kid: "k1" }),
    "algorithm not allowed": `${b64url({ alg: "none", kid: "k1", typ: "edgeauth-revocation+jwt" })}.${p}.${good.split(".")[2]}`,
    "crit": revokedEvent(cp, {}, { crit: ["exp"], exp: 1 }),
    "empty sid": revokedEvent(cp, { sid: "" }),
    "sid not a string": revokedEvent(cp, { sid: ["c2Vzc2lvbi1vbmUtMTIzNDU2"] }),
    "not a JWS": "not-a-jws",
  };
  const why = {
    "bad signature": /SignatureInvalid/, "other issuer": /issuer/, "wrong typ": /typ/, "no typ": /typ/, "unknown kid": /unknown kid/,
    "known kid, another key": /SignatureInvalid/, "algorithm not allowed": /algorithm/, "crit": /unsupported header/,
    "empty sid": /payload/, "sid not a string": /payload/, "not a JWS": /compact JWS/,
  };
  let id = 100;
  for (const [name, data] of Object.entries(forged)) {
    const before = logs.filter((e) => e.event === "revocation_event_refused").length;
    cp.push("revoked", data, String(++id));
    await waitUntil(`${name}: refused`, () => logs.filter((e) => e.event === "revocation_event_refused").length === before + 1);
    assert.equal((await edge.handle(get("/dashboard", { cookie: tok }))).action, "forward", name);
    assert.match(logs.findLast((e) => e.event === "revocation_event_refused").error, why[name], name);
  }
  // The resume id stays at the last event applied (none), so a reconnect asks again.
  cp.streams.shift().res.end();
  await waitUntil("reconnected", () => cp.streams.length === 1);
  assert.equal(cp.streams[0].lastEventId, null);
  // The genuine event, for contrast.
  cp.push("revoked", good, "200");
  await waitUntil("the genuine event refuses the session", async () => (await edge.handle(get("/dashboard", { cookie: tok }))).reason === "revoked");
});

test("revocation stream: a revoked event signed by a key rotated in since the keys were fetched fetches them and refuses its session at once, as sessionauth does", async () => {
  let t = now;
  const cp = await controlPlane(() => t);
  const logs = [];
  const edge = createEdge({ module, controlPlane: cp.url, routes, now: () => t, revocationStream: true, log: (e) => logs.push(e) });
  after(() => edge.close());
  const tok = `at=${cp.sign(fresh())}`;
  assert.equal((await edge.handle(get("/dashboard", { cookie: tok }))).action, "forward");
  await waitUntil("stream connected", () => cp.streams.length === 1 && edge.stream.connected);
  const list = "/.well-known/edgeauth/revocations";

  // The control plane rotates: k2 signs from now on, events and lists. The list fetch
  // the event starts stalls, and when it comes it was built before the revocation.
  cp.keys.unshift(keyPair("k2"));
  cp.delay[list] = 1500;
  t += 1000;
  cp.push("revoked", revokedEvent(cp), "9");
  await waitUntil("the event applied or refused", () => edge.stream.lastEventId === "9" || logs.some((e) => e.event === "revocation_event_refused"));
  assert.ok(!logs.some((e) => e.event === "revocation_event_refused"), JSON.stringify(logs.filter((e) => e.event === "revocation_event_refused")));
  assert.ok(edge.docs.revocations.inflight, "the list fetch is still pending");
  assert.equal((await edge.handle(get("/dashboard", { cookie: tok }))).reason, "revoked", "right after the push, with the list stalled");
  await waitUntil("the stalled list loaded", () => edge.docs.revocations.inflight === null);
  assert.equal((await edge.handle(get("/dashboard", { cookie: tok }))).reason, "revoked", "after a list that predates the revocation");
});

test("revocation stream: a stream that stays open but pushes no list (its replica cannot rebuild or sign) does not stop the polls: the list is fetched once past its max-age", async () => {
  let t = now;
  const cp = await controlPlane(() => t);
  const edge = createEdge({ module, controlPlane: cp.url, routes, now: () => t, revocationStream: true, log: () => {} });
  after(() => edge.close());
  const tok = `at=${cp.sign(fresh())}`;
  assert.equal((await edge.handle(get("/dashboard", { cookie: tok }))).action, "forward");
  await waitUntil("stream connected", () => cp.streams.length === 1 && edge.stream.connected);

  // The session is revoked elsewhere; the stream says nothing (only heartbeats would
  // come). Past the list's max-age (60 s) the edge polls, as it does without a stream.
  cp.revoked = ["c2Vzc2lvbi1vbmUtMTIzNDU2"];
  t += 90_000;
  await waitUntil("the revocation reaches the edge through a poll", async () => (await edge.handle(get("/dashboard", { cookie: tok }))).reason === "revoked");
});

test("revocation stream: a connect that failed at once does not cut the next, healthy connection", async () => {
  const { RevocationStream } = await import("../src/stream.mjs");
  const timeoutMs = 1000; // longer than the first retry's wait (at most 500 ms)
  let calls = 0;
  const failures = [];
  const fakeFetch = async (url, init) => {
    if (++calls === 1) throw new TypeError("fetch failed: ECONNREFUSED"); // a control plane restarting
    // A healthy stream: open until aborted.
    return new Response(new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(": hello\n\n"));
        init.signal.addEventListener("abort", () => c.error(init.signal.reason));
      },
    }), { status: 200, headers: { "content-type": "text/event-stream" } });
  };
  const log = (e) => e.event === "revocation_stream_failed" && failures.push(e.error);
  const s = new RevocationStream({ url: "http://cp.test/stream", fetch: fakeFetch, timeoutMs, log, onList() {}, onRevoked() {} }).start();
  try {
    for (let i = 0; i < 1000 && !s.connected; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(s.connected, "the second connect succeeds");
    // A timer set now for timeoutMs expires after the failed connect's (set earlier, for
    // the same time), and Node runs timers in order of expiry: had that one been left
    // armed, the connection would be cut by now.
    await new Promise((r) => setTimeout(r, timeoutMs));
    assert.deepEqual(failures, ["fetch failed: ECONNREFUSED"]);
    assert.equal(calls, 2);
    assert.ok(s.connected);
  } finally {
    s.stop();
  }
});

test("revocation stream: a stream the server closes at once is retried with growing, jittered waits, reset by a connection that lasted", async () => {
  // A control plane (or a proxy in front) that accepts the stream and ends it at once:
  // each connect "worked", which set the wait back to 500 ms, so the edge reconnected
  // twice a second forever. The clock, the randomness and the wait's timer are fakes:
  // the waits asked for are recorded and end at once.
  const { RevocationStream } = await import("../src/stream.mjs");
  let clock = 0;
  const lives = [0, 0, 0, 0, 0, 0, 0, 0, 30_000]; // ms each connection stays open; then 0
  const fakeFetch = async () => {
    const life = lives.shift() ?? 0;
    return new Response(new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(": hello\n\n"));
      },
      pull(c) {
        clock += life;
        c.close();
      },
    }), { status: 200, headers: { "content-type": "text/event-stream" } });
  };
  const waits = [];
  let s;
  const timers = {
    setTimeout(fn, ms) {
      waits.push(ms);
      if (waits.length === 10) s.stop();
      else setImmediate(fn);
      return waits.length;
    },
    clearTimeout() {},
  };
  // The tenth wait draws the lowest jitter: half the backoff.
  const random = () => (waits.length === 9 ? 0 : 1);
  s = new RevocationStream({ url: "http://cp.test/stream", fetch: fakeFetch, timeoutMs: 1000, log() {}, onList() {}, onRevoked() {}, nowMs: () => clock, random, timers }).start();
  try {
    for (let i = 0; i < 2000 && waits.length < 10; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(waits, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 500, 500]);
  } finally {
    s.stop();
  }
});

test("revocation stream: a CRLF line end split across two chunks is one line end", async () => {
  // "\r" ends one chunk and "\n" begins the next: read alone, the "\n" was an empty line,
  // which ended the event early and lost its type (SSE allows CR, LF and CRLF).
  const { RevocationStream } = await import("../src/stream.mjs");
  const chunks = ["event: revoked\r", "\nid: 7\r\ndata: X\r", "\n\r", "\n"];
  const body = new ReadableStream({
    start(c) {
      for (const chunk of chunks) c.enqueue(new TextEncoder().encode(chunk));
      c.close();
    },
  });
  // The stream's end makes it connect again: that second fetch says the body was read.
  let read;
  const bodyRead = new Promise((resolve) => (read = resolve));
  let fetches = 0;
  const fakeFetch = async () => {
    if (fetches++ === 0) return new Response(body, { headers: { "content-type": "text/event-stream" } });
    read();
    throw new TypeError("fetch failed: ECONNREFUSED");
  };
  let received = null;
  const s = new RevocationStream({ url: "http://cp.test/stream", fetch: fakeFetch, timeoutMs: 1000, log() {}, onList() {}, onRevoked: (jws) => void (received = jws) }).start();
  await bodyRead;
  s.stop();
  assert.equal(received, "X");
  assert.equal(s.lastEventId, "7");
});

test("revocation stream: stop() (edge.close()) while it waits to reconnect ends it at once, no timer left to hold the process", async () => {
  // A control plane down for a while: the waits between attempts grow to 30 s. close()
  // (a Node server shutting down) waited out the current one, and its timer kept the
  // process alive that long.
  const { RevocationStream } = await import("../src/stream.mjs");
  let calls = 0;
  const fakeFetch = async () => {
    calls++;
    throw new TypeError("fetch failed: ECONNREFUSED");
  };
  const s = new RevocationStream({ url: "http://cp.test/stream", fetch: fakeFetch, timeoutMs: 1000, log() {}, onList() {}, onRevoked() {} }).start();
  // The first attempt fails at once; the loop then waits up to 500 ms (wake is its way out).
  // No clock is read: a loaded machine changes nothing below.
  while (!s.wake) await new Promise((r) => setImmediate(r));
  assert.equal(calls, 1);
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
  const before = timers();
  s.stop();
  assert.equal(timers(), before - 1, "stop() cleared the wait's timer");
  // At once: the loop settles in the microtasks stop() started, before any timer or
  // I/O callback could run (a wait left to expire would settle up to 500 ms later).
  const settled = await Promise.race([s.loop.then(() => "ended"), new Promise((r) => setImmediate(() => r("still waiting")))]);
  assert.equal(settled, "ended", "the loop ended at once after stop()");
  assert.equal(calls, 1, "no attempt after stop()");
});

test("revocation stream: edge.close() before the edge started holds: no stream is opened later", async () => {
  // A server shutting down closes its edge, maybe while the first request still loads the
  // documents, or after the control plane was down at start: the edge then starts, and
  // opened a stream nothing would close.
  for (const when of ["while starting", "before a retry"]) {
    const cp = await controlPlane();
    cp.down = when === "before a retry";
    const edge = createEdge({ module, controlPlane: cp.url, routes, revocationStream: true, log: () => {} });
    after(() => edge.stream?.stop()); // what close() missed
    const first = edge.ready();
    if (cp.down) {
      await assert.rejects(first);
      edge.close();
      cp.down = false;
      await edge.ready();
    } else {
      edge.close();
      await first;
    }
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(cp.streams.length, 0, `${when}: no stream after close()`);
    assert.equal((await edge.handle(get("/dashboard", { cookie: `at=${cp.sign(fresh())}` }))).action, "forward", `${when}: the edge still decides, polling`);
  }
});

// The operations the benchmark times, the same in every runtime. Each op does one unit
// of work and returns a promise (or nothing); the driver times batches of them from
// outside the runtime (workerd's clocks do not advance during computation).
//
// edgeauth and jose apply the same policy: issuer, audience, typ at+jwt, the three
// algorithms, 30 s leeway, a key per kid from the same JWKS.

// A repeat visitor's request as a browser sends it: the usual headers, and a Cookie
// header with the access token among other cookies.
const BROWSER_HEADERS = {
  accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
  "accept-encoding": "gzip, deflate, br, zstd",
  "accept-language": "en-GB,en;q=0.9",
  "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36",
  referer: "https://app.bench.test/",
  "sec-fetch-dest": "document",
  "sec-fetch-mode": "navigate",
  "sec-fetch-site": "same-origin",
  "upgrade-insecure-requests": "1",
  "x-forwarded-for": "203.0.113.7",
};

export async function prepare({ fx, module, createEdge, Verifier, jose }) {
  const routes = { public_paths: ["/login", "/auth/"], protected: [{ prefix: "/admin/", roles: ["admin"] }], default_protected: true, cache_entries: 1024 };
  const docs = {
    "/.well-known/edgeauth/edge-config": [JSON.stringify(fx.edgeConfig), "application/json"],
    "/.well-known/jwks.json": [JSON.stringify(fx.jwks), "application/json"],
    "/.well-known/edgeauth/revocations": [fx.revocations, "application/jwt"],
  };
  // The documents come from memory: the benchmark measures the edge, not a network.
  const memoryFetch = async (url) => {
    const d = docs[new URL(url).pathname];
    return d ? new Response(d[0], { headers: { "content-type": d[1], etag: '"1"', "cache-control": "max-age=86400" } }) : new Response(null, { status: 404 });
  };
  const nowMs = () => fx.now * 1000;
  const edge = createEdge({ module, controlPlane: "https://cp.bench.test", routes, fetch: memoryFetch, now: nowMs, maxStaleMs: 365 * 864e5 });
  await edge.ready();

  // No verified-token cache: every call verifies the signature. cold checks every
  // signature in the module; twoPhase hands RS256 ones to WebCrypto (verifyTokenAsync),
  // in every runtime (left to itself, a Deno Verifier keeps them in the module, which is
  // faster there: moduleSignaturesFaster).
  const cold = new Verifier(module, { moduleSignatures: true });
  const twoPhase = new Verifier(module, { moduleSignatures: false });
  for (const v of [cold, twoPhase]) {
    v.configure({ ...fx.edgeConfig, ...routes, cache_entries: 0 });
    v.loadKeys(fx.jwks);
  }

  // The public Verifier API as a host uses it: configured, keys and revocation list loaded.
  const verifier = new Verifier(module);
  verifier.configure({ ...fx.edgeConfig, ...routes });
  verifier.loadKeys(fx.jwks);
  verifier.loadRevocations(fx.revocations, fx.now);

  const jwks = jose.createLocalJWKSet(fx.jwks);
  const policy = { issuer: fx.issuer, audience: fx.issuer, typ: "at+jwt", algorithms: ["EdDSA", "ES256", "RS256"], clockTolerance: 30, currentDate: new Date(fx.now * 1000) };
  // Warm jose's per-kid key import (createLocalJWKSet caches imported keys).
  for (const alg of Object.keys(fx.tokens)) await jose.jwtVerify(fx.tokens[alg][0], jwks, policy);

  const visitor = fx.tokens.EdDSA[0];
  const cookie = `theme=dark; at=${visitor}`;
  const path = "/dashboard";
  const request = new Request(`https://app.bench.test${path}`, { headers: { ...BROWSER_HEADERS, cookie } });
  const readCookie = (header) => {
    for (const pair of (header ?? "").split(";")) {
      const i = pair.indexOf("=");
      if (pair.slice(0, i).trim() === "at") return pair.slice(i + 1).trim();
    }
    return null;
  };
  // The route policy a jose user writes to match edgeauth's: public paths, protected
  // prefixes with roles (longest match wins), protected by default.
  const matches = (p, prefix) => (prefix.endsWith("/") ? p.startsWith(prefix) || p === prefix.slice(0, -1) : p === prefix);
  const needs = (p) => {
    let best = null;
    for (const r of routes.protected) if (matches(p, r.prefix) && (!best || r.prefix.length > best.prefix.length)) best = r;
    if (best) return best;
    if (routes.public_paths.some((pp) => matches(p, pp))) return null;
    return routes.default_protected ? { roles: [] } : null;
  };
  const memo = new Map(); // what a careful user writes: token -> claims, exp checked on a hit
  const joseDecide = (cookieHeader, p, now) => {
    const rule = needs(p);
    const token = readCookie(cookieHeader);
    if (!token) return rule ? "redirect" : "public";
    const claims = memo.get(token);
    if (!claims || claims.exp + 30 < now || claims.nbf - 30 > now) {
      // A miss: verify, remember, decide on the next call (the benchmark measures hits).
      return jose.jwtVerify(token, jwks, policy).then(({ payload }) => void memo.set(token, payload)).then(() => joseDecide(cookieHeader, p, now));
    }
    if (rule && !rule.roles.every((r) => claims.roles?.includes(r))) return "deny";
    return claims;
  };
  let i = 0;
  const next = (alg) => fx.tokens[alg][i++ % fx.tokens[alg].length];

  const ops = { noop: () => {} };
  for (const alg of ["EdDSA", "ES256", "RS256"]) {
    ops[`cold ${alg}: edgeauth`] = () => cold.verifyToken(next(alg), fx.now);
    ops[`cold ${alg}: jose`] = () => jose.jwtVerify(next(alg), jwks, policy);
  }
  // The two-phase path: the module checks everything but the arithmetic, WebCrypto that.
  ops["cold RS256: edgeauth two-phase (verifyTokenAsync, WebCrypto)"] = () => twoPhase.verifyTokenAsync(next("RS256"), fx.now);
  // Decision only: method, path and Cookie header in, allow with the identity out.
  ops["repeat visitor, decision: edgeauth Verifier.decide (compact form)"] = () => {
    const d = verifier.decide({ method: "GET", path, cookies: cookie }, fx.now * 1000);
    if (d.action !== "allow" || !d.identity) throw new Error(`Verifier.decide: ${d.reason}`);
  };
  ops["repeat visitor, decision: edgeauth Verifier.decideJSON (JSON form, before)"] = () => {
    const d = verifier.decideJSON({ method: "GET", path, cookies: cookie }, fx.now * 1000);
    if (d.action !== "allow" || !d.identity) throw new Error(`Verifier.decideJSON: ${d.reason}`);
  };
  ops["repeat visitor, decision: jose + Map (cookie, lookup, exp, route policy)"] = () => {
    const claims = joseDecide(cookie, path, fx.now);
    if (claims.then) return claims;
    if (!claims.sub) throw new Error("jose + Map: no sub");
  };
  // The whole request: a Fetch Request in, what to forward (headers with the identity) out.
  ops["repeat visitor, request: edgeauth edge.handle"] = async () => {
    const o = await edge.handle(request);
    if (o.action !== "forward" || !o.identity || !o.requestHeaders) throw new Error(`edge.handle: ${o.reason}`);
  };
  ops["repeat visitor, request: jose + Map, forwarding identity headers"] = async () => {
    const url = new URL(request.url);
    let claims = joseDecide(request.headers.get("cookie"), url.pathname, fx.now);
    if (claims.then) claims = await claims;
    if (!claims.sub) throw new Error("jose + Map: no sub");
    const h = new Headers(request.headers);
    // The same five headers edge.handle sets.
    for (const name of ["x-user-sub", "x-user-session", "x-user-roles", "x-user-expires-at", "x-user-second-factor"]) h.delete(name);
    h.set("x-user-sub", claims.sub);
    h.set("x-user-session", claims.sid);
    h.set("x-user-roles", claims.roles.join(","));
    h.set("x-user-expires-at", String(claims.exp));
    h.set("x-user-second-factor", String(Array.isArray(claims.amr) && claims.amr.includes("mfa")));
  };
  ops["repeat visitor, request: jose, no cache"] = async () => {
    const { payload } = await jose.jwtVerify(readCookie(request.headers.get("cookie")), jwks, policy);
    if (!payload.sub) throw new Error("no sub");
  };
  ops["instance ready: edgeauth Verifier + configure + load_keys"] = () => {
    const v = new Verifier(module);
    v.configure({ ...fx.edgeConfig, ...routes });
    v.loadKeys(fx.jwks);
  };
  ops["instance ready: jose importJWK x3"] = () => Promise.all(fx.jwks.keys.map((k) => jose.importJWK(k, k.alg)));
  return ops;
}

/** run runs op n times (sequentially) and reports failures as errors. */
export async function run(ops, name, n) {
  const op = ops[name];
  if (!op) throw new Error(`unknown op ${name}`);
  for (let k = 0; k < n; k++) {
    const r = op();
    if (r !== undefined) await r; // only asynchronous ops pay for an await
  }
}

// The operations the benchmark times, the same in every runtime. Each op does one unit
// of work and returns a promise (or nothing); the driver times batches of them from
// outside the runtime (workerd's clocks do not advance during computation).
//
// edgeauth and jose apply the same policy: issuer, audience, typ at+jwt, the three
// algorithms, 30 s leeway, a key per kid from the same JWKS.

export async function prepare({ fx, module, createEdge, Verifier, jose }) {
  const routes = { public_paths: ["/login", "/auth/"], default_protected: true, cache_entries: 1024 };
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

  const cold = new Verifier(module); // no verified-token cache: every call verifies the signature
  cold.configure({ ...fx.edgeConfig, ...routes, cache_entries: 0 });
  cold.loadKeys(fx.jwks);

  const jwks = jose.createLocalJWKSet(fx.jwks);
  const policy = { issuer: fx.issuer, audience: fx.issuer, typ: "at+jwt", algorithms: ["EdDSA", "ES256", "RS256"], clockTolerance: 30, currentDate: new Date(fx.now * 1000) };
  // Warm jose's per-kid key import (createLocalJWKSet caches imported keys).
  for (const alg of Object.keys(fx.tokens)) await jose.jwtVerify(fx.tokens[alg][0], jwks, policy);

  const visitor = fx.tokens.EdDSA[0];
  const request = new Request("https://app.bench.test/dashboard", { headers: { cookie: `theme=dark; at=${visitor}` } });
  const readCookie = (req) => {
    for (const pair of (req.headers.get("cookie") ?? "").split(";")) {
      const i = pair.indexOf("=");
      if (pair.slice(0, i).trim() === "at") return pair.slice(i + 1).trim();
    }
    return null;
  };
  const memo = new Map(); // what a careful user writes: token -> claims, exp checked on a hit
  let i = 0;
  const next = (alg) => fx.tokens[alg][i++ % fx.tokens[alg].length];

  const ops = { noop: () => {} };
  for (const alg of ["EdDSA", "ES256", "RS256"]) {
    ops[`cold ${alg}: edgeauth`] = () => cold.verifyToken(next(alg), fx.now);
    ops[`cold ${alg}: jose`] = () => jose.jwtVerify(next(alg), jwks, policy);
  }
  ops["repeat visitor: edgeauth edge.handle"] = async () => {
    const o = await edge.handle(request);
    if (o.action !== "forward" || !o.identity) throw new Error(`edge.handle: ${o.reason}`);
  };
  ops["repeat visitor: jose, no cache"] = async () => {
    const { payload } = await jose.jwtVerify(readCookie(request), jwks, policy);
    if (!payload.sub) throw new Error("no sub");
  };
  ops["repeat visitor: jose + Map cache"] = async () => {
    const token = readCookie(request);
    let claims = memo.get(token);
    if (!claims || claims.exp + 30 < fx.now) {
      claims = (await jose.jwtVerify(token, jwks, policy)).payload;
      memo.set(token, claims);
    }
    if (!claims.sub) throw new Error("no sub");
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
  for (let k = 0; k < n; k++) await op();
}

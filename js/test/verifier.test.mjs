// Loads ../verifier.wasm in Node exactly as an edge runtime would (compiled module, no
// imports), then decides requests with tokens signed here by hand.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { runInNewContext } from "node:vm";
import { sign } from "node:crypto";
import { testKey } from "./keys.mjs";
import { Verifier, EdgeauthError, REQUIRED_EXPORTS, TWO_PHASE_EXPORTS, toUnixSeconds, cookieHeaders } from "../src/verifier.mjs";

const wasm = await readFile(new URL("../../verifier/verifier.wasm", import.meta.url));
const module = await WebAssembly.compile(wasm);

const NOW = 1767225600;
const ISSUER = "https://auth.example.test";
const AUDIENCE = "https://app.example.test";

const config = {
  issuer: ISSUER,
  audience: AUDIENCE,
  algorithms: ["EdDSA"],
  leeway_seconds: 0,
  access_cookie: { name: "__Host-edgeauth", path: "/", secure: true, http_only: true, same_site: "Lax" },
  refresh_cookie: { name: "__Secure-edgeauth-refresh", path: "/auth", secure: true, http_only: true, same_site: "Lax" },
  login_path: "/login",
  refresh_path: "/auth/refresh",
  public_paths: ["/login", "/auth/"],
  protected: [{ prefix: "/app/" }],
  default_protected: true,
  cache_entries: 64,
};

const { publicKey, privateKey } = testKey("ed25519", 0);
const jwk = { ...publicKey.export({ format: "jwk" }), kid: "k1", alg: "EdDSA", use: "sig" };

const b64url = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

function token(claims) {
  const input = `${b64url({ alg: "EdDSA", kid: "k1", typ: "at+jwt" })}.${b64url(claims)}`;
  return `${input}.${sign(null, Buffer.from(input), privateKey).toString("base64url")}`;
}

const claims = (over = {}) => ({
  iss: ISSUER, aud: AUDIENCE, sub: "user-1", sid: "c2Vzc2lvbi1pZC0xMjM0NTY", roles: ["member"],
  jti: "t1", iat: NOW - 10, nbf: NOW - 10, exp: NOW + 600, ...over,
});

function ready() {
  const v = new Verifier(module);
  v.configure(config);
  v.loadKeys({ keys: [jwk] });
  return v;
}

const request = (cookies) => ({ method: "GET", path: "/app/home", cookies });

test("module has the ABI exports, no imports, version 1", () => {
  const names = WebAssembly.Module.exports(module).map((e) => e.name);
  for (const name of Object.keys(REQUIRED_EXPORTS)) assert.ok(names.includes(name), name);
  assert.ok(names.includes("memory"));
  assert.deepEqual(WebAssembly.Module.imports(module), []);
  const v = new Verifier(module);
  assert.equal(v.x.abi_version(), 1);
  assert.equal(v.cap, 256 * 1024);
});

test("a valid token is allowed with its identity", () => {
  const d = ready().decide(request([`__Host-edgeauth=${token(claims())}`]), NOW);
  assert.equal(d.action, "allow");
  assert.equal(d.identity.sub, "user-1");
  assert.equal(d.identity.sid, "c2Vzc2lvbi1pZC0xMjM0NTY");
  assert.deepEqual(d.identity.roles, ["member"]);
  assert.equal(d.identity.exp, NOW + 600);
});

test("verify_token returns the claims, and the error names the status", () => {
  const v = ready();
  const c = v.verifyToken(token(claims()), NOW);
  assert.equal(c.iss, ISSUER);
  assert.deepEqual(c.aud, [AUDIENCE]);
  assert.throws(() => v.verifyToken(token(claims({ exp: NOW - 1 })), NOW),
    (e) => e instanceof EdgeauthError && e.status === "Expired" && e.code === 7);
});

test("a tampered token redirects to login and clears the cookie", () => {
  const t = token(claims());
  const [h, , s] = t.split(".");
  const forged = `${h}.${b64url(claims({ roles: ["admin"] }))}.${s}`;
  const d = ready().decide(request([`__Host-edgeauth=${forged}`]), NOW);
  assert.equal(d.action, "redirect");
  assert.equal(d.status, 302);
  assert.match(d.location, /^\/login\?return_to=/);
  assert.ok(d.clear_cookies.some((c) => c.startsWith("__Host-edgeauth=;") && /Max-Age=0/.test(c)), d.clear_cookies.join(" | "));
});

test("an expired token with a refresh cookie goes through refresh", () => {
  const expired = token(claims({ iat: NOW - 700, nbf: NOW - 700, exp: NOW - 100 }));
  const d = ready().decide(request([`__Host-edgeauth=${expired}; __Secure-edgeauth-refresh=opaque`]), NOW);
  assert.equal(d.action, "refresh");
  assert.equal(d.status, 302);
  assert.match(d.location, /^\/auth\/refresh\?return_to=/);
});

test("inputs larger than the buffer are refused", () => {
  const v = ready();
  assert.throws(() => v.verifyToken("a".repeat(v.cap + 1), NOW), (e) => e.status === "InputTooLarge");
  // Fewer characters than the buffer has bytes, more bytes once encoded (UTF-8).
  assert.throws(() => v.verifyToken("é".repeat(v.cap / 2 + 1), NOW), (e) => e.status === "InputTooLarge");
  assert.throws(() => v.verifySignature(new Uint8Array(v.cap + 1)), (e) => e.status === "InputTooLarge");
  // Exactly the buffer's size is written and checked (a token of that size is refused as one).
  assert.throws(() => v.verifyToken("é".repeat(v.cap / 2), NOW), (e) => e.status !== "InputTooLarge");
  const good = token(claims({}));
  assert.equal(v.verifyToken(good, NOW).sub, "user-1");
});

test("the module exports the ABI and nothing else", () => {
  const names = WebAssembly.Module.exports(module).map((e) => e.name).sort();
  assert.deepEqual(names, ["memory", ...Object.keys(REQUIRED_EXPORTS), ...Object.keys(TWO_PHASE_EXPORTS)].sort());
});

test("now: a Date, milliseconds and fractional seconds all mean the same second", () => {
  const v = ready();
  const t = token(claims());
  const cookie = [`__Host-edgeauth=${t}`];
  for (const now of [NOW, NOW + 0.75, NOW * 1000, NOW * 1000 + 999, new Date(NOW * 1000), BigInt(NOW)]) {
    assert.equal(v.decide(request(cookie), now).action, "allow", String(now));
  }
  // Today's time in fractional seconds is read as seconds. The clock is read once: two
  // reads straddle a second boundary now and then, and the assertion failed then.
  const wall = Date.now();
  assert.equal(toUnixSeconds(wall / 1000), BigInt(Math.floor(wall / 1000)));
  // Milliseconds are not taken for seconds far in the future (which would expire every token).
  assert.equal(v.decide(request(cookie), (NOW + 601) * 1000).reason, "token_expired");
  assert.throws(() => v.decide(request(cookie), NaN), RangeError);
  assert.throws(() => v.decide(request(cookie), "soon"), TypeError);
});

test("now: a time outside the module's i64 seconds is a RangeError, never wrapped into range", () => {
  // The module takes now as an i64; JS converts a BigInt to one modulo 2^64, so an
  // unchecked 2^64 + NOW would be decided as NOW, and 1e300 ms as whatever it wraps to.
  const v = ready();
  const cookie = [`__Host-edgeauth=${token(claims())}`];
  for (const now of [2n ** 64n + BigInt(NOW), 2n ** 63n, -(2n ** 63n) - 1n, 1e300, -1e300, 2 ** 63 * 1000]) {
    assert.throws(() => v.decide(request(cookie), now), RangeError, `decide at ${now}`);
    assert.throws(() => v.decideJSON(request(cookie), now), RangeError, `decideJSON at ${now}`);
    assert.throws(() => v.verifyToken(token(claims()), now), RangeError, `verifyToken at ${now}`);
    assert.throws(() => toUnixSeconds(now), RangeError, `toUnixSeconds(${now})`);
  }
  // The ends of the range are times the module takes (and refuses the token at).
  assert.equal(toUnixSeconds(2n ** 63n - 1n), 2n ** 63n - 1n);
  assert.equal(v.decide(request(cookie), 2n ** 63n - 1n).reason, "token_expired");
  assert.equal(v.decide(request(cookie), -(2n ** 63n)).reason, "token_not_yet_valid");
  assert.equal(v.decide(request(cookie), BigInt(NOW)).action, "allow");
});

test("types: every member verifyToken's claims and decide's identity carry is declared (js/types)", async () => {
  // A member the module returns but the declarations leave out is a compile error for a
  // TypeScript caller that reads it (claims.mfa: the sign-in used a second factor).
  const dts = await readFile(new URL("../types/index.d.ts", import.meta.url), "utf8");
  const members = (name) => {
    const body = dts.match(new RegExp(`export interface ${name} \\{([^}]*)\\}`))?.[1];
    assert.ok(body, `interface ${name} in index.d.ts`);
    return new Set([...body.matchAll(/^\s*(?:readonly\s+)?(\w+)\??:/gm)].map((m) => m[1]));
  };
  const v = ready();
  const full = token(claims({ amr: ["pwd", "mfa"], sess_exp: NOW + 3600 }));
  const claimsDeclared = members("Claims");
  for (const key of Object.keys(v.verifyToken(full, NOW))) assert.ok(claimsDeclared.has(key), `Claims lacks ${key}`);
  const identityDeclared = members("Identity");
  for (const key of Object.keys(v.decide(request(`__Host-edgeauth=${full}`), NOW).identity)) assert.ok(identityDeclared.has(key), `Identity lacks ${key}`);
});

test("now: a Date of another realm (edge-runtime's sandbox, a vm context) is a Date", () => {
  // The package and its caller may hold different globals, as isWasmModule allows for
  // the module: such a Date fails instanceof Date but is a Date all the same.
  const v = ready();
  const cookie = [`__Host-edgeauth=${token(claims())}`];
  const foreign = runInNewContext(`new Date(${NOW * 1000 + 999})`);
  assert.ok(!(foreign instanceof Date));
  assert.equal(toUnixSeconds(foreign), BigInt(NOW));
  assert.equal(v.decide(request(cookie), foreign).action, "allow");
  assert.equal(v.decide(request(cookie), runInNewContext(`new Date(${(NOW + 601) * 1000})`)).reason, "token_expired");
  assert.throws(() => v.decide(request(cookie), runInNewContext("new Date(NaN)")), RangeError);
  // Something that only says it is a Date is not one.
  assert.throws(() => v.decide(request(cookie), { [Symbol.toStringTag]: "Date", getTime: () => NOW * 1000 }), TypeError);
});

test("cookies: none, null entries, repeated headers, and no split at ', '", () => {
  const v = ready();
  const t = token(claims());
  for (const cookies of [undefined, null, [null], [], [undefined, ""]]) {
    assert.equal(v.decide(request(cookies), NOW).reason, "no_token", JSON.stringify(cookies));
  }
  const h = new Headers();
  h.append("cookie", "theme=dark");
  h.append("cookie", `__Host-edgeauth=${t}`);
  // Node's Headers join repeated Cookie headers with "; " (RFC 9113), as Deno.serve does.
  assert.equal(v.decide(request(h), NOW).action, "allow");
  assert.equal(v.decide(request(["theme=dark", `__Host-edgeauth=${t}`]), NOW).action, "allow", "separate headers in a list");
  // One header with a token inside another cookie's value (a sibling subdomain can set
  // one): never the access cookie, in either form of the call.
  const smuggled = `theme=dark, __Host-edgeauth=${t}`;
  assert.deepEqual(cookieHeaders(smuggled), [smuggled]);
  assert.equal(v.decide(request(smuggled), NOW).reason, "no_token");
  assert.equal(v.decideJSON(request(smuggled), NOW).reason, "no_token");
  // Two access cookies in two headers are still a duplicate.
  h.append("cookie", `__Host-edgeauth=${t}`);
  assert.equal(v.decide(request(h), NOW).reason, "duplicate_cookie");
});

test("decide (decide_compact) and decideJSON (decide) agree, cold and cached", () => {
  const t = token(claims());
  const admin = token(claims({ roles: [] }));
  const expired = token(claims({ iat: NOW - 700, nbf: NOW - 700, exp: NOW - 100 }));
  const [h, , s] = t.split(".");
  const forged = `${h}.${b64url(claims({ roles: ["admin"] }))}.${s}`;
  const at = (x) => `__Host-edgeauth=${x}`;
  const requests = [
    { method: "GET", path: "/app/home", query: "tab=1", cookies: [`theme=dark; ${at(t)}`] },
    { method: "GET", path: "/", cookies: [at(t)] },
    { method: "GET", path: "/login", query: "return_to=%2Fapp%2Fx", cookies: [at(t)] },
    { method: "GET", path: "/app/home", query: "a=é&b=😀" },
    { method: "GET", path: "/app/home", cookies: [at(forged)] },
    { method: "GET", path: "/", cookies: [at(forged)] },
    { method: "GET", path: "/app/x", cookies: [`${at(expired)}; __Secure-edgeauth-refresh=r`] },
    { method: "GET", path: "/app/x", cookies: [at(admin), at(admin)] },
    { method: "OPTIONS", path: "/app/x" },
    { method: "GET", path: "/app/../admin" },
    { method: "GET", path: "/app/x", cookies: "theme=dårk; x=\u00ff" },
    { method: "GET", path: "/app/home", cookies: `theme=dark; ${at(t)}` }, // one Cookie header, a string
    { method: "GET", path: "/app/home", cookies: `theme=dark, ${at(t)}` }, // Fetch's joined headers
    { method: "GET", path: "/app/home", cookies: `${at(t)}; ${at(admin)}` },
    { method: "GET", path: "/app/home", cookies: "" },
    { method: "GET", path: "/app/home", cookies: `é=${at(t)}` },
    { method: "GET", path: "/app/\ud800x" }, // a lone surrogate: refused by both forms
    { method: "GET", path: "/app/x", cookies: [`t=${"ü".repeat(40000)}`] }, // larger than the compact limit
    { method: "GET", path: 42 }, // not a string
    { path: "/app/home", authorization: `Bearer ${t}` },
  ];
  const outcome = (fn) => {
    try {
      return fn();
    } catch (e) {
      return { error: e.status };
    }
  };
  const v = ready();
  for (const pass of ["cold", "cached"]) {
    for (const r of requests) {
      const compact = outcome(() => v.decide(r, NOW));
      const json = outcome(() => v.decideJSON(r, NOW));
      assert.deepEqual(compact, json, `${pass} ${JSON.stringify(r).slice(0, 80)}`);
    }
  }
  const a = v.decide(requests[0], NOW).identity;
  assert.ok(Object.isFrozen(a) && Object.isFrozen(a.roles));
  assert.equal(v.decide(requests[0], NOW).identity, a, "one identity object per cached token");
});

test("decide after the memory grew, and across seconds", () => {
  const v = ready();
  const r = request(`theme=dark; __Host-edgeauth=${token(claims())}`);
  assert.equal(v.decide(r, NOW).action, "allow");
  // Growing detaches the buffer the host's views were made on: they are renewed.
  v.x.memory.grow(1);
  assert.equal(v.decide(r, NOW).action, "allow");
  assert.equal(v.decide(request(`theme=dark, ${r.cookies}`), NOW).identity.sub, "user-1");
  v.x.memory.grow(1);
  assert.equal(v.decideJSON(r, NOW).action, "allow");
  assert.equal(v.decide(r, NOW).action, "allow");
  // The host keeps the latest second it passed: each new one is passed as it is.
  for (const [t, want] of [[NOW * 1000 + 999, "allow"], [(NOW + 599) * 1000, "allow"], [(NOW + 601) * 1000, "refresh"], [NOW + 0.5, "allow"], [BigInt(NOW + 601), "refresh"], [new Date(NOW * 1000), "allow"]]) {
    assert.equal(v.decide(r, t).action, want, String(t));
  }
});

test("a cache hit through decide allocates nothing in the module", () => {
  const v = ready();
  const r = { method: "GET", path: "/app/home", query: "tab=1", cookies: [`theme=dark; __Host-edgeauth=${token(claims())}`] };
  v.decide(r, NOW);
  const before = v.heapAllocs();
  for (let i = 0; i < 2000; i++) assert.equal(v.decide(r, NOW).action, "allow");
  assert.equal(v.heapAllocs() - before, 0n);
  // The JSON form allocates (the copy of the request it parses): the counter counts, so
  // the zero above is the cache hit's and not a counter that stands still.
  const json = v.heapAllocs();
  assert.equal(v.decideJSON(r, NOW).action, "allow");
  assert.ok(v.heapAllocs() > json, "heap_allocs counted no allocation of the JSON form");
});

// verifier/testdata/refused-configs.json: the module writes the reason of a refused
// configuration as configure's output; the error carries it, the same text the Go
// engines give (verifier/conformance/refused_test.go reads the same table).
test("a refused configuration says what to fix: the module's reason, as in Go", async () => {
  const table = JSON.parse(await readFile(new URL("../../verifier/testdata/refused-configs.json", import.meta.url), "utf8"));
  for (const c of table.cases) {
    const v = new Verifier(module);
    assert.throws(() => v.configure({ ...table.base, ...c.set }), (err) => {
      assert.ok(err instanceof EdgeauthError, c.name);
      assert.equal(err.status, "InvalidConfig", c.name);
      assert.equal(err.detail, c.reason, c.name);
      assert.ok(err.message.endsWith(`: ${c.reason}`), `${c.name}: ${err.message}`);
      return true;
    });
  }
  // JSON only a JS host can send: the module's own strict parser explains it too.
  assert.throws(() => new Verifier(module).configure(`{"issuer":"x","bogus":1}`), /InvalidConfig \(15\): .*"bogus": unknown field/);
});

// Loads ../verifier.wasm in Node exactly as an edge runtime would (compiled module, no
// imports), then decides requests with tokens signed here by hand.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { generateKeyPairSync, sign } from "node:crypto";
import { Verifier, EdgeauthError, REQUIRED_EXPORTS } from "./edgeauth.mjs";

const wasm = await readFile(new URL("../verifier.wasm", import.meta.url));
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

const { publicKey, privateKey } = generateKeyPairSync("ed25519");
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

test("inputs larger than the buffer are refused before writing", () => {
  const v = ready();
  assert.throws(() => v.verifyToken("a".repeat(v.cap + 1), NOW), (e) => e.status === "InputTooLarge");
});

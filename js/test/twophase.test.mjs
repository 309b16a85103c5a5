// The two-phase path (verifier/ABI.md, "Two-phase verification") in the JS package: the
// module does every check but the RS256 arithmetic, WebCrypto does that. Every verdict
// must be the module's own: over the Go conformance material (the gate's decision
// table and the attack suite, verifier/testdata/conformance-js.json), the Wycheproof
// RSA vectors, and named cases; a question the host did not declare, or a failure of
// WebCrypto, must never become a decision.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { sign, createHmac } from "node:crypto";
import { testKey } from "./keys.mjs";
import { Verifier, EdgeauthError, moduleSignaturesFaster } from "../src/verifier.mjs";
import { createEdge } from "../src/index.mjs";

const module = await WebAssembly.compile(await readFile(new URL("../../verifier/verifier.wasm", import.meta.url)));
const fixture = JSON.parse(await readFile(new URL("../../verifier/testdata/conformance-js.json", import.meta.url), "utf8"));

// pair makes the two paths: WebCrypto for RS256 (the default), and the module's crypto.
function pair(setup) {
  const twoPhase = new Verifier(module);
  const own = new Verifier(module, { moduleSignatures: true });
  assert.equal(twoPhase.hostMask, 1 << 2, "the default instance declares RS256");
  assert.equal(own.hostMask, 0, "moduleSignatures declares nothing");
  setup?.(twoPhase);
  setup?.(own);
  return { twoPhase, own };
}

// outcome is what a call gave: its value, or the status of its EdgeauthError.
async function outcome(fn) {
  try {
    return { value: await fn() };
  } catch (err) {
    if (!(err instanceof EdgeauthError)) throw err;
    return { status: err.status };
  }
}

test("the decision table (gatetest): both paths give every decision, cold and cached", async () => {
  const d = fixture.decisions;
  const { twoPhase, own } = pair((v) => {
    v.configure(d.config);
    v.loadKeys(d.jwks);
    v.loadRevocations(d.revocations, d.now);
  });
  for (const pass of ["cold", "cached"]) {
    for (const c of d.cases) {
      const what = `${pass}: ${c.name}`;
      assert.deepEqual(await twoPhase.decideAsync(c.request, d.now), c.want, `decideAsync, ${what}`);
      assert.deepEqual(own.decide(c.request, d.now), c.want, `decide, ${what}`);
      assert.deepEqual(twoPhase.decide(c.request, d.now), c.want, `decide on a declared instance, ${what}`);
      assert.deepEqual(await own.decideAsync(c.request, d.now), c.want, `decideAsync with moduleSignatures, ${what}`);
    }
  }
  // Cold: "valid RS256 token" and "signed by an unpublished key" reach WebCrypto; cached,
  // only the unpublished one does again (a token whose signature fails is not cached).
  assert.equal(twoPhase.hostChecks, 3);
  assert.equal(own.hostChecks, 0);
});

test("the attack suite (vectors.Attacks): the Go engines' status on both paths, and the same decisions", async () => {
  const a = fixture.attacks;
  let rs256 = 0;
  for (const c of a.cases) {
    const v = pair();
    const load = async (x) => {
      x.configure(a.configs[c.config]);
      x.loadKeys(a.key_sets[c.key_set]);
    };
    const s1 = await outcome(() => load(v.twoPhase));
    const s2 = await outcome(() => load(v.own));
    assert.deepEqual(s1, s2, c.name);
    if (s1.status) {
      assert.equal(s1.status, c.want, c.name);
      continue;
    }
    const got = await outcome(() => v.twoPhase.verifyTokenAsync(c.token, c.now));
    const want = await outcome(() => v.own.verifyToken(c.token, c.now));
    assert.deepEqual(got, want, c.name);
    assert.equal(got.status ?? "OK", c.want, c.name);
    rs256 += v.twoPhase.hostChecks;
    // The same token as an access cookie: the same decision on both paths.
    const r = { method: "GET", path: "/app/x", cookies: [`__Host-edgeauth=${c.token}`] };
    assert.deepEqual(await outcome(() => v.twoPhase.decideAsync(r, c.now)), await outcome(() => v.own.decide(r, c.now)), `decision: ${c.name}`);
    assert.equal(v.own.hostChecks, 0, c.name);
  }
  assert.ok(rs256 >= 2, `WebCrypto checked ${rs256} attack tokens`);
});

test("Wycheproof RSASSA-PKCS1-v1_5 SHA-256 (259 cases): verifySignatureAsync answers as verifySignature", async () => {
  const file = JSON.parse(await readFile(new URL("../../verifier/internal/vectors/testdata/wycheproof/rsa_signature_2048_sha256_test.json", import.meta.url), "utf8"));
  const b64 = (hex) => Buffer.from(hex.replace(/^(00)+/, ""), "hex").toString("base64url");
  const { twoPhase, own } = pair();
  let n = 0;
  for (const g of file.testGroups) {
    const jwk = Buffer.from(JSON.stringify({ alg: "RS256", kty: "RSA", n: b64(g.publicKey.modulus), e: b64(g.publicKey.publicExponent) }));
    for (const tc of g.tests) {
      const msg = Buffer.from(tc.msg, "hex");
      const sig = Buffer.from(tc.sig, "hex");
      // abi.EncodeSignatureCheck: u32 len(jwk) | jwk | u32 len(msg) | msg | sig
      const input = Buffer.alloc(8 + jwk.length + msg.length + sig.length);
      input.writeUInt32LE(jwk.length, 0);
      jwk.copy(input, 4);
      input.writeUInt32LE(msg.length, 4 + jwk.length);
      msg.copy(input, 8 + jwk.length);
      sig.copy(input, 8 + jwk.length + msg.length);
      const got = await outcome(() => twoPhase.verifySignatureAsync(input));
      const want = await outcome(() => own.verifySignature(input));
      assert.deepEqual(got, want, `tcId ${tc.tcId} (${tc.comment})`);
      if (tc.result === "valid") assert.equal(got.status, undefined, `tcId ${tc.tcId} must verify`);
      if (tc.result === "invalid") assert.notEqual(got.status, undefined, `tcId ${tc.tcId} must not verify`);
      n++;
    }
  }
  assert.equal(n, 259);
  assert.ok(twoPhase.hostChecks > 0 && own.hostChecks === 0);
});

// Named RS256 cases, each with the decision reason and whether WebCrypto was asked.
const NOW = 1767225600;
const ISSUER = "https://auth.example.test";
const b64url = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");
const rsa = testKey("rsa2048", 0);
const otherRSA = testKey("rsa2048", 1);
const ed = testKey("ed25519", 0);
const jwks = {
  keys: [
    { ...rsa.publicKey.export({ format: "jwk" }), kid: "r1", alg: "RS256", use: "sig" },
    { ...ed.publicKey.export({ format: "jwk" }), kid: "e1", alg: "EdDSA", use: "sig" },
  ],
};
const claims = (over = {}) => ({ iss: ISSUER, aud: ISSUER, sub: "user-1", sid: "c2Vzc2lvbi1pZC0xMjM0NTY", roles: ["member"], jti: "t", iat: NOW - 10, exp: NOW + 600, ...over });
function rs256(payload, { key = rsa.privateKey, kid = "r1", alg = "RS256" } = {}) {
  const input = `${b64url({ alg, kid, typ: "at+jwt" })}.${b64url(payload)}`;
  const sig = alg === "HS256" ? createHmac("sha256", key).update(input).digest() : sign("sha256", Buffer.from(input), key);
  return `${input}.${sig.toString("base64url")}`;
}
const config = {
  issuer: ISSUER, audience: ISSUER, algorithms: ["RS256", "EdDSA"], leeway_seconds: 0,
  access_cookie: { name: "at", path: "/", secure: true, http_only: true, same_site: "Lax" },
  refresh_cookie: { name: "rt", path: "/auth", secure: true, http_only: true, same_site: "Lax" },
  login_path: "/login", refresh_path: "/auth/refresh", public_paths: ["/login", "/auth/"], default_protected: true, cache_entries: 64,
};
const ready = (options) => {
  const v = new Verifier(module, options);
  v.configure(config);
  v.loadKeys(jwks);
  return v;
};
const at = (token) => ({ method: "GET", path: "/app/x", cookies: `at=${token}` });
const valid = rs256(claims());
const tampered = valid.slice(0, -6) + (valid.endsWith("AAAAAA") ? "BBBBBB" : "AAAAAA");

test("named RS256 cases: the same decisions, WebCrypto asked only about signatures the module reached", async () => {
  const pem = rsa.publicKey.export({ format: "pem", type: "spki" });
  const cases = [
    ["valid", valid, "authenticated", 1],
    ["cache hit after a two-phase verification", valid, "authenticated", 0],
    ["bad signature", tampered, "invalid_token", 1],
    ["wrong key (signed by another RSA key under the kid)", rs256(claims(), { key: otherRSA.privateKey }), "invalid_token", 1],
    ["expired (the signature is checked first)", rs256(claims({ iat: NOW - 700, exp: NOW - 100 })), "token_expired", 1],
    ["alg confusion: HS256 keyed with the RSA public key", rs256(claims(), { alg: "HS256", key: pem }), "invalid_token", 0],
    ["alg confusion: RS256 header naming the EdDSA key", rs256(claims(), { kid: "e1" }), "unknown_key", 0],
    ["unknown kid", rs256(claims(), { kid: "r9" }), "unknown_key", 0],
    ["wrong audience (claims are checked after the signature)", rs256(claims({ aud: "https://other.example" })), "invalid_token", 1],
  ];
  const twoPhase = ready();
  const own = ready({ moduleSignatures: true });
  for (const [name, token, reason, asked] of cases) {
    const before = twoPhase.hostChecks;
    const d = await twoPhase.decideAsync(at(token), NOW);
    assert.equal(d.reason, reason, name);
    assert.equal(twoPhase.hostChecks - before, asked, `${name}: WebCrypto checks`);
    assert.deepEqual(d, own.decide(at(token), NOW), name);
  }
  // The cache entry the two-phase path made serves the synchronous path too: no crypto.
  const before = twoPhase.hostChecks;
  assert.equal(twoPhase.decide(at(valid), NOW).reason, "authenticated");
  assert.equal(twoPhase.decideTwoPhase(at(valid), NOW).reason, "authenticated", "a cache hit is answered at once, without a promise");
  assert.equal(twoPhase.hostChecks, before);
  // Fields that are not ASCII take another encoding of the compact form: the same path.
  const accented = { method: "GET", path: "/app/x", query: "q=é", cookies: `thème=1; at=${rs256(claims({ sub: "user-é" }))}` };
  assert.deepEqual(await twoPhase.decideAsync(accented, NOW), own.decide(accented, NOW));
  assert.equal(twoPhase.hostChecks, before + 1);
  // verifyTokenAsync gives the claims the module gives.
  assert.deepEqual(await ready().verifyTokenAsync(valid, NOW), own.verifyToken(valid, NOW));
});

test("a synchronous call on a declared instance keeps the module's crypto", () => {
  const v = ready();
  assert.equal(v.decide(at(valid), NOW).reason, "authenticated");
  assert.equal(v.decideJSON(at(tampered), NOW).reason, "invalid_token");
  assert.equal(v.verifyToken(valid, NOW).sub, "user-1");
  assert.throws(() => v.verifyToken(tampered, NOW), (e) => e.status === "SignatureInvalid");
  assert.equal(v.hostChecks, 0);
  assert.equal(v.declared, v.hostMask, "declared again after each fallback");
});

test("concurrent calls while WebCrypto works: each verdict reaches its own question", async () => {
  const v = ready();
  const own = ready({ moduleSignatures: true });
  const tokens = [];
  for (let i = 0; i < 12; i++) tokens.push(i % 3 === 2 ? tampered.replace(/.$/, (c) => (c === "A" ? "B" : "A")) : rs256(claims({ sub: `user-${i}` })));
  const pending = tokens.map((t) => v.decideAsync(at(t), NOW));
  // Synchronous decisions and a key reload while the questions are out.
  assert.equal(v.decide(at(rs256(claims({ sub: "sync" }))), NOW).reason, "authenticated");
  pending.push(v.decideAsync(at(tokens[0]), NOW));
  v.loadKeys(jwks);
  pending.push(v.decideAsync(at(tokens[1]), NOW));
  const got = await Promise.all(pending);
  const all = [...tokens, tokens[0], tokens[1]];
  for (let i = 0; i < all.length; i++) assert.deepEqual(got[i], own.decide(at(all[i]), NOW), `request ${i}`);
});

test("concurrent verifyTokenAsync: each caller reads its own token's claims, and question buffers are reused", async () => {
  const v = ready();
  // WebCrypto's verdicts are held back and delivered together (as in a runtime whose
  // crypto settles at once), so every call's second half runs in one microtask
  // checkpoint: a reader that awaited before decoding would read another call's output.
  const real = v.subtle;
  let release;
  const together = new Promise((r) => (release = r));
  v.subtle = { verify: (...a) => real.verify(...a).then((ok) => together.then(() => ok)), importKey: (...a) => real.importKey(...a) };
  const tokens = Array.from({ length: 12 }, (_, i) => rs256(claims({ sub: `user-${i}` })));
  const pending = Promise.all(tokens.map((t) => v.verifyTokenAsync(t, NOW)));
  setTimeout(release, 50);
  const got = await pending;
  assert.deepEqual(got.map((c) => c.sub), tokens.map((_, i) => `user-${i}`));
  assert.equal(v.hostChecks, 12);
  assert.ok(v.spare.length >= 1 && v.spare.length <= 8, `${v.spare.length} spare buffers`);
  // One at a time, the same buffer serves every question.
  const one = v.spare[v.spare.length - 1];
  for (let i = 0; i < 3; i++) assert.equal((await v.verifyTokenAsync(rs256(claims({ sub: `again-${i}` })), NOW)).sub, `again-${i}`);
  assert.equal(v.spare[v.spare.length - 1], one);
});

// A module stub: decide_compact answers status 22 with the given question, every time;
// with again, only where the real module answers OK (after a real question and its
// verdict).
function asking(v, question, again = false) {
  const real = v.x;
  const calls = { verdicts: 0 };
  v.x = {
    ...real,
    decide_compact: (len, now) => {
      if (again) {
        const r = real.decide_compact(len, now);
        if (r >> 32n !== 0n) return r;
      }
      new Uint8Array(real.memory.buffer, v.ptr, question.length).set(question);
      return (22n << 32n) | BigInt(question.length);
    },
    signature_verdict: (x) => {
      calls.verdicts++;
      return real.signature_verdict(x);
    },
  };
  return calls;
}

// question is the signature question the module asks about token valid.
function question(alg = 2, pad = 0) {
  const n = Buffer.from(jwks.keys[0].n, "base64url");
  const msg = Buffer.from(valid.slice(0, valid.lastIndexOf(".")));
  const sig = Buffer.from(valid.slice(valid.lastIndexOf(".") + 1), "base64url");
  const q = Buffer.alloc(20 + 4 + n.length + msg.length + sig.length);
  q[0] = alg;
  q[1] = pad;
  q.writeUInt32LE(0, 4);
  q.writeUInt32LE(4 + n.length, 8);
  q.writeUInt32LE(msg.length, 12);
  q.writeUInt32LE(sig.length, 16);
  q.writeUInt32LE(65537, 20);
  n.copy(q, 24);
  msg.copy(q, 24 + n.length);
  sig.copy(q, 24 + n.length + msg.length);
  return q;
}

test("the question the module asks is laid out as ABI.md says (the stubs below copy it)", async () => {
  const v = ready();
  const seen = [];
  const check = v.checkSignature.bind(v);
  v.checkSignature = (q) => {
    seen.push(q.bytes);
    return check(q);
  };
  assert.equal((await v.decideAsync(at(valid), NOW)).reason, "authenticated");
  assert.equal(seen.length, 1);
  assert.deepEqual(Buffer.from(seen[0]), question());
});

const internal = (e) => e instanceof EdgeauthError && e.status === "Internal";

test("a signature question this host did not declare is an Internal error, never a decision", async () => {
  // Nothing declared (moduleSignatures): status 22 is a module bug.
  const own = ready({ moduleSignatures: true });
  asking(own, question());
  assert.throws(() => own.decide(at(valid), NOW), internal);
  await assert.rejects(own.decideAsync(at(valid), NOW), internal);
  // RS256 declared, the module asks about ES256 (code 1), or with broken padding.
  for (const q of [question(1), question(2, 1), question(2).subarray(0, 30)]) {
    const v = ready();
    const calls = asking(v, q);
    await assert.rejects(v.decideAsync(at(valid), NOW), internal);
    assert.equal(calls.verdicts, 0, "no verdict for a question not answered");
    assert.equal(v.hostChecks, 0);
  }
  // A question the module did not ask: signature_verdict refuses the verdict.
  const unasked = ready();
  asking(unasked, question());
  await assert.rejects(unasked.decideAsync(at(valid), NOW), (e) => internal(e) && /signature_verdict.*InvalidRequest/.test(e.message));
  // The module asks again after the verdict.
  const v = ready();
  const calls = asking(v, question(), true);
  await assert.rejects(v.decideAsync(at(valid), NOW), (e) => internal(e) && /again after its verdict/.test(e.message));
  assert.equal(calls.verdicts, 1);
  // A synchronous call falls back to the module's crypto, with nothing declared: a
  // question then is a bug too.
  assert.throws(() => v.decide(at(valid), NOW), internal);
});

test("a failure of WebCrypto fails closed, and the next call checks again", async () => {
  const v = ready();
  const real = v.subtle;
  const boom = () => Promise.reject(new Error("boom"));
  v.subtle = { importKey: real.importKey.bind(real), verify: boom };
  await assert.rejects(v.decideAsync(at(valid), NOW), (e) => internal(e) && /WebCrypto could not check/.test(e.message));
  v.subtle = { importKey: real.importKey.bind(real), verify: async () => undefined };
  await assert.rejects(v.decideAsync(at(valid), NOW), (e) => internal(e) && /no verdict/.test(e.message));
  v.subtle = { importKey: real.importKey.bind(real), verify: () => { throw new TypeError("sync"); } };
  await assert.rejects(v.decideAsync(at(valid), NOW), internal);
  // A refused key import is not kept: the next question imports again.
  const w = ready();
  w.subtle = { importKey: boom, verify: real.verify.bind(real) };
  await assert.rejects(w.decideAsync(at(valid), NOW), (e) => internal(e) && /refused the RS256 key/.test(e.message));
  for (const x of [v, w]) {
    x.subtle = real;
    assert.equal(x.hostChecks, 0);
    assert.equal((await x.decideAsync(at(tampered), NOW)).reason, "invalid_token");
    assert.equal((await x.decideAsync(at(valid), NOW)).reason, "authenticated");
    assert.equal(x.hostChecks, 2);
  }
});

// createEdge with the documents from memory.
function edgeWith(options = {}) {
  const docs = {
    // What a control plane publishes: the edge members only (the routes are the edge's).
    "/.well-known/edgeauth/edge-config": (() => {
      const { public_paths, default_protected, cache_entries, ...published } = config;
      return JSON.stringify({ ...published, logout_path: "/auth/logout" });
    })(),
    "/.well-known/jwks.json": JSON.stringify(jwks),
    "/.well-known/edgeauth/revocations": (() => {
      const input = `${b64url({ alg: "RS256", kid: "r1", typ: "edgeauth-revocations+jwt" })}.${b64url({ iss: ISSUER, iat: NOW, exp: NOW + 300, sids: [] })}`;
      return `${input}.${sign("sha256", Buffer.from(input), rsa.privateKey).toString("base64url")}`;
    })(),
  };
  const fetch = async (url) => new Response(docs[new URL(url).pathname], { headers: { etag: '"1"', "cache-control": "max-age=86400" } });
  const routes = { public_paths: config.public_paths, default_protected: true, cache_entries: 64 };
  return createEdge({ module, controlPlane: "https://cp.test", routes, fetch, now: () => NOW * 1000, log: () => {}, ...options });
}
const page = (token) => new Request("https://app.test/app/x", { headers: { cookie: `at=${token}` } });

test("edge.handle: WebCrypto checks RS256 by default, moduleSignatures keeps it in the module, same outcomes", async () => {
  const twoPhase = edgeWith();
  const own = edgeWith({ moduleSignatures: true });
  for (const token of [valid, tampered, valid]) {
    const a = await twoPhase.handle(page(token));
    const b = await own.handle(page(token));
    assert.equal(a.action, b.action);
    assert.equal(a.reason, b.reason);
    assert.deepEqual(a.decision, b.decision);
  }
  assert.equal((await twoPhase.handle(page(valid))).identity.sub, "user-1");
  assert.equal(twoPhase.verifier.hostChecks, 2, "valid once (then cached), tampered once");
  assert.equal(own.verifier.hostChecks, 0);
  assert.throws(() => edgeWith({ moduleSignatures: "yes" }), /moduleSignatures must be true or false/);
  assert.throws(() => new Verifier(module, { hostSignatures: true }), /unknown Verifier option "hostSignatures"/);
});

test("the default follows the runtime: WebCrypto for RS256, the module where it is the faster (Deno)", async () => {
  assert.equal(moduleSignaturesFaster(), false, "Node");
  assert.equal(new Verifier(module).hostMask, 1 << 2);
  globalThis.Deno = { version: { deno: "2.9.6" } }; // what moduleSignaturesFaster reads
  try {
    assert.equal(moduleSignaturesFaster(), true);
    assert.equal(new Verifier(module).hostMask, 0, "Deno: the module checks RS256");
    assert.equal(new Verifier(module, { moduleSignatures: false }).hostMask, 1 << 2, "false still asks WebCrypto");
    const deno = edgeWith();
    const asked = edgeWith({ moduleSignatures: false });
    for (const token of [valid, tampered]) {
      const a = await deno.handle(page(token));
      const b = await asked.handle(page(token));
      assert.equal(a.reason, b.reason);
      assert.deepEqual(a.decision, b.decision);
    }
    assert.equal(deno.verifier.hostChecks, 0, "createEdge takes the runtime's default");
    assert.equal(asked.verifier.hostChecks, 2, "and passes moduleSignatures: false on");
  } finally {
    delete globalThis.Deno;
  }
});

test("edge.handle: a WebCrypto failure or a stray question answers 500, never forwards", async () => {
  const edge = edgeWith();
  await edge.ready();
  const real = edge.verifier.subtle;
  edge.verifier.subtle = { importKey: real.importKey.bind(real), verify: () => Promise.reject(new Error("boom")) };
  const o = await edge.handle(page(valid));
  assert.equal(o.action, "respond");
  assert.equal(o.response.status, 500);
  edge.verifier.subtle = real;
  assert.equal((await edge.handle(page(valid))).action, "forward", "the same instance decides again");
  asking(edge.verifier, question(1));
  const stray = await edge.handle(page(rs256(claims({ sub: "other" }))));
  assert.equal(stray.action, "respond");
  assert.equal(stray.response.status, 500);
});

test("edge.handle: a WebCrypto failure on the token a refresh at the edge brought answers 500 with the new cookies, never rejects", async () => {
  const edge = edgeWith();
  await edge.ready();
  const expired = rs256(claims({ iat: NOW - 700, exp: NOW - 100 }));
  const renewed = rs256(claims({ jti: "renewed" }));
  const real = edge.verifier.subtle;
  const docsFetch = edge.o.fetch;
  // The control plane rotates the session; then WebCrypto fails on the renewed token.
  edge.o.fetch = async (url, init) => {
    if (new URL(url).pathname !== "/auth/refresh") return docsFetch(url, init);
    edge.verifier.subtle = { importKey: real.importKey.bind(real), verify: () => Promise.reject(new Error("boom")) };
    return new Response("{}", { headers: { "set-cookie": `at=${renewed}; Path=/; HttpOnly` } });
  };
  let o;
  await assert.doesNotReject(async () => {
    o = await edge.handle(new Request("https://app.test/app/x", { headers: { cookie: `at=${expired}; rt=r1` } }));
  });
  assert.equal(o.action, "respond");
  assert.equal(o.response.status, 500);
  // The rotation happened: the browser must get the successor, or its next visit presents
  // a spent refresh token.
  assert.deepEqual(o.response.headers.getSetCookie(), [`at=${renewed}; Path=/; HttpOnly`]);
});

// The benchmark's inputs, made in Node before the runtimes start: one key per
// algorithm (EdDSA, ES256, RS256-2048), tokens signed by each, the JWKS, a revocation
// list and the edge configuration; every runtime reads the same file.
import { readFileSync } from "node:fs";
import { createPrivateKey, createPublicKey, sign } from "node:crypto";

// The keys are the JS tests' fixed ones (js/test/keys.mjs says why they are not
// generated here: exporting a generated key as a JWK can deadlock Node 20).
const pems = JSON.parse(readFileSync(new URL("../../verifier/testdata/js-keys.json", import.meta.url), "utf8"));
const fixedKey = (pem) => {
  const privateKey = createPrivateKey(pem);
  return { privateKey, publicKey: createPublicKey(privateKey) };
};

const b64url = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");
export const ISSUER = "https://auth.bench.test";

export function makeFixture({ now = Math.floor(Date.now() / 1000), tokensPerAlg = 64 } = {}) {
  const algs = {
    EdDSA: fixedKey(pems.ed25519[0]),
    ES256: fixedKey(pems.p256[0]),
    RS256: fixedKey(pems.rsa2048[0]),
  };
  const jwks = { keys: [] };
  const tokens = {};
  const signWith = (alg, input) => {
    const key = algs[alg].privateKey;
    const sig = alg === "EdDSA" ? sign(null, Buffer.from(input), key)
      : alg === "ES256" ? sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" })
      : sign("sha256", Buffer.from(input), key);
    return sig.toString("base64url");
  };
  const jws = (alg, header, payload) => {
    const input = `${b64url({ alg, kid: `k-${alg}`, ...header })}.${b64url(payload)}`;
    return `${input}.${signWith(alg, input)}`;
  };
  for (const [alg, { publicKey }] of Object.entries(algs)) {
    jwks.keys.push({ ...publicKey.export({ format: "jwk" }), kid: `k-${alg}`, alg, use: "sig" });
    tokens[alg] = Array.from({ length: tokensPerAlg }, (_, i) => jws(alg, { typ: "at+jwt" }, {
      iss: ISSUER, aud: ISSUER, sub: `user-${i}`, sid: `c2Vzc2lvbi1iZW5jaC0${String(i).padStart(4, "0")}`, roles: ["member"],
      jti: `j${i}`, iat: now - 5, nbf: now - 5, exp: now + 3600,
    }));
  }
  const revocations = jws("EdDSA", { typ: "edgeauth-revocations+jwt" }, { iss: ISSUER, iat: now, exp: now + 300, sids: ["c2Vzc2lvbi1yZXZva2VkLTEyMzQ1Ng"] });
  const edgeConfig = {
    issuer: ISSUER, audience: ISSUER, algorithms: ["EdDSA", "ES256", "RS256"], leeway_seconds: 30,
    access_cookie: { name: "at", path: "/", http_only: true, same_site: "Lax" },
    refresh_cookie: { name: "rt", path: "/auth", http_only: true, same_site: "Lax" },
    login_path: "/login", refresh_path: "/auth/refresh", logout_path: "/auth/logout",
  };
  return { now, issuer: ISSUER, jwks, tokens, revocations, edgeConfig };
}

// testKey returns a fixed key pair of the JS tests (verifier/testdata/js-keys.json): kind
// "ed25519" (3 keys), "p256" (1) or "rsa2048" (2), by index. The keys are fixed rather
// than made with generateKeyPairSync: in Node 20, exporting such a key as a JWK can
// deadlock the process. The export holds the key's mutex while it allocates; a garbage
// collection there finalizes the finished key-generation job, whose destructor waits for
// the same mutex (seen as a hung twophase.test.mjs in CI, its main thread in
// ExportJWKRsaKey -> GC -> ~KeyGenJob -> mutex lock). Keys read with createPrivateKey
// have no such job.
import { readFileSync } from "node:fs";
import { createPrivateKey, createPublicKey } from "node:crypto";

const pems = JSON.parse(readFileSync(new URL("../../verifier/testdata/js-keys.json", import.meta.url), "utf8"));

export function testKey(kind, index = 0) {
  const pem = pems[kind]?.[index];
  if (!pem) throw new Error(`no test key ${kind}[${index}] in verifier/testdata/js-keys.json`);
  const privateKey = createPrivateKey(pem);
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

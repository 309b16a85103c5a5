// Local TLS for the cross-subdomain test: a CA and a certificate for
// app.example.test and api.example.test made here with openssl, an HTTPS reverse proxy
// in front of the control plane, and an HTTPS server for the single-page app. Chromium
// maps the names to 127.0.0.1 (--host-resolver-rules) and trusts the certificate's key
// (--ignore-certificate-errors-spki-list), so no CA is installed anywhere.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtemp, readFile, writeFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { createHash, X509Certificate } from "node:crypto";
import { createServer } from "node:https";
import { request as httpRequest } from "node:http";

const run = promisify(execFile);
export const NAMES = ["app.example.test", "api.example.test"];

/** makeCertificate returns {key, cert, spki} for NAMES, signed by a fresh test CA. */
export async function makeCertificate() {
  const dir = await mkdtemp(`${tmpdir()}/edgeauth-tls-`);
  try {
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    await run("openssl", ["req", "-x509", ...ec, "-keyout", `${dir}/ca.key`, "-out", `${dir}/ca.crt`, "-subj", "/CN=edgeauth test CA", "-days", "2",
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"]);
    await run("openssl", ["req", ...ec, "-keyout", `${dir}/leaf.key`, "-out", `${dir}/leaf.csr`, "-subj", "/CN=example.test"]);
    await writeFile(`${dir}/ext`, `subjectAltName=${NAMES.map((n) => `DNS:${n}`).join(",")}\nextendedKeyUsage=serverAuth\n`);
    await run("openssl", ["x509", "-req", "-in", `${dir}/leaf.csr`, "-CA", `${dir}/ca.crt`, "-CAkey", `${dir}/ca.key`, "-CAcreateserial",
      "-out", `${dir}/leaf.crt`, "-days", "2", "-extfile", `${dir}/ext`]);
    const leaf = await readFile(`${dir}/leaf.crt`);
    const ca = await readFile(`${dir}/ca.crt`);
    const key = await readFile(`${dir}/leaf.key`);
    const der = new X509Certificate(leaf).publicKey.export({ type: "spki", format: "der" });
    return { key, cert: Buffer.concat([leaf, ca]), spki: createHash("sha256").update(der).digest("base64") };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** chromiumArgs are the flags that send NAMES to 127.0.0.1 and trust the test key. */
export function chromiumArgs(spki) {
  return [`--host-resolver-rules=${NAMES.map((n) => `MAP ${n} 127.0.0.1`).join(", ")}`, `--ignore-certificate-errors-spki-list=${spki}`];
}

/** serveTLS starts an HTTPS server on 127.0.0.1:port with handler. */
export async function serveTLS(tls, port, handler) {
  const server = createServer({ key: tls.key, cert: tls.cert }, handler);
  await new Promise((r) => server.listen(port, "127.0.0.1", r));
  return { close: () => new Promise((r) => server.close(r)) };
}

/** proxyTo is a handler that forwards every request to an http origin, streaming. */
export function proxyTo(origin) {
  const target = new URL(origin);
  return (req, res) => {
    const up = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.rawHeaders);
      r.pipe(res);
    });
    up.on("error", () => res.writeHead(502).end());
    req.pipe(up);
  };
}

// The real control plane for the examples' tests: the Go binary `edgeauth serve` on
// real PostgreSQL, in a database created for this run and dropped after it.
import { spawn, execFile } from "node:child_process";
import { promisify } from "node:util";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { mkdirSync, readFileSync } from "node:fs";

const run = promisify(execFile);
export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const binary = `${repoRoot}build/edgeauth`;
const pgURL = process.env.EDGEAUTH_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable";

// The control plane refuses EDGEAUTH_ variables it does not know (make test exports
// EDGEAUTH_TEST_DATABASE_URL): it gets only the ones a test sets.
function controlPlaneEnv(env) {
  const out = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("EDGEAUTH_")) out[k] = v;
  return { ...out, ...env };
}

let built;
/** buildControlPlane builds the edgeauth binary once per test process. */
export function buildControlPlane() {
  built ??= (async () => {
    mkdirSync(`${repoRoot}build`, { recursive: true });
    await run("go", ["build", "-o", binary, "./controlplane/cmd/edgeauth"], { cwd: repoRoot });
    return binary;
  })();
  return built;
}

/**
 * freePort returns a port on 127.0.0.1 that is free now, for a process told its port
 * before it listens. It is picked below the kernel's ephemeral range: a port from
 * listening on 0 and closing may be handed to any other port-0 listener or outgoing
 * connection before the child binds it, and a readiness probe then talks to a stranger.
 * (The Go harnesses do the same: internal/freeport.)
 */
export async function freePort() {
  let low = 32768;
  try {
    low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]) || low;
  } catch {}
  const span = 10_000;
  for (let i = 0; low - span >= 1024 && i < 100; i++) {
    const port = low - span + Math.floor(Math.random() * span);
    if (await bindable(port)) return port;
  }
  return listenOnce(0);
}

function bindable(port) {
  return listenOnce(port).then(() => true, () => false);
}

function listenOnce(port) {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(port, "127.0.0.1", () => {
      const got = s.address().port;
      s.close(() => resolve(got));
    });
  });
}

/** waitFor polls check until it returns a truthy value (conditions, never fixed sleeps). */
export async function waitFor(what, check, { timeoutMs = 60_000, everyMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      if (err.fatal) throw err;
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

function dbURL(name) {
  const u = new URL(pgURL);
  u.pathname = `/${name}`;
  return u.toString();
}

async function psql(sql) {
  await run("psql", [pgURL, "-v", "ON_ERROR_STOP=1", "-qc", sql]);
}

/**
 * startControlPlane runs `edgeauth serve --dev` on a free port with its own database.
 * publicURL is the origin browsers use (the edge in front of it); env adds
 * EDGEAUTH_* settings. Returns {url, port, databaseURL, createUser, stop, logs}.
 */
export async function startControlPlane({ publicURL, env = {}, dev = true } = {}) {
  const bin = await buildControlPlane();
  const port = await freePort();
  const db = `edgeauth_js_${randomBytes(6).toString("hex")}`;
  await psql(`CREATE DATABASE ${db}`);
  const databaseURL = dbURL(db);
  const url = `http://127.0.0.1:${port}`;
  const args = ["serve", "--listen", `127.0.0.1:${port}`, "--database-url", databaseURL, "--public-url", publicURL ?? url, "--log-level", "warn"];
  if (dev) args.push("--dev");
  const logs = [];
  const child = spawn(bin, args, { env: controlPlaneEnv(env), stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.on("data", (d) => logs.push(String(d)));
  child.stderr.on("data", (d) => logs.push(String(d)));
  let exited = null;
  child.on("exit", (code) => (exited = code));
  const cfgArgs = ["--database-url", databaseURL, ...(dev ? ["--dev"] : [])];
  const cp = {
    url,
    port,
    databaseURL,
    logs,
    async createUser(email, password, roles = []) {
      const c = spawn(bin, ["users", "create", "--email", email, ...roles.flatMap((r) => ["--role", r]), ...cfgArgs], {
        env: controlPlaneEnv(env),
        stdio: ["pipe", "pipe", "pipe"],
      });
      let err = "";
      c.stderr.on("data", (d) => (err += d));
      c.stdin.end(`${password}\n`);
      const code = await new Promise((r) => c.on("exit", r));
      if (code !== 0) throw new Error(`edgeauth users create: exit ${code}: ${err}`);
    },
    async stop() {
      if (exited === null) {
        child.kill("SIGTERM");
        await new Promise((r) => (exited !== null ? r() : child.on("exit", r)));
      }
      await psql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => {});
    },
  };
  try {
    await waitFor("the control plane to be ready", async () => {
      if (exited !== null) throw Object.assign(new Error(`edgeauth serve exited (${exited}): ${logs.join("")}`), { fatal: true });
      const r = await fetch(`${url}/readyz`);
      return r.ok;
    }, { timeoutMs: 60_000 });
  } catch (err) {
    await cp.stop();
    throw err;
  }
  return cp;
}

/** startProcess runs a server (an example) and waits until url answers. */
export async function startProcess(what, cmd, args, { cwd, env = {}, url, timeoutMs = 120_000 }) {
  const logs = [];
  const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  child.stdout.on("data", (d) => logs.push(String(d)));
  child.stderr.on("data", (d) => logs.push(String(d)));
  let exited = null;
  child.on("exit", (code) => (exited = code));
  const p = {
    logs,
    async stop() {
      if (exited !== null) return;
      try {
        process.kill(-child.pid, "SIGTERM"); // its process group: npm/next spawn children
      } catch {
        return;
      }
      await new Promise((r) => (exited !== null ? r() : child.on("exit", r)));
    },
  };
  try {
    await waitFor(`${what} to answer at ${url}`, async () => {
      if (exited !== null) throw Object.assign(new Error(`${what} exited (${exited}):\n${logs.join("")}`), { fatal: true });
      await fetch(url, { redirect: "manual" });
      return true;
    }, { timeoutMs });
  } catch (err) {
    await p.stop();
    throw err;
  }
  return p;
}

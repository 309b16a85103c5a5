// make bench-js: edgeauth beside jose in Node, Deno and workerd, one process per
// runtime, interleaved rounds, ratios. Each runtime serves GET /?op=X&n=N (run op N
// times); the driver times requests from outside (workerd's clocks stand still during
// computation) and subtracts an empty request's time measured in the same round.
import { spawn } from "node:child_process";
import { mkdir, writeFile, readdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { relative } from "node:path";
import os, { loadavg } from "node:os";
import { makeFixture } from "./fixture.mjs";
import { freePort, waitFor } from "../test/controlplane.mjs";

const examples = fileURLToPath(new URL("../", import.meta.url));
const work = `${examples}.build/bench`;
const ROUNDS = Number(process.env.ROUNDS ?? 7);
const TARGET_MS = Number(process.env.TARGET_MS ?? 100);
const WARM_MS = Number(process.env.WARM_MS ?? 1000);
await mkdir(work, { recursive: true });
const fixture = `${work}/fixture.json`;
await writeFile(fixture, JSON.stringify(makeFixture()));

async function filesUnder(dir) {
  const out = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else if (e.name.endsWith(".js")) out.push(p);
  }
  return out;
}

// workerd reads no node_modules: every module is listed, named by its path under
// examples/ so relative imports resolve.
async function workerdConfig() {
  const rel = (p) => relative(work, p);
  const mods = [
    `(name = "bench/workerd-worker.mjs", esModule = embed "${rel(`${examples}bench/workerd-worker.mjs`)}")`,
    `(name = "bench/ops.mjs", esModule = embed "${rel(`${examples}bench/ops.mjs`)}")`,
    `(name = "bench/verifier.wasm", wasm = embed "${rel(`${examples}node_modules/@edgeauth/edge/verifier.wasm`)}")`,
    `(name = "bench/fixture.json", json = embed "fixture.json")`,
  ];
  for (const f of [...(await filesUnder(`${examples}node_modules/@edgeauth/edge/src`)), ...(await filesUnder(`${examples}node_modules/jose/dist/webapi`))]) {
    mods.push(`(name = "${relative(examples, f)}", esModule = embed "${rel(f)}")`);
  }
  for (const f of await readdir(`${examples}node_modules/@edgeauth/edge/src`)) {
    if (f.endsWith(".mjs")) mods.push(`(name = "node_modules/@edgeauth/edge/src/${f}", esModule = embed "${rel(`${examples}node_modules/@edgeauth/edge/src/${f}`)}")`);
  }
  const config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "bench", worker = (compatibilityDate = "2026-11-01", modules = [
    ${[...new Set(mods)].join(",\n    ")}
  ]))],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "bench")],
);
`;
  await writeFile(`${work}/bench.capnp`, config);
  return `${work}/bench.capnp`;
}

const bin = (n) => `${examples}node_modules/.bin/${n}`;
const runtimes = [
  { name: "Node", cmd: process.execPath, args: (port) => [`${examples}bench/node-server.mjs`, fixture, String(port)], cwd: `${examples}bench` },
  { name: "Deno", cmd: bin("deno"), args: (port) => ["run", "-A", `${examples}bench/deno-server.ts`, fixture, String(port)], cwd: `${examples}bench` },
  { name: "workerd", cmd: bin("workerd"), args: (port) => ["serve", "bench.capnp", "--experimental", "--socket-addr", `http=127.0.0.1:${port}`], cwd: work, config: true },
];

function availableCores() {
  return typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
}

const procs = [];
process.on("exit", () => procs.forEach((p) => p.kill()));
try {
  for (const r of runtimes) {
    if (r.config) await workerdConfig();
    r.port = await freePort();
    r.url = `http://127.0.0.1:${r.port}`;
    const p = spawn(r.cmd, r.args(r.port), { cwd: r.cwd, stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, DENO_NO_UPDATE_CHECK: "1" } });
    procs.push(p);
    r.ops = await waitFor(`${r.name} to serve`, async () => (await fetch(`${r.url}/ops`)).json(), { timeoutMs: 60_000 });
  }
  // OPS=<regexp> times only the operations it matches (ratios whose operations are missing are left out).
  const only = process.env.OPS ? new RegExp(process.env.OPS) : null;
  const ops = runtimes[0].ops.filter((o) => o !== "noop" && (!only || only.test(o)));

  const time = async (r, op, n) => {
    const t0 = process.hrtime.bigint();
    const res = await fetch(`${r.url}/?op=${encodeURIComponent(op)}&n=${n}`);
    const body = await res.text();
    if (!res.ok) throw new Error(`${r.name} ${op}: ${body}`);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  // The fixed cost of a request (HTTP, the runtime's dispatch), measured beside each batch.
  const base = async (r) => Math.min(await time(r, "noop", 1), await time(r, "noop", 1));
  // Calibrate: warm each op up for WARM_MS in batches of about 100 ms (the JIT and the
  // wasm tiers take tens of thousands of calls on the fast ops), then size N so that one
  // request computes for about TARGET_MS.
  const scale = (n, t, ms) => Math.max(1, Math.min(1000000, n * 10, Math.round((n * ms) / Math.max(t, 0.05))));
  for (const r of runtimes) {
    r.n = {};
    for (const op of ops) {
      let n = 10;
      let t = 0;
      const start = performance.now();
      while (performance.now() - start < WARM_MS || t < 50) {
        t = (await time(r, op, n)) - (await base(r));
        n = scale(n, t, 100);
      }
      r.n[op] = scale(n, 100, TARGET_MS);
    }
    r.samples = Object.fromEntries(ops.map((o) => [o, []]));
  }
  const loads = [loadavg()[0]];
  for (let round = 0; round < ROUNDS; round++) {
    loads.push(loadavg()[0]);
    for (const r of runtimes) {
      const order = ops.map((_, k) => ops[(k + round) % ops.length]);
      for (const op of order) {
        const b = await base(r);
        const t = await time(r, op, r.n[op]);
        r.samples[op].push(((t - b) * 1000) / r.n[op]); // µs per op
      }
    }
  }

  loads.push(loadavg()[0]);
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const fmt = (us) => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : us >= 10 ? `${us.toFixed(1)} µs` : `${us.toFixed(2)} µs`);
  console.log(`\nmake bench-js: median of ${ROUNDS} interleaved rounds; µs per operation (lower is better)`);
  console.log(`load average (1 min) during the run: ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)} on ${availableCores()} cores\n`);
  console.log(`| operation | ${runtimes.map((r) => r.name).join(" | ")} |`);
  console.log(`|---|${runtimes.map(() => "---:").join("|")}|`);
  for (const op of ops) console.log(`| ${op} | ${runtimes.map((r) => fmt(median(r.samples[op]))).join(" | ")} |`);
  // A ratio is the median of the per-round ratios: the two operations of a pair run
  // within a second of each other, so a neighbour's load moves both.
  const perRound = (r, a, b) => r.samples[b].map((t, k) => t / r.samples[a][k]);
  const ratio = (r, a, b) => median(perRound(r, a, b)).toFixed(2);
  console.log(`\nratios (jose time / edgeauth time, median of the rounds' ratios; above 1: edgeauth faster)\n`);
  console.log(`| comparison | ${runtimes.map((r) => r.name).join(" | ")} |`);
  console.log(`|---|${runtimes.map(() => "---:").join("|")}|`);
  const row = (label, a, b) => ops.includes(a) && ops.includes(b) && console.log(`| ${label} | ${runtimes.map((r) => ratio(r, a, b)).join(" | ")} |`);
  for (const alg of ["EdDSA", "ES256", "RS256"]) row(`cold ${alg}`, `cold ${alg}: edgeauth`, `cold ${alg}: jose`);
  row("cold RS256, two-phase path (WebCrypto)", "cold RS256: edgeauth two-phase (verifyTokenAsync, WebCrypto)", "cold RS256: jose");
  const D = "repeat visitor, decision: ";
  const R = "repeat visitor, request: ";
  row("decision: Verifier.decide (compact) vs jose + Map", `${D}edgeauth Verifier.decide (compact form)`, `${D}jose + Map (cookie, lookup, exp, route policy)`);
  row("decision: Verifier.decideJSON (JSON) vs jose + Map", `${D}edgeauth Verifier.decideJSON (JSON form, before)`, `${D}jose + Map (cookie, lookup, exp, route policy)`);
  row("request: edge.handle vs jose + Map forwarding identity headers", `${R}edgeauth edge.handle`, `${R}jose + Map, forwarding identity headers`);
  row("request: edge.handle vs jose + Map decision only", `${R}edgeauth edge.handle`, `${D}jose + Map (cookie, lookup, exp, route policy)`);
  row("request: edge.handle vs jose without cache", `${R}edgeauth edge.handle`, `${R}jose, no cache`);
  row("instance ready vs jose key import", "instance ready: edgeauth Verifier + configure + load_keys", "instance ready: jose importJWK x3");
  // The two-phase target (issue 11): cold RS256 within 1.2x of the runtime's own
  // verification (jose on WebCrypto), as time two-phase / time jose, every round.
  const tp = "cold RS256: edgeauth two-phase (verifyTokenAsync, WebCrypto)";
  if (ops.includes(tp) && ops.includes("cold RS256: jose")) {
    console.log(`\ncold RS256, two-phase time / jose time (target 1.2 or less): median, then each round\n`);
    for (const r of runtimes) {
      const xs = perRound(r, "cold RS256: jose", tp);
      console.log(`${r.name}: ${median(xs).toFixed(2)}  (${xs.map((x) => x.toFixed(2)).join(" ")})`);
    }
  }
} finally {
  procs.forEach((p) => p.kill());
}

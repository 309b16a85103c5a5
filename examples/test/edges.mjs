// Starts each example as a user would (the package installed from its tarball in
// examples/node_modules), in front of its own real control plane.
import { cp, rm, mkdir, access } from "node:fs/promises";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { startControlPlane, startProcess, freePort } from "./controlplane.mjs";

const run = promisify(execFile);
export const examples = fileURLToPath(new URL("../", import.meta.url));
const bin = (name) => `${examples}node_modules/.bin/${name}`;
// EXAMPLES_NEXT_ROOT: a directory whose node_modules hold another Next (and the package
// from its tarball), to build and start the Next app against that version instead.
const nextRoot = process.env.EXAMPLES_NEXT_ROOT ? `${process.env.EXAMPLES_NEXT_ROOT.replace(/\/$/, "")}/` : examples;
const nextBin = `${nextRoot}node_modules/.bin/next`;

/** The Next.js app as built for one file convention: proxy.ts (Node) or middleware.ts (edge runtime). */
const nextBuilds = new Map();
export function buildNext(convention) {
  if (!nextBuilds.has(convention)) {
    nextBuilds.set(convention, (async () => {
      // A copy inside examples/ (node_modules resolve upward), with exactly one of the
      // two files at its root, as the README tells a user to keep.
      const dir = `${nextRoot}.build/next-${convention}`;
      // make test-edge builds both once (test/build-next.mjs) for every test file.
      if (process.env.EXAMPLES_NEXT_PREBUILT === "1" && (await access(`${dir}/.next/BUILD_ID`).then(() => true, () => false))) return dir;
      await rm(dir, { recursive: true, force: true });
      await mkdir(`${nextRoot}.build`, { recursive: true });
      await cp(`${examples}nextjs`, dir, { recursive: true, filter: (src) => !/\/(node_modules|\.next|conventions)(\/|$)/.test(src) });
      if (convention.startsWith("middleware")) {
        await rm(`${dir}/proxy.ts`);
        await cp(`${examples}nextjs/conventions/${convention}.ts`, `${dir}/middleware.ts`);
      }
      await run(nextBin, ["build", ...(process.env.EXAMPLES_NEXT_BUILD_ARGS?.split(" ").filter(Boolean) ?? [])], { cwd: dir, env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" }, maxBuffer: 64 << 20 });
      return dir;
    })());
  }
  return nextBuilds.get(convention);
}

/**
 * startEdge starts one example ("workerd", "deno", "edge-runtime", "next-proxy", "next-middleware")
 * and a control plane whose public URL is the example's origin. cpEnv adds control
 * plane settings (EDGEAUTH_*), env the example's (BACKEND_URL). Returns {origin, cp, stop}.
 */
export async function startEdge(kind, { cpEnv = {}, host = process.env.EXAMPLES_HOST ?? "127.0.0.1", env: edgeEnv = {} } = {}) {
  const port = await freePort();
  const origin = `http://${host}:${port}`;
  const controlPlane = await startControlPlane({ publicURL: origin, env: cpEnv });
  const env = { ...edgeEnv, EDGEAUTH_CONTROL_PLANE: controlPlane.url };
  let proc;
  try {
    switch (kind) {
      case "workerd":
        proc = await startProcess(kind, bin("workerd"), ["serve", "config.capnp", "--experimental", "--socket-addr", `http=127.0.0.1:${port}`], {
          cwd: `${examples}workerd`, env, url: `http://127.0.0.1:${port}/`,
        });
        break;
      case "deno":
        proc = await startProcess(kind, bin("deno"), ["run", "--allow-net", "--allow-read", "--allow-env", "main.ts"], {
          cwd: `${examples}deno`, env: { ...env, PORT: String(port), DENO_NO_UPDATE_CHECK: "1" }, url: `http://127.0.0.1:${port}/`,
        });
        break;
      case "edge-runtime":
        proc = await startProcess(kind, process.execPath, ["serve.mjs"], {
          cwd: `${examples}edge-runtime`, env: { ...env, PORT: String(port) }, url: `http://127.0.0.1:${port}/`,
        });
        break;
      case "next-proxy":
      case "next-middleware":
      case "next-middleware-node": {
        const dir = await buildNext(kind.slice(5));
        proc = await startProcess(kind, nextBin, ["start", "-H", "127.0.0.1", "-p", String(port)], {
          cwd: dir, env: { ...env, NEXT_TELEMETRY_DISABLED: "1" }, url: `http://127.0.0.1:${port}/`,
        });
        break;
      }
      default:
        throw new Error(`unknown example ${kind}`);
    }
  } catch (err) {
    await controlPlane.stop();
    throw err;
  }
  return {
    kind,
    origin,
    cp: controlPlane,
    logs: proc.logs,
    async stop() {
      await proc.stop();
      await controlPlane.stop();
    },
  };
}

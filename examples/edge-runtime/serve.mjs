// Runs edge.mjs in edge-runtime as a deployment would: bundled into one script (esbuild),
// evaluated in the sandbox with the precompiled verifier.wasm and the control plane's URL
// as globals, served over HTTP. `node serve.mjs`; PORT and EDGEAUTH_CONTROL_PLANE from
// the environment.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { build } from "esbuild";
import { EdgeRuntime, runServer } from "edge-runtime";

const bundle = await build({
  entryPoints: [new URL("edge.mjs", import.meta.url).pathname],
  bundle: true,
  format: "iife",
  platform: "browser",
  write: false,
  logLevel: "error",
});
const wasm = await readFile(createRequire(import.meta.url).resolve("@edgeauth/edge/verifier.wasm"));

const runtime = new EdgeRuntime({
  initialCode: bundle.outputFiles[0].text,
  extend: (context) =>
    Object.assign(context, {
      EDGEAUTH_WASM: new WebAssembly.Module(wasm),
      EDGEAUTH_CONTROL_PLANE: process.env.EDGEAUTH_CONTROL_PLANE ?? "http://127.0.0.1:8080",
    }),
});
const server = await runServer({ runtime, host: "127.0.0.1", port: Number(process.env.PORT ?? 3000) });
console.log(`edge-runtime listening at ${server.url}`);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.close().then(() => process.exit(0)));

// edgeauth in Deno: `deno run --allow-net --allow-read --allow-env main.ts`.
// Deno resolves "@edgeauth/edge" from node_modules (package.json beside this file).
import { createEdge } from "@edgeauth/edge";
import { app } from "../app/app.mjs";

const wasm = new URL(import.meta.resolve("@edgeauth/edge/verifier.wasm"));

const edge = createEdge({
  module: WebAssembly.compile(await Deno.readFile(wasm)), // Deno compiles wasm at run time
  controlPlane: Deno.env.get("EDGEAUTH_CONTROL_PLANE") ?? "http://127.0.0.1:8080",
  routes: { public_paths: ["/", "/login", "/auth/"], protected: [{ prefix: "/vault/", mfa: true }], default_protected: true },
  apiPrefixes: ["/api/"],
  revocationStream: true, // a long-lived process holds the revocation stream: sign-outs arrive at once
});

Deno.serve(
  { hostname: "127.0.0.1", port: Number(Deno.env.get("PORT") ?? 8000) },
  (request) => edge.fetch(request, app),
);

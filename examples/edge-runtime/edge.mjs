// edgeauth in Vercel's edge-runtime (the sandbox of Vercel Edge Functions and of Next.js
// middleware). Edge functions are bundled before they run (serve.mjs does it with
// esbuild, as Vercel does at deploy), and the platform hands them the compiled module:
// edge sandboxes refuse to compile wasm from bytes at run time.
import { createEdge } from "@edgeauth/edge";
import { app } from "../app/app.mjs";

const edge = createEdge({
  module: globalThis.EDGEAUTH_WASM, // a WebAssembly.Module given by the host (Vercel: import of "verifier.wasm?module")
  controlPlane: globalThis.EDGEAUTH_CONTROL_PLANE, // e.g. https://auth.example.com
  routes: { public_paths: ["/", "/login", "/auth/"], protected: [{ prefix: "/vault/", mfa: true }], default_protected: true },
  apiPrefixes: ["/api/"],
});

addEventListener("fetch", (event) => event.respondWith(edge.fetch(event.request, app, event)));

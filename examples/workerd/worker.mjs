// edgeauth in workerd (Cloudflare Workers' runtime): the edge decides every request
// and forwards the allowed ones to the app with identity headers.
import { createEdge } from "@edgeauth/edge/src/index.mjs";
import verifier from "verifier.wasm"; // a WebAssembly.Module: workerd compiles it at load
import { app } from "app.mjs";

let edge;

export default {
  async fetch(request, env, ctx) {
    edge ??= createEdge({
      module: verifier,
      controlPlane: env.EDGEAUTH_CONTROL_PLANE, // e.g. https://auth.example.com
      routes: { public_paths: ["/", "/login", "/auth/"], protected: [{ prefix: "/vault/", mfa: true }], default_protected: true },
      apiPrefixes: ["/api/"],
    });
    return edge.fetch(request, app, ctx);
  },
};

# workerd configuration: `npx workerd serve config.capnp --experimental`.
# The package's modules are listed one by one (workerd does not read node_modules);
# with wrangler, `import { createEdge } from "@edgeauth/edge"` is enough.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "edge", worker = .edge),
    # Outbound fetches go to the control plane; "local" lets a development control
    # plane on 127.0.0.1 be reached (workerd allows only public addresses by default).
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "edge")],
);

const edge :Workerd.Worker = (
  compatibilityDate = "2026-11-01",
  modules = [
    (name = "worker.mjs", esModule = embed "worker.mjs"),
    (name = "app.mjs", esModule = embed "../app/app.mjs"),
    (name = "verifier.wasm", wasm = embed "../node_modules/@edgeauth/edge/verifier.wasm"),
    (name = "@edgeauth/edge/src/index.mjs", esModule = embed "../node_modules/@edgeauth/edge/src/index.mjs"),
    (name = "@edgeauth/edge/src/edge.mjs", esModule = embed "../node_modules/@edgeauth/edge/src/edge.mjs"),
    (name = "@edgeauth/edge/src/documents.mjs", esModule = embed "../node_modules/@edgeauth/edge/src/documents.mjs"),
    (name = "@edgeauth/edge/src/verifier.mjs", esModule = embed "../node_modules/@edgeauth/edge/src/verifier.mjs"),
    (name = "@edgeauth/edge/src/stream.mjs", esModule = embed "../node_modules/@edgeauth/edge/src/stream.mjs"),
  ],
  bindings = [(name = "EDGEAUTH_CONTROL_PLANE", fromEnvironment = "EDGEAUTH_CONTROL_PLANE")],
);

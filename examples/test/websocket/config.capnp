# workerd for websocket.test.mjs (which sets the socket's address): worker.mjs with the
# package as installed in examples/node_modules.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "edge", worker = .edge),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "edge")],
);

const edge :Workerd.Worker = (
  compatibilityDate = "2026-11-01",
  modules = [
    (name = "worker.mjs", esModule = embed "worker.mjs"),
    (name = "verifier.wasm", wasm = embed "../../node_modules/@edgeauth/edge/verifier.wasm"),
    (name = "@edgeauth/edge/src/index.mjs", esModule = embed "../../node_modules/@edgeauth/edge/src/index.mjs"),
    (name = "@edgeauth/edge/src/edge.mjs", esModule = embed "../../node_modules/@edgeauth/edge/src/edge.mjs"),
    (name = "@edgeauth/edge/src/documents.mjs", esModule = embed "../../node_modules/@edgeauth/edge/src/documents.mjs"),
    (name = "@edgeauth/edge/src/verifier.mjs", esModule = embed "../../node_modules/@edgeauth/edge/src/verifier.mjs"),
    (name = "@edgeauth/edge/src/stream.mjs", esModule = embed "../../node_modules/@edgeauth/edge/src/stream.mjs"),
  ],
  bindings = [
    (name = "EDGEAUTH_CONTROL_PLANE", fromEnvironment = "EDGEAUTH_CONTROL_PLANE"),
    (name = "UPSTREAM", fromEnvironment = "UPSTREAM"),
  ],
);

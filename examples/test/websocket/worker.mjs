// A worker for websocket.test.mjs: the edge in front of an app that answers an upgrade
// itself (/live: a WebSocketPair) and of an upstream WebSocket server (/proxy/: proxied
// by edge.fetch to UPSTREAM).
import { createEdge } from "@edgeauth/edge/src/index.mjs";
import verifier from "verifier.wasm";

let edge;

// live answers the upgrade: its first message is the subject the edge forwarded, then
// it echoes.
function live(request) {
  const [client, server] = Object.values(new WebSocketPair());
  server.accept();
  server.send(JSON.stringify({ subject: request.headers.get("x-edgeauth-subject") }));
  server.addEventListener("message", (e) => server.send(`echo:${e.data}`));
  return new Response(null, { status: 101, webSocket: client });
}

export default {
  fetch(request, env, ctx) {
    edge ??= createEdge({ module: verifier, controlPlane: env.EDGEAUTH_CONTROL_PLANE, routes: { public_paths: ["/", "/login", "/auth/"], default_protected: true } });
    const path = new URL(request.url).pathname;
    if (path.startsWith("/proxy/")) return edge.fetch(request, env.UPSTREAM, ctx);
    return edge.fetch(request, (r) => (path === "/live" ? live(r) : new Response(`page for ${r.headers.get("x-edgeauth-subject")}\n`)), ctx);
  },
};

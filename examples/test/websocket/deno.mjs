// Deno for websocket.test.mjs: /live upgraded as README says (edge.handle, then
// Deno.upgradeWebSocket on the request received); /proxy/ proxied by edge.fetch to UPSTREAM.
import { createEdge } from "../../node_modules/@edgeauth/edge/src/index.mjs";

const edge = createEdge({
  module: WebAssembly.compile(await Deno.readFile(new URL("../../node_modules/@edgeauth/edge/verifier.wasm", import.meta.url))),
  controlPlane: Deno.env.get("EDGEAUTH_CONTROL_PLANE"),
  routes: { public_paths: ["/", "/login", "/auth/"], default_protected: true },
});
const upstream = Deno.env.get("UPSTREAM");

Deno.serve({ hostname: "127.0.0.1", port: Number(Deno.env.get("PORT")) }, async (request) => {
  const path = new URL(request.url).pathname;
  if (path.startsWith("/proxy/")) return edge.fetch(request, upstream);
  if (path === "/live") {
    const o = await edge.handle(request);
    if (o.response) return o.response;
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.onopen = () => socket.send(JSON.stringify({ subject: o.requestHeaders.get("x-edgeauth-subject") }));
    socket.onmessage = (e) => socket.send(`echo:${e.data}`);
    return response;
  }
  return edge.fetch(request, (r) => new Response(`page for ${r.headers.get("x-edgeauth-subject")}\n`));
});

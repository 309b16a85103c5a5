// The Next.js adapter: one function for middleware.ts (edge runtime) and proxy.ts
// (Node), turning an Outcome into what Next expects: the answer itself, or
// NextResponse.next/rewrite with the forwarded request headers, plus cookies.
import { NextResponse } from "next/server";
// Next's bundler turns a ?module import into a WebAssembly.Module, on the edge runtime
// and on Node alike (edge runtimes refuse to compile wasm bytes at run time).
import verifier from "../verifier.wasm?module";
import { dropHopByHop } from "./edge.mjs";

/** verifier.wasm as a WebAssembly.Module, for createEdge({ module }). */
export const verifierModule = verifier;

/**
 * nextHandler returns a middleware/proxy function for the edge.
 * @param {import("./edge.mjs").Edge} edge
 */
export function nextHandler(edge) {
  return async function edgeauth(request, event) {
    // next.config's basePath: Next hands over the full path; the edge decides on the
    // app's (edge.handle, ctx.basePath). nextUrl.basePath is "" for a path outside it.
    const basePath = request.nextUrl?.basePath || undefined;
    const o = await edge.handle(request, { waitUntil: event?.waitUntil?.bind(event), origin: browserOrigin(request), basePath });
    // The control plane and a bearerProxy backend (o.upstream) the edge forwards to
    // itself, as edge.fetch does: Next's rewrite answers an upstream it cannot reach with
    // a 500 in text, where every edge answers 502 upstream_unreachable (JSON: they are
    // APIs), and copies every header of the proxy's response onto the request it
    // rewrites, so a refresh at the edge would hand the backend the new refresh token as
    // a Set-Cookie request header. A WebSocket upgrade stays Next's rewrite, which
    // proxies it: fetch opens no WebSocket.
    if (!o.response && o.upstream !== undefined && o.requestHeaders.get("upgrade")?.trim().toLowerCase() !== "websocket") {
      return forwardUpstream(edge, o, request);
    }
    return toNextResponse(o, request);
  };
}

/**
 * browserOrigin is the origin the browser used. Next hands proxy.ts and middleware.ts a
 * URL on its own listener (http://localhost:3000 under `next start`, whatever Host the
 * browser sent), which the control plane's CSRF check refuses as the Origin of the
 * edge's refresh call. Read as Next reads it for server actions: X-Forwarded-Host (which
 * Next sets from Host when absent) or Host, with X-Forwarded-Proto.
 */
function browserOrigin(request) {
  const h = request.headers;
  const host = firstValue(h.get("x-forwarded-host")) ?? firstValue(h.get("host"));
  if (!host) return undefined;
  const proto = firstValue(h.get("x-forwarded-proto")) ?? new URL(request.url).protocol.slice(0, -1);
  if (proto !== "http" && proto !== "https") return undefined;
  // A name or an IP literal and a port, nothing a URL would read as more than its host.
  if (!/^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/.test(host)) return undefined;
  try {
    return new URL(`${proto}://${host}`).origin;
  } catch {
    return undefined;
  }
}

function firstValue(v) {
  const first = v?.split(",")[0].trim();
  return first ? first : undefined;
}

/**
 * toNextResponse turns an Outcome into a NextResponse (or the Response to answer with).
 * Next refuses a relative Location from middleware and proxy, so redirects are made
 * absolute against the origin the browser used (browserOrigin), not the request's URL:
 * Next 15 hands middleware http://localhost:<port> whatever Host the browser sent, and
 * a browser sent there leaves its cookies behind on the other host.
 */
export function toNextResponse(o, request) {
  if (o.response) {
    const loc = o.response.headers.get("location");
    if (loc && request && !/^[a-z][a-z0-9+.-]*:/i.test(loc)) o.response.headers.set("location", new URL(loc, browserOrigin(request) ?? request.url).href);
    return o.response;
  }
  const init = { request: { headers: o.requestHeaders } };
  const res = o.upstream === undefined ? NextResponse.next(init) : NextResponse.rewrite(new URL(o.upstream), init);
  for (const c of o.setCookies) res.headers.append("set-cookie", c);
  return res;
}

// forwardUpstream forwards o's request to o.upstream (edge.proxy) and returns the answer
// with headers Next may change, a relative Location made absolute as toNextResponse
// makes it (the control plane redirects its refresh to a path).
async function forwardUpstream(edge, o, request) {
  const headers = o.requestHeaders;
  dropHopByHop(headers);
  // fetch decodes what it asked for itself (proxiedResponse).
  headers.delete("accept-encoding");
  const init = { method: request.method, headers, redirect: "manual" };
  if (request.body && request.method !== "GET" && request.method !== "HEAD") {
    init.body = request.body;
    init.duplex = "half";
  }
  // The upstream is a bearerProxy backend or the control plane, both APIs: a 502 is JSON.
  const res = await edge.proxy(new Request(o.upstream, init), o.setCookies, true);
  // Next changes the headers of the Response its proxy returns, and a fetched one's are
  // immutable (TypeError: immutable, a 500): a copy.
  const answer = new Headers(res.headers);
  const loc = answer.get("location");
  if (loc && !/^[a-z][a-z0-9+.-]*:/i.test(loc)) answer.set("location", new URL(loc, browserOrigin(request) ?? request.url).href);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers: answer });
}

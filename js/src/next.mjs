// The Next.js adapter: one function for middleware.ts (edge runtime) and proxy.ts
// (Node), turning an Outcome into what Next expects: the answer itself, or
// NextResponse.next/rewrite with the forwarded request headers, plus cookies.
import { NextResponse } from "next/server";

/**
 * nextHandler returns a middleware/proxy function for the edge.
 * @param {import("./edge.mjs").Edge} edge
 */
export function nextHandler(edge) {
  return async function edgeauth(request, event) {
    const o = await edge.handle(request, { waitUntil: event?.waitUntil?.bind(event) });
    return toNextResponse(o);
  };
}

/** toNextResponse turns an Outcome into a NextResponse (or the Response to answer with). */
export function toNextResponse(o) {
  if (o.response) return o.response;
  const init = { request: { headers: o.requestHeaders } };
  const res = o.upstream === undefined ? NextResponse.next(init) : NextResponse.rewrite(new URL(o.upstream), init);
  for (const c of o.setCookies) res.headers.append("set-cookie", c);
  return res;
}

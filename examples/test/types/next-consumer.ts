// The Next.js adapter's declarations, used as middleware.ts/proxy.ts would (checked with
// skipLibCheck: Next's own declarations do not pass a strict check of node_modules).
import type { NextRequest, NextFetchEvent } from "next/server";
import { createEdge } from "@edgeauth/edge";
import { nextHandler, toNextResponse, verifierModule } from "@edgeauth/edge/next";

const edge = createEdge({ module: verifierModule, controlPlane: "https://auth.example.com" });
export const proxy: (request: NextRequest, event?: NextFetchEvent) => Promise<Response> = nextHandler(edge);
export async function middleware(request: NextRequest): Promise<Response> {
  return toNextResponse(await edge.handle(request), request);
}

// Types of @edgeauth/edge/next (src/next.mjs).
import type { NextFetchEvent, NextRequest, NextResponse } from "next/server";
import type { Edge, Outcome } from "./index.js";

/** A function for middleware.ts (edge runtime) or proxy.ts (Node). */
export function nextHandler(edge: Edge): (request: NextRequest, event?: NextFetchEvent) => Promise<Response>;
export function toNextResponse(outcome: Outcome, request?: Request): Response | NextResponse;

/** verifier.wasm as a WebAssembly.Module (Next's bundler compiles it), for createEdge({ module }). */
export const verifierModule: WebAssembly.Module;

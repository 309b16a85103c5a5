// @edgeauth/edge: the edge for JS runtimes (Next.js middleware and proxy, workerd,
// Deno, Vercel's edge-runtime, Node). See README.md, and the repository's README, "The edge
// in JavaScript".
export { createEdge, isIdentityHeader, stripIdentityHeaders, IDENTITY_HEADERS, LOCAL_RULES, WELL_KNOWN } from "./edge.mjs";
export { Verifier, EdgeauthError, STATUS, ABI_VERSION, REQUIRED_EXPORTS, TWO_PHASE_EXPORTS, cookieHeaders, toUnixSeconds, toMillis } from "./verifier.mjs";

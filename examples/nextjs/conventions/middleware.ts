// The same edge as middleware.ts (Next's edge runtime): move this file to the app's root
// in place of proxy.ts (Next refuses both at once).
import { edgeauth } from "./edgeauth";

export const middleware = edgeauth;
export const config = {
  matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"],
  unstable_allowDynamic: ["**/node_modules/@edgeauth/edge/src/edge.mjs"],
};

// The same edge as middleware.ts on Node (Next 15.5 and later): move this file to the
// app's root as middleware.ts in place of proxy.ts.
import { edgeauth } from "./edgeauth";

export const middleware = edgeauth;
export const config = { matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"], runtime: "nodejs" };

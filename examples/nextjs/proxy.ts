// Next 16: proxy.ts runs on Node. conventions/middleware.ts is the same on the edge runtime.
import { edgeauth } from "./edgeauth";

export const proxy = edgeauth;
export const config = { matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"] };

// The edge for this app: the same code runs as middleware.ts (edge runtime) and as
// proxy.ts (Node, Next 16's name for it). Everything about tokens and cookies comes
// from the control plane's edge configuration; only the route rules are ours.
import { createEdge } from "@edgeauth/edge";
import { nextHandler, verifierModule } from "@edgeauth/edge/next";

const edge = createEdge({
  module: verifierModule,
  controlPlane: process.env.EDGEAUTH_CONTROL_PLANE ?? "http://127.0.0.1:8080",
  routes: { public_paths: ["/", "/login", "/auth/"], protected: [{ prefix: "/vault/", mfa: true }], default_protected: true },
  apiPrefixes: ["/api/"],
  // Cookie to Bearer: /backend/* goes to BACKEND_URL (when set) with the access token as
  // Authorization: Bearer, without cookies.
  bearerProxy: process.env.BACKEND_URL ? [{ prefix: "/backend/", upstream: process.env.BACKEND_URL, stripPrefix: true }] : [],
});

export const edgeauth = nextHandler(edge);

// Every path but Next's own assets goes through the edge.
export const matcher = ["/((?!_next/static|_next/image|favicon.ico).*)"];

// A typed consumer of @edgeauth/edge as installed from its tarball: `tsc` checks that
// the declarations describe the package's public API (types.test.mjs runs it; the
// lines marked @ts-expect-error must stay errors).
import {
  createEdge, isIdentityHeader, stripIdentityHeaders, cookieHeaders, toUnixSeconds, toMillis,
  Verifier, EdgeauthError, IDENTITY_HEADERS, WELL_KNOWN, type Edge, type Outcome, type Decision, type EdgeOptions,
} from "@edgeauth/edge";
import { createAuthFetch } from "@edgeauth/edge/browser";

declare const module: WebAssembly.Module;

const options: EdgeOptions = {
  module,
  controlPlane: "https://auth.example.com",
  routes: { public_paths: ["/", "/login", "/auth/"], protected: [{ prefix: "/admin/", roles: ["admin"] }, { prefix: "/vault/", mfa: true }], default_protected: true },
  apiPrefixes: ["/api/"],
  bearerProxy: [{ prefix: "/backend/", upstream: "https://api.internal", stripPrefix: true }],
  now: () => new Date(),
  log: (e) => void e.event,
};
const edge: Edge = createEdge(options);
createEdge({ module: Promise.resolve(new Uint8Array(8)), controlPlane: "http://127.0.0.1:8080", now: () => Date.now() });

// @ts-expect-error: issuer comes from the control plane, not from local route rules
createEdge({ module, controlPlane: "x", routes: { issuer: "https://other" } });
// @ts-expect-error: controlPlane is required
createEdge({ module });

async function serve(request: Request): Promise<Response> {
  const o: Outcome = await edge.handle(request, { waitUntil: (p) => void p });
  if (o.action === "respond") return o.response;
  const headers: Headers = o.requestHeaders;
  const upstream: string | undefined = o.upstream;
  const res = await fetch(upstream ?? request.url, { headers });
  for (const c of o.setCookies) res.headers.append("set-cookie", c);
  return edge.fetch(request, (req) => new Response(req.headers.get(IDENTITY_HEADERS.subject)));
}
void serve;
void edge.fetch(new Request("http://x/"), "http://app.internal:3000");
const ready: Promise<void> = edge.ready();
void ready;
const fresh: boolean = edge.status().fresh;
void fresh;

const v = new Verifier(module);
v.configure({});
const d: Decision = v.decide({ method: "GET", path: "/", cookies: [null, "a=b"] }, new Date());
const later: Promise<Decision> = v.decideAsync({ method: "GET", path: "/" }, Date.now());
const own = new Verifier(module, { moduleSignatures: true });
const checks: number = own.hostChecks;
void [later, checks, own.verifyTokenAsync("x", 0), createEdge({ module, controlPlane: "x", moduleSignatures: true })];
// @ts-expect-error: moduleSignatures is a boolean
createEdge({ module, controlPlane: "x", moduleSignatures: "yes" });
if (d.action === "allow" && d.identity) {
  const sub: string = d.identity.sub;
  const secondFactor: boolean | undefined = d.identity.mfa;
  void [sub, secondFactor];
}
const secondFactorHeader: string = IDENTITY_HEADERS.secondFactor;
void secondFactorHeader;
// @ts-expect-error: mfa is a boolean
createEdge({ module, controlPlane: "x", routes: { protected: [{ prefix: "/vault/", mfa: "yes" }] } });
const secs: bigint = toUnixSeconds(Date.now());
const ms: number = toMillis(new Date());
const list: string[] = cookieHeaders(new Headers());
const spoof: boolean = isIdentityHeader("X_Edgeauth_Subject");
const clean: Headers = stripIdentityHeaders({ "x-edgeauth-subject": "a" });
const path: string = WELL_KNOWN.edgeConfig;
void [secs, ms, list, spoof, clean, path];
try {
  v.verifyToken("x", 0);
} catch (err) {
  if (err instanceof EdgeauthError) {
    const detail: string = err.detail;
    const status: string = err.status;
    void [detail, status];
  }
}

const authFetch = createAuthFetch({ refreshURL: "https://api.example.com/auth/refresh", loginURL: "/login", refreshTimeoutMs: 5000 });
const r: Promise<Response> = authFetch("/api/me", { method: "GET" });
void r;

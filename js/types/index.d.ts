// Types of @edgeauth/edge (src/index.mjs). Checked by `tsc` against a typed consumer
// (examples/test/types/consumer.ts) in `make test-edge`.

/** What a runtime hands over for time: a Date, milliseconds (Date.now()) or unix seconds. */
export type TimeLike = Date | number | bigint;

export interface CookieDescription {
  name: string;
  path: string;
  domain?: string;
  secure: boolean;
  http_only: boolean;
  same_site: "Strict" | "Lax" | "None";
}

/** The control plane's published edge configuration (GET /.well-known/edgeauth/edge-config). */
export interface EdgeConfigDocument {
  issuer: string;
  audience: string;
  algorithms: Array<"EdDSA" | "ES256" | "RS256">;
  leeway_seconds: number;
  access_cookie: CookieDescription;
  refresh_cookie: CookieDescription;
  login_path: string;
  refresh_path: string;
  logout_path: string;
}

export interface ProtectedPrefix {
  prefix: string;
  roles?: string[];
  /** Needs a sign-in with a second factor (the token's amr lists "mfa"); else 403 mfa_required. */
  mfa?: boolean;
}

/** Route rules an edge sets itself (verifier/ABI.md, "configure"). */
export interface RouteRules {
  public_paths?: string[];
  protected?: ProtectedPrefix[];
  default_protected?: boolean;
  after_login_path?: string;
  /** Bound of the verified-token cache, which grows with use (default 1024; 0 turns it off). */
  cache_entries?: number;
  allow_bearer?: boolean;
}

export interface Identity {
  sub: string;
  sid: string;
  roles?: string[];
  exp: number;
  /** true when the token's sign-in used a second factor (its amr lists "mfa"). */
  mfa?: boolean;
}

/** The module's decision (verifier/ABI.md, "decide" and "decide_compact"). */
export interface Decision {
  action: "allow" | "redirect" | "refresh" | "deny";
  reason: string;
  status?: number;
  location?: string;
  /** Frozen: one object is shared by every decision on the same cached token. */
  identity?: Readonly<Identity>;
  clear_cookies?: string[];
}

export interface BearerRoute {
  /** Path prefix, e.g. "/api/". */
  prefix: string;
  /** Backend base URL the requests go to, with `Authorization: Bearer` and no cookies. */
  upstream: string;
  /** Drop the prefix from the forwarded path, which then starts with a "/" ("/api/users" under "/api/" becomes "/users"; the prefix itself becomes "/"). */
  stripPrefix?: boolean;
}

export interface EdgeEvent {
  level: "debug" | "info" | "warn" | "error";
  event: string;
  [key: string]: unknown;
}

export type ModuleSource =
  | WebAssembly.Module
  | ArrayBuffer
  | ArrayBufferView
  | { default: WebAssembly.Module }
  | Promise<WebAssembly.Module | ArrayBuffer | ArrayBufferView | { default: WebAssembly.Module }>;

export interface EdgeOptions {
  /** verifier.wasm, compiled (edge runtimes refuse to compile bytes at run time). */
  module: ModuleSource;
  /** The control plane's base URL, e.g. "https://auth.example.com". */
  controlPlane: string;
  /** Local route rules; the rest comes from the control plane's edge configuration. */
  routes?: RouteRules;
  /** Routes answered as an API: 401 JSON instead of redirects, and every refusal (400, 403, 503) as JSON rather than text (so is a WebSocket upgrade, and a POST, PUT, ... from fetch or a Next server action). */
  apiPrefixes?: string[];
  /** Cookie-to-Bearer API proxy routes. */
  bearerProxy?: BearerRoute[];
  /** Paths forwarded to the control plane unchanged (default ["/auth/", "/.well-known/jwks.json", "/.well-known/edgeauth/"]). */
  controlPlanePrefixes?: string[];
  /** Rotate the session at the edge when the refresh cookie reaches it (default true); never on a HEAD, a prefetch or a WebSocket upgrade (401 token_expired). */
  refreshAtEdge?: boolean;
  /**
   * Hold the control plane's revocation stream (Server-Sent Events) where the runtime
   * keeps a connection open (Node, Deno): a sign-out reaches the edge at once instead of
   * at the next poll. A pushed revocation, once its signature verifies, refuses its
   * session at once (reason "revoked"), before a list names it. Default false
   * (request-scoped isolates such as workerd and Next middleware poll).
   */
  revocationStream?: boolean;
  /**
   * Where a cold RS256 token's signature is checked. true: in the module. false: by
   * WebCrypto on the two-phase path (verifier/ABI.md, "Two-phase verification"), same
   * decisions. Left out: whichever `make bench-js` measured faster in this runtime:
   * WebCrypto in Node and workerd (about 1.6x and 4x), the module in Deno (about 2x).
   */
  moduleSignatures?: boolean;
  /** Origin sent with the edge's own refresh call (default: ctx.origin, else the request's origin); also the edge's own origin for a WebSocket upgrade's Origin check. */
  publicOrigin?: string;
  /**
   * Origins, besides the edge's own (publicOrigin, else ctx.origin, else the request's),
   * whose pages may open a WebSocket through the edge with the session cookie: exact
   * origins, `scheme://host[:port]` without a path, as wsauth's AllowedOrigins (spaces and
   * a trailing "/" trimmed; kept as a browser writes Origin: host lower-cased, default
   * port dropped). An upgrade whose Origin is any other (`null` too) is answered 403
   * `origin_not_allowed` before its session is read (cross-site WebSocket hijacking); one
   * without Origin (not a browser) is decided by its session. Default [].
   */
  webSocketOrigins?: string[];
  fetch?: typeof fetch;
  /** Clock: Date or milliseconds (or seconds). Default Date.now. */
  now?: () => TimeLike;
  /** Timeout of every call to the control plane (default 5000). */
  timeoutMs?: number;
  /** Fail closed (503) when keys or revocation list are older than this (default 600000). */
  maxStaleMs?: number;
  /** At most one JWKS refetch for an unknown kid per this many ms (default 10000). */
  keyRefetchCooldownMs?: number;
  /** Structured events (never tokens); default: warnings and errors to console.warn. */
  log?: (event: EdgeEvent) => void;
}

/**
 * error.code of the edge's JSON answers, `{"error":{"code":...,"message":...}}` (to an API
 * request: apiPrefixes, a WebSocket upgrade, a POST, PUT, ... from fetch), the same as the
 * Go edge's and sessionauth's for the same refusal (`session_ended` and
 * `websocket_unsupported` are this edge's alone: the Go edge neither refreshes nor proxies
 * with fetch): 401 `unauthenticated`, `token_expired` (refresh and retry),
 * `session_ended` (a refresh at the edge was refused: sign in again); 403 `missing_role`
 * (signed in, without a role the route requires), `mfa_required` (signed in without the
 * second factor a route requires: `"mfa": true`), `origin_not_allowed` (a WebSocket upgrade
 * from a page of another origin: webSocketOrigins); 400 `invalid_path`, 400 or 431
 * `invalid_request`; 503 `unavailable` (with Retry-After); 500 `internal`; 501
 * `websocket_unsupported` (edge.fetch asked to proxy a WebSocket upgrade where fetch
 * cannot: every runtime but workerd); 502 `upstream_unreachable` (edge.fetch could not
 * reach the origin, backend or control plane it proxies to; the Go edge answers 502 too).
 */
export type EdgeErrorCode = "unauthenticated" | "token_expired" | "session_ended" | "missing_role" | "mfa_required" | "origin_not_allowed" | "invalid_path" | "invalid_request" | "unavailable" | "internal" | "websocket_unsupported" | "upstream_unreachable";

/** What to do with a request. */
export type Outcome =
  | {
      action: "forward";
      reason: string;
      decision: Decision | null;
      identity: Identity | null;
      /** Where to send it: undefined for the app itself, else a URL (control plane, Bearer backend). */
      upstream: string | undefined;
      /** Headers to forward: client identity headers removed, ours set, cookies refreshed or Bearer. */
      requestHeaders: Headers;
      /** Set-Cookie values to add to the response. */
      setCookies: string[];
      response: null;
    }
  | {
      action: "respond";
      reason: string;
      decision: Decision | null;
      identity: null;
      upstream: undefined;
      requestHeaders: null;
      setCookies: string[];
      /** The answer: redirect (302; 303 to a POST that navigates, with cookies cleared), 401/403, 400, 503; JSON with an EdgeErrorCode to an API request, text to a page. */
      response: Response;
    };

export interface DocumentStatus {
  ageMs: number;
  etag: string | null;
  error?: string;
}

export interface EdgeStatus {
  ready: boolean;
  fresh: boolean;
  config: DocumentStatus;
  keys: DocumentStatus;
  revocations: DocumentStatus;
}

export interface HandleContext {
  /** Keeps background refetches alive after the response (ctx.waitUntil, event.waitUntil). */
  waitUntil?: (promise: Promise<unknown>) => void;
  /**
   * The origin the browser used, when request.url names another (Next's adapter passes
   * it): sent as Origin with the edge's refresh call unless publicOrigin is set.
   */
  origin?: string;
  /**
   * The path the app is served under ("/app"; Next's adapter passes next.config's
   * basePath). A request under it is decided on the path that follows (route rules and
   * the control plane's paths name app paths), and the edge's redirects, return_to
   * included, go back under it. Must start with "/" and not end with one.
   */
  basePath?: string;
}

export interface Edge {
  /** Loads the edge configuration, keys and revocation list; handle() does it on the first request. */
  ready(): Promise<void>;
  handle(request: Request, ctx?: HandleContext): Promise<Outcome>;
  /** Fetch API adapter: answer, or forward to app (a handler, or an origin to proxy to). A WebSocket upgrade is proxied to an origin only in workerd; elsewhere it is answered 501 `websocket_unsupported`. An upstream it cannot reach is answered 502 `upstream_unreachable`, with the cookies of a refresh made for the request; an app handler that throws after such a refresh, 500 `internal` with them (otherwise its exception propagates). */
  fetch(request: Request, app: ((request: Request) => Response | Promise<Response>) | string, ctx?: HandleContext): Promise<Response>;
  status(): EdgeStatus;
  /** Stops the revocation stream, if one is held, and keeps it from being opened later: the edge goes on deciding, polling. */
  close(): void;
  /** The module configuration in force (edge configuration plus routes). */
  readonly config: Record<string, unknown> | null;
}

export function createEdge(options: EdgeOptions): Edge;

export const IDENTITY_HEADERS: Readonly<{ subject: string; session: string; roles: string; expiresAt: string; secondFactor: string }>;
export const LOCAL_RULES: readonly string[];
export const WELL_KNOWN: Readonly<{ edgeConfig: string; jwks: string; revocations: string; revocationStream: string }>;
export function isIdentityHeader(name: string): boolean;
export function stripIdentityHeaders(headers: HeadersInit): Headers;

export type CookieInput = string | null | undefined | Array<string | null | undefined> | Headers;
export function cookieHeaders(cookies: CookieInput): string[];
export function toUnixSeconds(now: TimeLike): bigint;
export function toMillis(t: TimeLike): number;

export const ABI_VERSION: number;
export const STATUS: readonly string[];
export const REQUIRED_EXPORTS: Readonly<Record<string, [string[], string[]]>>;
/** Exports of the two-phase path, used when the module has them. */
export const TWO_PHASE_EXPORTS: Readonly<Record<string, [string[], string[]]>>;

export class EdgeauthError extends Error {
  constructor(code: number, op: string, detail?: string);
  readonly code: number;
  readonly status: string;
  /** The module's explanation, when it gives one (what to fix in a refused configuration). */
  readonly detail: string;
}

export interface VerifyRequest {
  method: string;
  path: string;
  query?: string;
  cookies?: CookieInput;
  authorization?: string | null;
}

export interface Claims {
  iss: string;
  sub: string;
  aud: string[];
  sid: string;
  roles?: string[];
  jti?: string;
  iat?: number;
  nbf?: number;
  exp: number;
  /** true when the token's sign-in used a second factor (its amr lists "mfa"). */
  mfa?: boolean;
}

export interface VerifierOptions {
  /**
   * true: declare no host signatures, so the *Async methods check every signature in the
   * module, as the synchronous ones always do. false: RS256 goes to WebCrypto where the
   * runtime has it. Left out: false, except in Deno, where the module's RS256 measured
   * faster than WebCrypto.
   */
  moduleSignatures?: boolean;
}

/**
 * One module instance: the ABI, nothing more (createEdge builds on it). The synchronous
 * methods check signatures in the module; the *Async ones hand a cold RS256 token's
 * signature to WebCrypto (the two-phase path) and give the same answers.
 */
export class Verifier {
  constructor(module: WebAssembly.Module, options?: VerifierOptions);
  configure(config: object | string): void;
  loadKeys(jwks: object | string): void;
  loadRevocations(list: string | Uint8Array, now: TimeLike): void;
  /** Decides through decide_compact (no JSON; identity read once per cached token). */
  decide(request: VerifyRequest, now: TimeLike): Decision;
  /**
   * decide, with a cold RS256 token's signature checked by WebCrypto; rejects with an
   * EdgeauthError (status "Internal") when WebCrypto fails.
   */
  decideAsync(request: VerifyRequest, now: TimeLike): Promise<Decision>;
  /** Decides through the JSON export (decide): the reference form. */
  decideJSON(request: VerifyRequest, now: TimeLike): Decision;
  /** The instance's heap allocation count so far (a diagnostic for tests). */
  heapAllocs(): bigint;
  verifyToken(token: string | Uint8Array, now: TimeLike): Claims;
  verifyTokenAsync(token: string | Uint8Array, now: TimeLike): Promise<Claims>;
  verifySignature(input: Uint8Array): void;
  verifySignatureAsync(input: Uint8Array): Promise<void>;
  /** Signatures WebCrypto has checked for this instance (a diagnostic for tests). */
  readonly hostChecks: number;
}

// createEdge: the edge in a JS runtime. It starts from the control plane's published
// edge configuration plus local route rules, keeps the JWKS and the signed revocation
// list current (ETag, one fetch in flight, timeouts, unknown-kid refetch with a
// cooldown, fail closed after a maximum staleness), decides each request with
// verifier.wasm and says what to do: forward (with identity headers, refreshed cookies
// or a Bearer token) or answer (redirect, 401/403, 503).
import { Verifier, EdgeauthError, cookieHeaders, toMillis, isWasmModule } from "./verifier.mjs";
import { Document } from "./documents.mjs";
import { RevocationStream } from "./stream.mjs";

/** Identity headers set on forwarded requests (every client-sent spelling is removed first). */
export const IDENTITY_HEADERS = Object.freeze({
  subject: "x-edgeauth-subject",
  session: "x-edgeauth-session",
  roles: "x-edgeauth-roles",
  expiresAt: "x-edgeauth-expires-at",
  secondFactor: "x-edgeauth-second-factor",
});

/** Route rules an edge sets itself; everything else comes from the control plane. */
// The verified-token cache's bound when routes set none: the Go edge's default.
const DEFAULT_CACHE_ENTRIES = 1024;

export const LOCAL_RULES = Object.freeze(["public_paths", "protected", "default_protected", "after_login_path", "cache_entries", "allow_bearer"]);

// Members of the published edge configuration that the module's configuration takes.
// Each is passed on as published: leeway_seconds: 0 is no leeway, and a document without
// leeway_seconds leaves the module's default, also 0 (verifier/ABI.md, "configure").
const MODULE_MEMBERS = ["issuer", "audience", "algorithms", "leeway_seconds", "access_cookie", "refresh_cookie", "login_path", "refresh_path", "logout_path"];

export const WELL_KNOWN = Object.freeze({
  edgeConfig: "/.well-known/edgeauth/edge-config",
  jwks: "/.well-known/jwks.json",
  revocations: "/.well-known/edgeauth/revocations",
  revocationStream: "/.well-known/edgeauth/revocations/stream",
});

const DEFAULTS = {
  timeoutMs: 5000,
  maxStaleMs: 10 * 60 * 1000,
  keyRefetchCooldownMs: 10 * 1000,
  // The control plane's paths the browser reaches through the edge (same site): its API
  // and its published documents, not the app's other /.well-known/ files.
  controlPlanePrefixes: ["/auth/", "/.well-known/jwks.json", "/.well-known/edgeauth/"],
  refreshAtEdge: true,
};

const OPTION_NAMES = new Set(["module", "controlPlane", "routes", "apiPrefixes", "bearerProxy", "controlPlanePrefixes", "refreshAtEdge", "revocationStream",
  "moduleSignatures", "publicOrigin", "webSocketOrigins", "fetch", "now", "timeoutMs", "maxStaleMs", "keyRefetchCooldownMs", "log"]);

/**
 * isIdentityHeader reports whether a header name is reserved for the identity headers
 * (verifier/ABI.md, "Identity headers"): with every byte that is not an ASCII letter or
 * digit dropped and letters upper-cased, it begins with XEDGEAUTH. That folds every
 * spelling a server could read as one of ours (case, `_` for `-`, doubled or missing
 * separators) and reserves the whole namespace.
 */
export function isIdentityHeader(name) {
  // The letters and digits of name, upper-cased, compared with XEDGEAUTH as they come:
  // name.replace(/[^A-Za-z0-9]/g, "").toUpperCase().startsWith("XEDGEAUTH") without
  // making a string (every request's every header name passes here).
  let k = 0;
  for (let i = 0; i < name.length; i++) {
    let c = name.charCodeAt(i);
    if (c >= 97 && c <= 122) c -= 32;
    else if (!((c >= 65 && c <= 90) || (c >= 48 && c <= 57))) continue;
    if (c !== RESERVED.charCodeAt(k)) return false;
    if (++k === RESERVED.length) return true;
  }
  return false;
}
const RESERVED = "XEDGEAUTH";

/**
 * stripIdentityHeaders returns a copy of headers without any reserved header, and with
 * reserved names removed from Connection (a proxy deletes the headers Connection
 * lists, which would remove ours). It throws a TypeError when Trailer announces a
 * reserved name (such a request is refused with 400).
 */
export function stripIdentityHeaders(headers) {
  return cleanHeaders(headers).headers;
}

/**
 * cleanHeaders is stripIdentityHeaders, also returning the Cookie and Authorization
 * values it met on the way (null when absent): one pass over the headers, no lookups.
 * Where iterating Headers is dear (collect: Deno), the pass reads the source and
 * collects what to keep; elsewhere the copy is made at once and the pass reads the
 * source (its names come sorted and combined, as the copy's would). Not part of the
 * package's API (index.mjs); exported for its tests.
 */
export function cleanHeaders(headers, collect = ITERATION_IS_DEAR) {
  const source = headers instanceof Headers;
  collect &&= source;
  const out = collect ? null : new Headers(headers);
  const record = collect ? { __proto__: null } : null;
  const pairs = collect ? [] : null;
  let usePairs = false;
  let reserved = null;
  let cookie = null;
  let authorization = null;
  let trailer = null;
  let connection = null;
  // forEach, not for-of: the same pairs (sorted, combined), without an iterator and an
  // entry per header, which cost 12x as much in Deno and 1.25x in workerd (11 headers).
  (source ? headers : out).forEach((value, name) => {
    // Names come lower-cased; a name that starts with a letter or digit other than x
    // cannot be reserved.
    if (name.charCodeAt(0) === 120 /* x */ || !isTokenStart(name)) {
      if (isIdentityHeader(name)) {
        (reserved ??= []).push(name);
        return;
      }
    } else if (name === "cookie") cookie = value;
    else if (name === "authorization") authorization = value;
    else if (name === "trailer") trailer = value;
    else if (name === "connection") connection = value;
    if (collect) {
      pairs.push([name, value]);
      // A record keeps one Set-Cookie of several, and some converters drop __proto__.
      if (name === "set-cookie" || name === "__proto__") usePairs = true;
      else record[name] = value;
    }
  });
  let cleaned = out;
  if (collect) cleaned = new Headers(usePairs ? pairs : record);
  else if (reserved !== null) for (const name of reserved) cleaned.delete(name);
  if (trailer && trailer.split(",").some((t) => isIdentityHeader(t.trim()))) {
    throw new TypeError("edgeauth: a reserved identity header announced as a trailer");
  }
  if (connection) {
    const kept = connection.split(",").map((t) => t.trim()).filter((t) => t && !isIdentityHeader(t));
    if (kept.length > 0) cleaned.set("connection", kept.join(", "));
    else cleaned.delete("connection");
  }
  return { headers: cleaned, cookie, authorization };
}

// Deno's Headers lower-case, combine and sort their list on every for-of iteration (about
// 1 µs a header; forEach takes 1 µs for a browser's 11), and new Headers(headers)
// iterates its argument that way: there a forEach pass and a record cost a quarter of a
// copy (4.4 against 16.5 µs). Node's (undici) and workerd's copy a Headers faster than
// they build one from a record.
const ITERATION_IS_DEAR = typeof globalThis.Deno?.version?.deno === "string";

// isTokenStart: name begins with a lower-case letter or a digit other than x, so that its
// first letter or digit is not X (isIdentityHeader is false).
function isTokenStart(name) {
  const c = name.charCodeAt(0);
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57);
}

// checkOrigins reads webSocketOrigins as wsauth reads Config.AllowedOrigins (spaces and
// a trailing "/" trimmed; scheme://host[:port], nothing more) and returns each in the
// form a browser sends as Origin (new URL(o).origin: host lower-cased, default port
// dropped), which is what the request's Origin is compared with, as it comes. The
// characters internal/weborigin refuses are refused here too, before new URL reads
// them: URL keeps a "*" (a wildcard would silently match no Origin) and decodes a
// "%" escape, so one list would pass here and stop wsauth.New.
function checkOrigins(name, list) {
  if (!Array.isArray(list)) throw configError(`${name} must be a list of origins like "https://app.example.com"`);
  return list.map((o) => {
    const trimmed = typeof o === "string" ? o.trim().replace(/\/+$/, "") : "";
    let u = null;
    if (/^https?:\/\/[^/?#@\\%*\s\x00-\x1f\x7f]+$/i.test(trimmed)) {
      try {
        u = new URL(trimmed);
      } catch {
        // not an origin: said below
      }
    }
    if (u === null) throw configError(`${name}: ${JSON.stringify(redactURL(o))} is not an origin (scheme://host[:port], no path); write it like "https://app.example.com"`);
    return u.origin;
  });
}

// redactURL is a refused URL option as an error may quote it: its user information
// (user:password@) and its query and fragment replaced with "***", which can carry a
// password or a token. Not a string: as it is.
function redactURL(value) {
  if (typeof value !== "string") return value;
  return value.replace(/^([^/?#]*\/\/)[^/?#]*@/, "$1***@").replace(/([?#]).*$/s, "$1***");
}

// serialisedOrigin is the origin of an absolute URL as a browser writes it in Origin,
// or null.
function serialisedOrigin(value) {
  try {
    return new URL(value).origin;
  } catch {
    return null;
  }
}

function configError(msg) {
  return new TypeError(`edgeauth: createEdge: ${msg}`);
}

function checkPrefixes(name, list) {
  if (!Array.isArray(list)) throw configError(`${name} must be a list of path prefixes like "/api/"`);
  for (const p of list) {
    if (typeof p !== "string" || !p.startsWith("/")) throw configError(`${name}: ${JSON.stringify(p)} is not a path prefix; write it like "/api/"`);
  }
}

// matchPrefix: exact, or a prefix when it ends in "/" (the module's rule for public paths).
function matchPrefix(path, prefix) {
  return prefix.endsWith("/") ? path.startsWith(prefix) || path === prefix.slice(0, -1) : path === prefix;
}

function baseURL(name, value) {
  let u;
  try {
    u = new URL(value);
  } catch {
    throw configError(`${name} must be an absolute http(s) URL like "https://auth.example.com", not ${JSON.stringify(redactURL(value))}`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw configError(`${name} must be http(s), not ${u.protocol}`);
  if (u.search || u.hash) throw configError(`${name} must not have a query or fragment`);
  return u.origin + u.pathname.replace(/\/+$/, "");
}

/**
 * createEdge builds an edge. Options are checked here, once: a mistake throws a
 * TypeError that says what to fix. The documents are fetched on the first request
 * (or by edge.ready()).
 */
export function createEdge(options) {
  if (options == null || typeof options !== "object") throw configError("takes an options object");
  for (const k of Object.keys(options)) {
    if (!OPTION_NAMES.has(k)) throw configError(`unknown option ${JSON.stringify(k)}; known: ${[...OPTION_NAMES].join(", ")}`);
  }
  const o = { ...DEFAULTS, ...options };
  if (o.module == null) throw configError("module is required: the verifier.wasm module (import it from \"@edgeauth/edge/verifier.wasm\")");
  const controlPlane = baseURL("controlPlane", o.controlPlane);
  const routes = o.routes ?? {};
  if (typeof routes !== "object" || Array.isArray(routes)) throw configError("routes must be an object of local route rules");
  for (const k of Object.keys(routes)) {
    if (!LOCAL_RULES.includes(k)) {
      throw configError(MODULE_MEMBERS.includes(k)
        ? `routes.${k} comes from the control plane's edge configuration (${WELL_KNOWN.edgeConfig}); change it there, not at the edge`
        : `routes.${k} is not a route rule; local rules are ${LOCAL_RULES.join(", ")}`);
    }
  }
  checkPrefixes("apiPrefixes", o.apiPrefixes ?? []);
  checkPrefixes("controlPlanePrefixes", o.controlPlanePrefixes);
  const bearerProxy = (o.bearerProxy ?? []).map((b, i) => {
    if (b == null || typeof b.prefix !== "string" || !b.prefix.startsWith("/")) throw configError(`bearerProxy[${i}].prefix must be a path prefix like "/api/"`);
    return { prefix: b.prefix, upstream: baseURL(`bearerProxy[${i}].upstream`, b.upstream), stripPrefix: Boolean(b.stripPrefix) };
  });
  for (const k of ["timeoutMs", "maxStaleMs", "keyRefetchCooldownMs"]) {
    if (typeof o[k] !== "number" || !(o[k] > 0)) throw configError(`${k} must be a positive number of milliseconds`);
  }
  if (o.moduleSignatures != null && typeof o.moduleSignatures !== "boolean") throw configError("moduleSignatures must be true or false");
  if (o.publicOrigin != null) baseURL("publicOrigin", o.publicOrigin);
  const webSocketOrigins = new Set(checkOrigins("webSocketOrigins", o.webSocketOrigins ?? []));
  const userFetch = o.fetch ?? globalThis.fetch;
  if (typeof userFetch !== "function") throw configError("no fetch: pass options.fetch");
  // Called as a plain function: workerd refuses fetch called with another `this`.
  const doFetch = (input, init) => (o.fetch ?? globalThis.fetch)(input, init);
  const clock = o.now ?? Date.now;
  // A time is refused where it is read, with what to fix. One the module cannot take
  // (unix seconds outside int64: toUnixSeconds) was refused inside the instance's call,
  // which read as a module failure: the instance was replaced on every request, and
  // the rebuilt one dropped its revocation list (replayed at the same time).
  const nowMs = () => {
    const t = toMillis(clock());
    if (!(Math.abs(t / 1000) < 2 ** 63)) throw new RangeError(`edgeauth: options.now returned a time the module cannot take (unix seconds outside int64): ${t} ms`);
    return t;
  };
  const log = o.log ?? ((e) => { if (e.level === "error" || e.level === "warn") console.warn("edgeauth:", JSON.stringify(e)); });
  return new Edge({ ...o, controlPlane, routes, bearerProxy, apiPrefixes: o.apiPrefixes ?? [], webSocketOrigins, fetch: doFetch, nowMs, log });
}

class Edge {
  constructor(o) {
    this.o = o;
    this.module = null;
    this.verifier = null;
    this.edgeConfig = null; // the published document, parsed
    this.refreshing = new Map(); // refresh token -> Promise (one refresh per token at a time)
    this.lastKeyRefetch = -Infinity;
    this.kids = null; // kids of the loaded JWKS (keyUnknown)
    this.jwks = []; // the loaded JWKS's keys (revokePushed)
    this.pushed = new Map(); // sid -> when (ms) the stream pushed it as revoked (revokePushed)
    this.heldLists = []; // the revocation lists a rebuilt instance replays (holdList)
    const cp = o.controlPlane;
    const common = { fetch: o.fetch, timeoutMs: o.timeoutMs, nowMs: o.nowMs, log: o.log };
    this.docs = {
      config: new Document({ ...common, url: cp + WELL_KNOWN.edgeConfig, apply: (t) => this.applyConfig(t) }),
      keys: new Document({ ...common, url: cp + WELL_KNOWN.jwks, apply: (t) => this.applyKeys(t) }),
      revocations: new Document({ ...common, url: cp + WELL_KNOWN.revocations, apply: (t) => this.applyRevocations(t), beforeApply: (t) => this.keysFor(t), expiresAt: listExp }),
    };
    this.docList = Object.values(this.docs);
    this.starting = null;
    this.started = false; // start() has succeeded once: handle() need not wait for ready()
    this.closed = false; // close() was called: no stream is opened, even by a later start()
  }

  /** The module's configuration: the published edge configuration plus the local route rules. */
  get config() {
    if (!this.edgeConfig) return null;
    const c = {};
    for (const k of MODULE_MEMBERS) if (this.edgeConfig[k] !== undefined) c[k] = this.edgeConfig[k];
    // A repeat visitor's token is verified once, not on every request (the module's own
    // default is no cache). The cache grows with use, so an instance that serves a few
    // requests pays for a few entries; routes.cache_entries: 0 turns it off.
    return { cache_entries: DEFAULT_CACHE_ENTRIES, ...c, ...this.o.routes };
  }

  async compile() {
    const m = await this.o.module;
    if (isWasmModule(m)) return m;
    if (m instanceof ArrayBuffer || ArrayBuffer.isView(m) || Object.prototype.toString.call(m) === "[object ArrayBuffer]") return WebAssembly.compile(m);
    if (m && typeof m === "object" && isWasmModule(m.default)) return m.default;
    throw configError("module must be a WebAssembly.Module (or its bytes where the runtime compiles wasm at run time)");
  }

  /**
   * ready fetches the edge configuration, the JWKS and the revocation list and loads
   * them into a module instance. It rejects with the reason when any is refused or
   * unreachable; handle() calls it on the first request.
   */
  ready() {
    if (!this.starting) {
      this.starting = this.start().catch((err) => {
        this.starting = null; // the next request tries again
        throw err;
      });
    }
    return this.starting;
  }

  async start() {
    this.module ??= await this.compile();
    // Fetch the three documents at once, load them in the order the module needs.
    const fetched = await Promise.all([this.docs.config.fetchOnly(), this.docs.keys.fetchOnly(), this.docs.revocations.fetchOnly()]);
    this.docs.config.accept(fetched[0]);
    this.docs.keys.accept(fetched[1]);
    this.docs.revocations.accept(fetched[2]);
    if (this.o.revocationStream && !this.stream && !this.closed) {
      this.stream = new RevocationStream({
        url: this.o.controlPlane + WELL_KNOWN.revocationStream,
        fetch: this.o.fetch,
        timeoutMs: this.o.timeoutMs,
        log: this.o.log,
        onList: (jws) => {
          // A list signed by a key not fetched yet (an immediate rotation) is refused
          // here; the polled list, which waits for the keys (keysFor), follows.
          if (this.keyUnknown(jws)) void this.docs.revocations.refresh().catch(() => {});
          this.docs.revocations.acceptBody(jws);
        },
        // The list is fetched at once; the event, once verified, refuses its session
        // at once (revokePushed), however long that fetch or the list's rebuild takes.
        // An event signed by a key rotated in since the keys were fetched fetches them
        // (at most once per cooldown) and is checked again, as sessionauth's applyEvent
        // does: refused, it left its session admitted until a list named it, and the
        // list fetched for it may predate it.
        onRevoked: (jws) => {
          void this.docs.revocations.refresh().catch(() => {});
          if (this.keyUnknown(jws)) return this.keysFor(jws, "revoked").then(() => this.revokePushed(jws));
          this.revokePushed(jws);
        },
      }).start();
    }
    this.started = true;
  }

  /** close stops the revocation stream (when one is held); the edge keeps deciding, polling. */
  close() {
    this.closed = true;
    this.stream?.stop();
    this.stream = null;
  }

  // rebuild makes a fresh instance holding cfg, the current keys and revocation list
  // (verifier/ABI.md, "Host state"); it is swapped in only when config and keys load.
  rebuild(cfg, jwks = this.docs.keys.body) {
    const v = new Verifier(this.module, this.o.moduleSignatures == null ? {} : { moduleSignatures: this.o.moduleSignatures });
    v.configure(cfg);
    if (jwks != null) v.loadKeys(jwks);
    // Every list of the held second, as the replaced instance holds them all.
    const kept = [];
    for (const l of this.heldLists) {
      try {
        v.loadRevocations(l.text, this.o.nowMs());
        kept.push(l);
      } catch (err) {
        this.o.log({ level: "warn", event: "revocation_list_dropped", error: String(err) });
        if (l.text === this.docs.revocations.body) this.docs.revocations.forget();
      }
    }
    this.heldLists = kept;
    return v;
  }

  applyConfig(text) {
    let doc;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new Error(`edgeauth: ${WELL_KNOWN.edgeConfig} is not JSON; is controlPlane (${this.o.controlPlane}) the control plane's base URL?`);
    }
    if (doc === null || typeof doc !== "object" || Array.isArray(doc)) throw new Error(`edgeauth: ${WELL_KNOWN.edgeConfig} is not a JSON object`);
    // A member this edge does not know may be one it must apply: the document is refused
    // rather than half applied (the previous one stays), as the Go edge refuses it.
    const unknown = Object.keys(doc).filter((k) => !MODULE_MEMBERS.includes(k));
    if (unknown.length > 0) {
      throw new Error(`edgeauth: ${WELL_KNOWN.edgeConfig} has members this edge does not know (${unknown.map((k) => JSON.stringify(k)).join(", ")}): the control plane is newer than this edge; update @edgeauth/edge`);
    }
    const prev = this.edgeConfig;
    this.edgeConfig = doc;
    try {
      this.verifier = this.rebuild(this.config);
    } catch (err) {
      this.edgeConfig = prev;
      if (err instanceof EdgeauthError && err.status === "InvalidConfig") {
        throw new Error(`edgeauth: the module refused the edge configuration plus routes: ${err.detail || err.message}`, { cause: err });
      }
      throw err;
    }
  }

  applyKeys(text) {
    if (!this.verifier) throw new Error("edgeauth: keys before configuration");
    this.load(() => this.verifier.loadKeys(text));
    try {
      this.jwks = JSON.parse(text).keys;
      this.kids = new Set(this.jwks.map((k) => k?.kid));
    } catch {
      this.jwks = [];
      this.kids = null;
    }
  }

  // revokePushed verifies a revoked event of the revocation stream, as sessionauth does
  // (stream.go, applyEvent): a compact JWS, typ edgeauth-revocation+jwt, signed by a
  // key of the loaded JWKS with an algorithm the configuration allows (checked by the
  // module's verify_signature), payload {iss, iat, sid, seq, reason} from the
  // configured issuer. Its session is then refused (decide) until a list issued well
  // after covers it (applyRevocations). It throws when a check fails: the event is
  // logged and ignored (the list covers it later).
  revokePushed(jws) {
    const parts = String(jws).split(".");
    if (parts.length !== 3 || !parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p))) throw new Error("revocation event: not a compact JWS");
    const header = segmentJSON(parts[0]);
    const payload = segmentJSON(parts[1]);
    if (!(this.edgeConfig.algorithms ?? []).includes(header?.alg)) throw new Error(`revocation event: algorithm ${JSON.stringify(header?.alg)} not allowed`);
    if (UNSUPPORTED_HEADER.some((m) => Object.hasOwn(header, m))) throw new Error("revocation event: unsupported header member");
    if (typeof header.typ !== "string" || !typMatches(header.typ, EVENT_TYPE)) throw new Error(`revocation event: typ ${JSON.stringify(header.typ)}, want ${EVENT_TYPE}`);
    const key = this.jwks.find((k) => typeof header.kid === "string" && k?.kid === header.kid && k.alg === header.alg);
    if (key === undefined) throw new Error(`revocation event: unknown kid ${JSON.stringify(header.kid)}`);
    const v = this.verifier;
    try {
      v.verifySignature(signatureCheck(JSON.stringify(key), `${parts[0]}.${parts[1]}`, base64urlDecode(parts[2])));
    } catch (err) {
      this.failed(v, err);
    }
    if (payload?.iss !== this.edgeConfig.issuer) throw new Error(`revocation event: issuer ${JSON.stringify(payload?.iss)}, want ${JSON.stringify(this.edgeConfig.issuer)}`);
    if (typeof payload.sid !== "string" || payload.sid === "" || !(Number.isInteger(payload.seq) && payload.seq >= 1)) {
      throw new Error("revocation event: payload is not {iss, sid, seq, reason}");
    }
    if (this.pushed.has(payload.sid)) return; // a repeat: learned when first pushed
    if (this.pushed.size >= MAX_PUSHED) this.pushed.delete(this.pushed.keys().next().value); // the oldest
    this.pushed.set(payload.sid, this.o.nowMs());
    this.o.log({ level: "info", event: "session_revoked_pushed", reason: payload.reason });
  }

  // keyUnknown: the header of a JWS (a list, a revoked event) names a kid the loaded JWKS lacks.
  keyUnknown(text) {
    if (!this.kids) return false;
    // Unreadable: false; the module says what is wrong with it.
    const kid = segmentJSON(String(text).split(".")[0])?.kid;
    return typeof kid === "string" && !this.kids.has(kid);
  }

  // keysFor runs before a fetched revocation list is applied (and before a revoked
  // event naming an unknown kid is checked; what says which): the list is signed
  // by the active key, so after a rotation it may need keys fetched at the same time
  // (wait for them) or not fetched yet (fetch them, at most once per cooldown), or it
  // would be refused and the edge turn stale with good keys one fetch away.
  // Each wait is bounded by timeoutMs: workerd cancels the I/O of a request that has
  // ended, and a key set fetch started there never settles.
  async keysFor(text, what = "revocations") {
    if (this.docs.keys.inflight) await settledWithin(this.docs.keys.inflight, this.o.timeoutMs);
    const now = this.o.nowMs();
    if (this.keyUnknown(text) && now - this.lastKeyRefetch >= this.o.keyRefetchCooldownMs) {
      this.lastKeyRefetch = now;
      this.o.log({ level: "info", event: "unknown_key_refetch", for: what });
      await settledWithin(this.docs.keys.refresh(), this.o.timeoutMs);
    }
  }

  applyRevocations(text) {
    if (!this.verifier) throw new Error("edgeauth: revocation list before configuration");
    const now = this.o.nowMs();
    this.load(() => this.verifier.loadRevocations(text, now));
    const l = readList(text);
    this.heldLists = holdList(this.heldLists, text, l);
    // A pushed session stays refused until a list issued more than the leeway after it
    // was pushed omits it (as sessionauth's applyList keeps it): a list of about the same
    // time may predate the revocation (another replica built it, or a clock differs).
    for (const [sid, learned] of this.pushed) {
      if (l !== null && !l.sids.has(sid) && l.iat * 1000 - learned > PUSHED_LEEWAY_MS) this.pushed.delete(sid);
    }
  }

  // fresh: keys and revocation list no older than maxStaleMs.
  fresh(now) {
    return this.docs.keys.age(now) <= this.o.maxStaleMs && this.docs.revocations.age(now) <= this.o.maxStaleMs;
  }

  // keepCurrent starts a background refetch of every document past its max-age;
  // waitUntil (workerd's ctx.waitUntil, Next's event.waitUntil) keeps it alive after
  // the response. A list pushed by the revocation stream counts as served (acceptBody),
  // so the list is polled only when the stream, connected or not, has pushed none
  // within its max-age (a replica that cannot rebuild or sign keeps its streams open
  // with heartbeats alone).
  keepCurrent(now, ctx) {
    for (const d of this.docList) {
      if (d.due(now)) {
        const p = d.refresh().catch(() => {});
        if (typeof ctx.waitUntil === "function") ctx.waitUntil(p); // a method: workerd refuses it detached
      }
    }
  }

  /** status reports the documents' ages and last errors (for health endpoints and logs). */
  status() {
    const now = this.o.nowMs();
    const out = { ready: this.verifier != null && this.docs.keys.body != null, fresh: this.fresh(now) };
    for (const [k, d] of Object.entries(this.docs)) out[k] = { ageMs: d.age(now), etag: d.etag, error: d.lastError ? String(d.lastError) : undefined };
    return out;
  }

  // decide runs the module, refetching the JWKS once (at most once per cooldown) when
  // the token names a key it does not know, and rebuilding the instance after a trap.
  // It answers at once (no promise) unless WebCrypto checks a signature or it refetches.
  decide(facts) {
    const now = this.o.nowMs();
    const d = this.call(facts, now);
    if (typeof d.then === "function") return d.then((d) => this.afterDecide(facts, now, d));
    return this.afterDecide(facts, now, d);
  }

  afterDecide(facts, now, d) {
    if (d.reason === "unknown_key" && now - this.lastKeyRefetch >= this.o.keyRefetchCooldownMs) {
      return this.decideAfterKeyRefetch(facts, now, d);
    }
    return this.unlessPushed(facts, now, d);
  }

  // unlessPushed is d, or, when d admits a session the stream pushed as revoked
  // (revokePushed) and no list has named yet, the decision for a revoked token
  // (decideRevoked).
  unlessPushed(facts, now, d) {
    return d.identity && this.pushed.has(d.identity.sid) ? this.decideRevoked(facts, now) : d;
  }

  // decideRevoked decides again a request whose token the module accepted but whose
  // session is revoked, as the module decides a revoked token: with every credential
  // unreadable (each non-empty cookie value, and the Authorization header, replaced by
  // "!": no token), so that the module's own rules for an invalid token say where it
  // goes (a login redirect or a 401 clearing both cookies, a public page without
  // identity), as the Go edge's gate does; with reason revoked.
  decideRevoked(facts, now) {
    const revoked = (d) => {
      if (d.identity) throw new Error("edgeauth: the module admitted a request without credentials as a revoked session");
      return d.reason === "invalid_token" ? { ...d, reason: "revoked" } : d;
    };
    const d = this.call({ ...facts, cookies: unreadable(facts.cookies), authorization: facts.authorization ? "Bearer !" : undefined }, now);
    return typeof d.then === "function" ? d.then(revoked) : revoked(d);
  }

  async decideAfterKeyRefetch(facts, now, d) {
    this.lastKeyRefetch = now;
    this.o.log({ level: "info", event: "unknown_key_refetch" });
    try {
      await this.docs.keys.refresh();
      d = await this.call(facts, this.o.nowMs());
    } catch (err) {
      this.o.log({ level: "warn", event: "unknown_key_refetch_failed", error: String(err) });
    }
    return this.unlessPushed(facts, this.o.nowMs(), d);
  }

  // call decides on the two-phase path (verifier.mjs, decideTwoPhase): RS256 signatures
  // checked by WebCrypto where the Verifier declared them (not with moduleSignatures:
  // true, nor in a runtime whose WebCrypto is the slower: moduleSignaturesFaster).
  call(facts, now) {
    const v = this.verifier;
    try {
      const d = v.decideTwoPhase(facts, now);
      return typeof d.then === "function" ? d.catch((err) => this.failed(v, err)) : d;
    } catch (err) {
      return this.failed(v, err);
    }
  }

  // load runs a document's load into the current instance. A trap there (memory
  // exhausted) leaves the instance unusable (verifier/ABI.md) as in a decision: it is
  // replaced at once, holding the documents it held before, as the Go host discards it
  // (wasmhost). Kept, it served on, and refused the next key sets, however ordinary.
  load(fn) {
    const v = this.verifier;
    try {
      fn();
    } catch (err) {
      this.failed(v, err);
    }
  }

  failed(v, err) {
    if (!(err instanceof EdgeauthError) && v === this.verifier) {
      // A trap leaves the instance unusable (verifier/ABI.md): replace it.
      this.o.log({ level: "error", event: "instance_replaced", error: String(err) });
      this.verifier = this.rebuild(this.config);
    }
    throw err;
  }

  /**
   * isAPIRequest reports whether request, for the app's path, is answered as an API
   * request (README, "An API request"; the Go edge's Gate.isAPI): a path under
   * apiPrefixes, a WebSocket upgrade, or a method other than GET and HEAD that is not a
   * navigation. A GET from fetch is a page's: it follows a redirect. Every refusal to
   * an API request is JSON, a 502 and a 500 from edge.fetch too; to a page, text.
   */
  isAPIRequest(request, path) {
    return this.isAPI(path) || isWebSocketUpgrade(request.headers) || (!SAFE_METHODS.has(request.method) && notNavigation(request.headers));
  }

  isAPI(path) {
    for (const p of this.o.apiPrefixes) if (matchPrefix(path, p)) return true;
    for (const b of this.o.bearerProxy) if (matchPrefix(path, b.prefix)) return true;
    return false;
  }

  /**
   * handle decides one Fetch API request and returns what to do (an Outcome):
   * `response` set: answer with it; otherwise forward to `upstream` (undefined: the app
   * itself) with `requestHeaders`, and add every `setCookies` value to the response.
   * @param {Request} request
   * ctx.origin: the origin the browser used, when request.url names another (Next hands
   * its proxy a URL on its own listener); the edge's refresh call sends it as Origin.
   * @param {{waitUntil?: (p: Promise<unknown>) => void, origin?: string}} [ctx]
   */
  async handle(request, ctx = {}) {
    const base = ctx.basePath ?? "";
    if (typeof base !== "string" || (base !== "" && !/^\/[^?#]*[^/?#]$/.test(base))) {
      throw new TypeError(`edgeauth: handle: ctx.basePath must be a path like "/app" (no trailing "/"), not ${JSON.stringify(base)}`);
    }
    const url = new URL(request.url);
    // Under a base path the request is decided on the app's path, which the route rules
    // and the control plane's paths name (a Next user writes them so: matcher, Link).
    const under = base !== "" && (url.pathname === base || url.pathname.startsWith(`${base}/`));
    if (under) url.pathname = url.pathname.slice(base.length) || "/";
    const o = await this.decideRequest(request, ctx, url);
    const res = o.response;
    const location = res?.headers.get("location");
    if (location) {
      // The edge's redirects name app paths: they go back under the base path, and so does
      // return_to, which the login page and the control plane's refresh send the browser to.
      let to = location;
      if (under && to.startsWith("/") && !to.startsWith("//")) {
        const u = new URL(to, "http://edge.invalid");
        const back = u.searchParams.get("return_to");
        if (back !== null) u.searchParams.set("return_to", base + back);
        to = base + u.pathname + u.search;
      }
      // A redirect answering a POST (a form's navigation) is 303, See Other: GET the
      // refresh or the login page (RFC 9110, 15.4.4). With 302 a client may repeat the
      // POST there, and the control plane answers POST /auth/refresh as its API.
      const status = res.status === 302 && !SAFE_METHODS.has(request.method) ? 303 : res.status;
      if (to !== location || status !== res.status) {
        const headers = new Headers(res.headers);
        headers.set("location", to);
        o.response = new Response(null, { status, headers });
      }
    }
    return o;
  }

  async decideRequest(request, ctx, url) {
    const path = url.pathname;
    // A WebSocket client follows no redirect: a refused upgrade is answered as an API
    // route is (401/403 JSON), as the Go edge's WebSocket proxy (wsauth) answers it.
    // So is a POST (PUT, ...) that is not a navigation: fetch from a page, a Next server
    // action. fetch follows a redirect as a GET and ends on a page with a 200, the POST
    // lost and nothing saying so; a 401 says what happened, and the caller (or
    // createAuthFetch) refreshes and retries. Every refusal (400, 401, 403, 503) is JSON
    // to such a request and text to a page, as the Go edge answers them. Read from the
    // request's headers: none of these is an identity header.
    const upgrade = isWebSocketUpgrade(request.headers);
    // A browser sends the session cookie on a WebSocket handshake from any site's page
    // when the cookie is SameSite=None (cross-site WebSocket hijacking), and no CORS
    // check stands in the way: an upgrade whose Origin is neither this edge's origin
    // nor one of webSocketOrigins is refused, as wsauth refuses it, before anything is
    // read of its session (the answer says nothing about it), refreshed or forwarded.
    // Without Origin (a client that is not a browser) it is decided as before.
    if (upgrade && !this.originAllowed(request.headers.get("origin"), ctx, url)) {
      this.o.log({ level: "info", event: "origin_not_allowed", origin: request.headers.get("origin") });
      return respond(errorResponse(403, "origin_not_allowed", "this page's origin may not open a WebSocket with the session cookie", true), "origin_not_allowed");
    }
    const api = this.isAPIRequest(request, path);
    let cleaned;
    try {
      cleaned = cleanHeaders(request.headers);
    } catch {
      return respond(errorResponse(400, "invalid_request", "a reserved X-Edgeauth header announced as a trailer", api), "reserved_trailer");
    }
    const headers = cleaned.headers;

    for (const p of this.o.controlPlanePrefixes) {
      if (matchPrefix(path, p)) return forward(`${this.o.controlPlane}${path}${url.search}`, headers, [], "control_plane");
    }
    if (!this.started) {
      try {
        await this.ready();
      } catch (err) {
        this.o.log({ level: "error", event: "not_ready", error: String(err) });
        return respond(unavailable(api, "the edge could not load its configuration and keys from the control plane"), "unavailable");
      }
    }
    let now = this.o.nowMs();
    this.keepCurrent(now, ctx);
    if (!this.fresh(now)) {
      await Promise.allSettled([this.docs.keys.refresh(), this.docs.revocations.refresh()]);
      now = this.o.nowMs();
      if (!this.fresh(now)) {
        this.o.log({ level: "error", event: "stale", keysAgeMs: this.docs.keys.age(now), revocationsAgeMs: this.docs.revocations.age(now) });
        return respond(unavailable(api, "keys or revocation list too old: the control plane is unreachable"), "stale");
      }
    }

    const facts = {
      method: request.method,
      path,
      query: url.search.slice(1),
      cookies: cleaned.cookie,
      authorization: cleaned.authorization ?? undefined,
    };
    let d;
    try {
      d = this.decide(facts);
      if (typeof d.then === "function") d = await d;
    } catch (err) {
      return this.decideFailed(err, api);
    }

    if (d.action === "refresh") {
      // A HEAD (a link checker) or a prefetch does not rotate the session: its answer,
      // and the new cookies in it, may be thrown away, or race the navigation it
      // foretells, which would then present a spent refresh token. A HEAD gets the
      // redirect form (the control plane refuses a HEAD on its refresh path), a prefetch
      // a 401 (following a redirect would rotate at the control plane): the browser
      // drops the prefetch and the navigation refreshes. A WebSocket upgrade neither: the
      // new cookies could only ride on its 101, which the Deno recipe (README) answers
      // without them, Node's fetch cannot proxy, and a client other than a browser does
      // not keep; holding a spent refresh token, the client would be signed out at its
      // next refresh (a replay past the grace). It gets 401 token_expired, as from the Go
      // edge, refreshes over HTTP and reconnects.
      if (isPrefetch(headers)) {
        return respond(errorResponse(401, "token_expired", "a prefetch does not refresh the session: the navigation will", api), "prefetch_needs_refresh", d);
      }
      if (this.o.refreshAtEdge && request.method !== "HEAD" && !upgrade) {
        const refreshed = await this.refreshAtEdge(d, url, headers, facts, api, ctx.origin);
        if (refreshed) return refreshed;
      }
    }
    return this.outcome(d, url, headers, api);
  }

  // originAllowed: a WebSocket upgrade's Origin (null: none sent) may open a socket. The
  // edge's own origin is the one its refresh call sends (callRefresh): publicOrigin when
  // set, else the browser's origin the adapter passed (ctx.origin: Next), else the
  // request URL's. Origin is compared as the browser serialises it, character for
  // character, as wsauth compares it: "https://app.example:443" or "null" is no match.
  originAllowed(origin, ctx, url) {
    if (origin === null) return true;
    if (this.o.webSocketOrigins.has(origin)) return true;
    const own = this.o.publicOrigin ? serialisedOrigin(this.o.publicOrigin) : ctx.origin != null ? serialisedOrigin(ctx.origin) : url.origin;
    return own !== null && own !== "null" && origin === own;
  }

  // decideFailed answers a request the module could not decide, with the cookies a
  // refresh at the edge has already set: the session was rotated, and a browser that
  // kept the old refresh token would present a spent one next time.
  decideFailed(err, api, setCookies = []) {
    if (err instanceof EdgeauthError && (err.status === "InvalidRequest" || err.status === "InputTooLarge")) {
      return respond(withCookies(errorResponse(err.status === "InputTooLarge" ? 431 : 400, "invalid_request", "request refused by the edge", api), setCookies), err.status);
    }
    this.o.log({ level: "error", event: "decide_failed", error: String(err) });
    return respond(withCookies(errorResponse(500, "internal", "the edge failed to decide", api), setCookies), "internal");
  }

  outcome(d, url, headers, api, setCookies = []) {
    switch (d.action) {
      case "allow": {
        if (d.identity) setIdentity(headers, d.identity);
        // A public page reached with a refused token: forwarded without identity, and the
        // cookies the module clears go with the answer, as the Go edge sends them.
        if (d.clear_cookies) setCookies = [...setCookies, ...d.clear_cookies];
        let bp;
        for (const b of this.o.bearerProxy) {
          if (matchPrefix(url.pathname, b.prefix)) {
            bp = b;
            break;
          }
        }
        if (bp) {
          const token = d.identity ? this.accessToken(headers) : null;
          headers.delete("cookie");
          if (token) headers.set("authorization", `Bearer ${token}`);
          else if (!this.o.routes.allow_bearer) headers.delete("authorization");
          // stripPrefix: what follows the prefix, from its "/" on. The prefix need not end
          // in "/" (an exact path), and "/api" matches "/api/": both leave "" (then "/").
          let path = url.pathname;
          if (bp.stripPrefix) {
            const rest = path.slice(bp.prefix.length);
            path = rest.startsWith("/") ? rest : `/${rest}`;
          }
          return forward(`${bp.upstream}${path}${url.search}`, headers, setCookies, d.reason, d);
        }
        return forward(undefined, headers, setCookies, d.reason, d);
      }
      case "deny":
        // The module refuses a path no upstream should read with status 400 (ABI.md), whoever asks.
        if (d.status === 400) return respond(withCookies(errorResponse(400, "invalid_path", "the request's path is refused", api), setCookies), d.reason, d);
        if (d.reason === "mfa_required") {
          return respond(withCookies(errorResponse(403, "mfa_required", "signed in without a second factor, which this route requires: turn one on, or sign in again with it", api), setCookies), d.reason, d);
        }
        return respond(withCookies(errorResponse(403, "missing_role", "signed in, but without a role this route requires", api), setCookies), d.reason, d);
      case "refresh":
        if (api) {
          return respond(withCookies(errorResponse(401, "token_expired", "the access token expired: refresh the session (POST the refresh endpoint) and retry", api), setCookies), d.reason, d);
        }
        return respond(withCookies(redirect(d.location), setCookies), d.reason, d);
      case "redirect":
      default: {
        const clear = d.clear_cookies ?? [];
        if (api && d.reason !== "already_signed_in") {
          const res = errorResponse(401, "unauthenticated", `no valid session (${d.reason})`, api);
          // A token was sent and refused: RFC 6750 3.1 asks for error="invalid_token".
          if (d.reason !== "no_token") res.headers.set("www-authenticate", CHALLENGES.invalid_token);
          return respond(withCookies(res, [...setCookies, ...clear]), d.reason, d);
        }
        return respond(withCookies(redirect(d.location), [...setCookies, ...clear]), d.reason, d);
      }
    }
  }

  // cookieValue reads one cookie's value from the request's Cookie headers as the
  // module reads it (first match: the module has already refused duplicates of the
  // access cookie), so a Bearer token forwarded upstream is the token it verified.
  cookieValue(headers, name) {
    for (const h of cookieHeaders(headers)) {
      for (const pair of h.split(";")) {
        const i = pair.indexOf("=");
        if (i >= 0 && trimOWS(pair.slice(0, i)) === name) return unquote(trimOWS(pair.slice(i + 1)));
      }
    }
    return null;
  }

  // cookieValues is every value of the cookie name in the request's Cookie headers, in
  // the order sent, read as cookieValue reads one.
  cookieValues(headers, name) {
    const out = [];
    for (const h of cookieHeaders(headers)) {
      for (const pair of h.split(";")) {
        const i = pair.indexOf("=");
        if (i >= 0 && trimOWS(pair.slice(0, i)) === name) out.push(unquote(trimOWS(pair.slice(i + 1))));
      }
    }
    return out;
  }

  accessToken(headers) {
    return this.cookieValue(headers, this.edgeConfig.access_cookie.name);
  }

  // refreshAtEdge rotates the session with the control plane when the browser sent
  // the refresh cookie (it does when the cookie's Path covers this route): the new
  // cookies go both upstream and back to the browser in this one response. It
  // returns null to fall back to the redirect form (no refresh cookie here, or the
  // control plane unreachable).
  //
  // A refresh cookie sent more than once (tossed from a sibling subdomain, or left from
  // before a change of Path or Domain) is not chosen from: every copy goes to the
  // control plane, which refuses to guess (401, both cookies cleared), as it does for
  // the browser's own refresh. Sending the first copy alone would rotate whichever
  // session was planted first and set its cookies in this browser.
  async refreshAtEdge(asked, url, headers, facts, api, origin) {
    const rc = this.edgeConfig.refresh_cookie;
    const copies = this.cookieValues(headers, rc.name);
    if (copies.every((v) => v === "")) return null;
    const refreshCookie = copies.map((v) => `${rc.name}=${v}`).join("; ");
    let p = this.refreshing.get(refreshCookie);
    if (!p) {
      p = this.callRefresh(refreshCookie, origin ?? url.origin).finally(() => this.refreshing.delete(refreshCookie));
      this.refreshing.set(refreshCookie, p);
    }
    const r = await p;
    if (r.kind === "unreachable") return null;
    if (r.kind === "refused") {
      // The control plane cleared both cookies with their exact attributes; the login
      // page is public, so the browser lands there once.
      this.o.log({ level: "info", event: "refresh_refused", status: r.status });
      // The login redirect replaces the module's refresh redirect and carries its query:
      // the module adds return_to only when it is safe (one rule: SafeReturnTo).
      const q = asked.location ? asked.location.indexOf("?") : -1;
      const login = this.edgeConfig.login_path + (q >= 0 ? asked.location.slice(q) : "");
      const res = api ? errorResponse(401, "session_ended", "the session ended: sign in again", true) : redirect(login);
      return respond(withCookies(res, r.setCookies), "refresh_refused");
    }
    const cookies = replaceCookies(cookieHeaders(headers), r.cookies);
    headers.delete("cookie");
    headers.set("cookie", cookies);
    let d;
    try {
      d = await this.decide({ ...facts, cookies: [cookies] });
    } catch (err) {
      return this.decideFailed(err, api, r.setCookies);
    }
    this.o.log({ level: "info", event: "refreshed_at_edge", reason: d.reason });
    if (d.action === "refresh") {
      // A fresh token that still reads as expired: clocks disagree. Redirecting would
      // loop, so answer once and say why.
      this.o.log({ level: "error", event: "refresh_loop_prevented" });
      return respond(withCookies(unavailable(api, "a freshly refreshed token is already expired here: check the edge's clock"), r.setCookies), "clock_skew");
    }
    return this.outcome(d, url, headers, api, r.setCookies);
  }

  // callRefresh POSTs the refresh with cookie (the refresh cookie's every copy, as
  // "name=value" pairs).
  async callRefresh(cookie, requestOrigin) {
    const origin = this.o.publicOrigin ? new URL(this.o.publicOrigin).origin : requestOrigin;
    let res;
    try {
      res = await this.o.fetch(`${this.o.controlPlane}${this.edgeConfig.refresh_path}`, {
        method: "POST",
        headers: { cookie, origin, accept: "application/json" },
        redirect: "manual",
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
    } catch (err) {
      this.o.log({ level: "warn", event: "refresh_unreachable", error: String(err) });
      return { kind: "unreachable" };
    }
    await res.body?.cancel();
    const setCookies = getSetCookies(res.headers);
    if (res.status === 200) {
      // No prototype: replaceCookies asks `name in cookies` of the request's every
      // cookie, and an app's "constructor" or "toString" must not read as one of ours.
      const cookies = { __proto__: null };
      for (const c of setCookies) {
        const [pair] = c.split(";");
        const i = pair.indexOf("=");
        if (i > 0) cookies[pair.slice(0, i).trim()] = pair.slice(i + 1).trim();
      }
      const ac = this.edgeConfig.access_cookie.name;
      if (!cookies[ac]) {
        this.o.log({ level: "error", event: "refresh_without_cookie" });
        return { kind: "unreachable" };
      }
      return { kind: "rotated", cookies, setCookies };
    }
    if (res.status >= 500 || res.status === 429) {
      this.o.log({ level: "warn", event: "refresh_unavailable", status: res.status });
      return { kind: "unreachable" };
    }
    if (res.status !== 401) {
      // The control plane refuses a session's refresh only with 401 (and clears both
      // cookies). Anything else refuses this request, not the session: a 403
      // cross_site_request is an origin it does not allow (publicOrigin, the forwarded
      // host). Signing the user out would hide that; the browser's own refresh, with its
      // real Origin, may pass, and the log says what to fix.
      this.o.log({ level: "error", event: "refresh_request_refused", status: res.status });
      return { kind: "unreachable" };
    }
    return { kind: "refused", status: res.status, setCookies };
  }

  /**
   * fetch is the Fetch API adapter: it decides the request and either answers it or
   * forwards it, to `app` (a function taking the forwarded Request, or an origin URL
   * to proxy to) or to the control plane or Bearer backend the route names, and adds
   * the outcome's cookies to the response.
   * @param {Request} request
   * @param {((req: Request) => Response | Promise<Response>) | string} app
   */
  async fetch(request, app, ctx = {}) {
    const o = await this.handle(request, ctx);
    if (o.response) return o.response;
    let target = o.upstream;
    if (target === undefined && typeof app === "string") {
      const u = new URL(request.url);
      target = `${app.replace(/\/+$/, "")}${u.pathname}${u.search}`;
    }
    if (target !== undefined) {
      // Only workerd's fetch opens a WebSocket (Upgrade: websocket; it writes the handshake
      // itself). Node's (undici: Node, edge-runtime) refuses the request and Deno's sends
      // a plain GET, whose answer the client would take for the server's: say so instead.
      if (!FETCH_OPENS_WEBSOCKETS && isWebSocketUpgrade(o.requestHeaders)) {
        this.o.log({ level: "warn", event: "websocket_unsupported", upstream: new URL(target).origin });
        return errorResponse(501, "websocket_unsupported", "this runtime's fetch cannot proxy a WebSocket: serve the upgrade in the app, or proxy it elsewhere", true);
      }
      dropHopByHop(o.requestHeaders);
      // fetch decodes what it asked for itself (proxiedResponse).
      o.requestHeaders.delete("accept-encoding");
    }
    const init = { method: request.method, headers: o.requestHeaders, redirect: "manual" };
    if (request.body && request.method !== "GET" && request.method !== "HEAD") {
      init.body = request.body;
      init.duplex = "half";
    }
    const forwarded = new Request(target ?? request.url, init);
    if (target === undefined) {
      if (o.setCookies.length === 0) return await app(forwarded);
      try {
        return withSetCookies(await app(forwarded), o.setCookies);
      } catch (err) {
        // The edge refreshed for this request: the control plane has rotated, and a
        // browser left with the spent refresh token would read as reuse once the grace
        // window is over. So the new cookies go out with a 500; with nothing to hand on,
        // the exception stays the runtime's to report.
        this.o.log({ level: "error", event: "app_failed", error_type: errorType(err), stack: stackFrames(err) });
        return withCookies(errorResponse(500, "internal", "the app failed", this.isAPIRequest(request, appPath(request.url, ctx.basePath))), o.setCookies);
      }
    }
    // The control plane and a bearerProxy backend (o.upstream) are APIs: a 502 from them is JSON.
    const json = o.upstream !== undefined || this.isAPIRequest(request, appPath(request.url, ctx.basePath));
    return this.proxy(forwarded, o.setCookies, json);
  }

  /**
   * proxy sends a request the edge forwards (to an origin, a bearerProxy backend or the
   * control plane) and returns the answer for the client, with setCookies
   * (proxiedResponse). An upstream it cannot reach is a 502, as a reverse proxy answers
   * (the Go edge's does), still with setCookies: after a refresh made for this request
   * the control plane has rotated, and a browser left with the spent refresh token would
   * read as reuse once the grace window is over. json: the 502 in JSON (an API request).
   * Not part of the package's API; next.mjs uses it.
   */
  async proxy(forwarded, setCookies, json) {
    let res;
    try {
      res = await this.o.fetch(forwarded);
    } catch (err) {
      const u = new URL(forwarded.url);
      this.o.log({ level: "error", event: "upstream_unreachable", upstream: u.origin, error: withoutURL(String(err), u) });
      return withCookies(errorResponse(502, "upstream_unreachable", "the edge could not reach the upstream", json), setCookies);
    }
    return proxiedResponse(res, setCookies);
  }
}

// withoutURL is a fetch error's text with the request's URL in it (Deno's names it:
// "error sending request for url (...)") cut to its origin, and any other copy of the
// query replaced: the path and query are the client's, and may carry a token. The
// Go edge logs the upstream's host and the transport's error, not the URL.
function withoutURL(text, u) {
  text = text.split(u.href).join(u.origin);
  if (u.search.length > 1) text = text.split(u.search.slice(1)).join("***");
  return text;
}

// errorType and stackFrames are what the edge logs of an app's exception it answers for:
// its type and where it was thrown, never its message or value, as the control plane
// logs a handler's panic (httpapi: "the type and the stack, never the value"). An app's
// error can carry a secret: a database URL with its password, a token it was handed.
function errorType(err) {
  return err !== null && typeof err === "object" ? (err.constructor?.name ?? "Object") : typeof err;
}

// stackFrames keeps the frame lines of a V8 stack (every runtime the edge runs in:
// Node, Deno, workerd, edge-runtime), which follow the "Name: message" lines.
function stackFrames(err) {
  const stack = err !== null && typeof err === "object" ? err.stack : undefined;
  return typeof stack === "string" ? stack.split("\n").filter((l) => /^\s+at /.test(l)).join("\n") : undefined;
}

/**
 * proxiedResponse is an upstream's answer, which fetch got, as the edge hands it to the
 * client, with setCookies added. fetch decodes a gzip, deflate or br body and keeps
 * Content-Encoding and Content-Length (Node's undici, workerd), so the client got a
 * decoded body labelled gzip, with the encoded length: both go. The upstream was asked
 * with fetch's own Accept-Encoding, not the client's, so that fetch decodes whatever
 * comes.
 */
function proxiedResponse(res, setCookies) {
  if (!res.headers.has("content-encoding")) return withSetCookies(res, setCookies);
  const headers = new Headers(res.headers);
  headers.delete("content-encoding");
  headers.delete("content-length");
  for (const c of setCookies) headers.append("set-cookie", c);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

// withSetCookies adds setCookies to res (a copy: a fetched Response's headers are immutable).
function withSetCookies(res, setCookies) {
  if (setCookies.length === 0) return res;
  const out = new Response(res.body, res);
  for (const c of setCookies) out.headers.append("set-cookie", c);
  return out;
}

const SAFE_METHODS = new Set(["GET", "HEAD"]);

// workerd (Cloudflare Workers), whose fetch answers an upgrade with a WebSocket, is the
// runtime with WebSocketPair.
const FETCH_OPENS_WEBSOCKETS = typeof globalThis.WebSocketPair === "function";

// isWebSocketUpgrade: the request asks for a WebSocket (Upgrade: websocket, any case).
function isWebSocketUpgrade(headers) {
  return headers.get("upgrade")?.trim().toLowerCase() === "websocket";
}

// appPath is the path of url the edge decides: under basePath (handle's ctx.basePath),
// the app's path, as handle reads it.
function appPath(url, basePath = "") {
  const path = new URL(url).pathname;
  return basePath !== "" && (path === basePath || path.startsWith(`${basePath}/`)) ? path.slice(basePath.length) || "/" : path;
}

// notNavigation: the request comes from fetch, not from the browser loading a page: its
// Sec-Fetch-Mode says so, or it is a Next server action (Next-Action), which a browser
// without Sec-Fetch-Mode sends with fetch too.
function notNavigation(headers) {
  const mode = headers.get("sec-fetch-mode");
  return (mode !== null && mode !== "navigate") || headers.has("next-action");
}

// isPrefetch: a request the browser makes ahead of a navigation that may never come:
// Next's router (Next-Router-Prefetch), <link rel=prefetch> (Purpose, Sec-Purpose) and
// speculation rules (Sec-Purpose: prefetch, prefetch;prerender).
function isPrefetch(headers) {
  return headers.has("next-router-prefetch") || headers.get("purpose")?.trim().toLowerCase() === "prefetch" ||
    /^\s*prefetch\b/i.test(headers.get("sec-purpose") ?? "");
}

// Hop-by-hop fields (RFC 9110, 7.6.1) describe the client's connection to the edge, not
// the edge's to an upstream: a proxy drops them, and every field Connection names. Node's
// fetch (undici: Node, edge-runtime) refuses a request with Transfer-Encoding, Expect,
// Keep-Alive, Upgrade or a Connection other than keep-alive and close (edge.fetch threw);
// Deno's sent them on. Expect was answered by the edge's server. Upgrade: websocket stays:
// workerd's fetch proxies a WebSocket with it.
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "te", "transfer-encoding", "upgrade", "expect"];
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

export function dropHopByHop(headers) {
  const websocket = isWebSocketUpgrade(headers);
  const named = (headers.get("connection") ?? "").split(",").map((t) => t.trim().toLowerCase());
  for (const name of [...named, ...HOP_BY_HOP]) {
    if (FIELD_NAME.test(name) && !(websocket && name === "upgrade")) headers.delete(name);
  }
}

function getSetCookies(headers) {
  if (typeof headers.getSetCookie === "function") return headers.getSetCookie();
  const v = headers.get("set-cookie");
  return v ? [v] : [];
}

// replaceCookies rebuilds one Cookie header with the pairs in cookies (name -> value)
// replacing those of the same name, as the browser will send them next time.
// trimOWS and unquote read a cookie pair the way the module does (verifier/cookie):
// SP and HTAB around a name or value are optional white space (RFC 9110), and one
// pair of double quotes around a value is not part of it (RFC 6265's cookie-value).
function trimOWS(s) {
  let i = 0;
  let j = s.length;
  while (i < j && (s[i] === " " || s[i] === "\t")) i++;
  while (j > i && (s[j - 1] === " " || s[j - 1] === "\t")) j--;
  return s.slice(i, j);
}

function unquote(v) {
  return v.length >= 2 && v[0] === '"' && v[v.length - 1] === '"' ? v.slice(1, -1) : v;
}

function replaceCookies(headerValues, cookies) {
  const out = [];
  for (const h of headerValues) {
    for (const pair of h.split(";")) {
      const p = trimOWS(pair);
      if (p === "") continue;
      const i = p.indexOf("=");
      const name = i < 0 ? p : trimOWS(p.slice(0, i));
      if (!(name in cookies)) out.push(p);
    }
  }
  for (const [k, v] of Object.entries(cookies)) if (v !== "") out.push(`${k}=${v}`);
  return out.join("; ");
}

// Header values per identity: the module's host shares one frozen identity per cached
// token, so a repeat visitor's values are formatted once.
const identityValues = new WeakMap();

function setIdentity(headers, id) {
  let v = identityValues.get(id);
  if (v === undefined) {
    // RFC 3339 in UTC without fractions, as every edge writes it (verifier/ABI.md).
    v = [byteString(id.sub), byteString(id.sid), byteString((id.roles ?? []).join(",")), new Date(id.exp * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"), id.mfa ? "true" : "false"];
    if (Object.isFrozen(id)) identityValues.set(id, v);
  }
  headers.set(IDENTITY_HEADERS.subject, v[0]);
  headers.set(IDENTITY_HEADERS.session, v[1]);
  headers.set(IDENTITY_HEADERS.roles, v[2]);
  headers.set(IDENTITY_HEADERS.expiresAt, v[3]);
  headers.set(IDENTITY_HEADERS.secondFactor, v[4]);
}

// byteString is s as a header value that carries its UTF-8 bytes, one char per byte, as
// the Go edge sends them: Headers refuse a char above U+00FF and send U+0080-U+00FF as
// one byte each, so a role like "管理者" threw and "rédacteur" went out as Latin-1.
const utf8 = new TextEncoder();
function byteString(s) {
  if (!/[^\x00-\x7f]/.test(s)) return s;
  let out = "";
  for (const b of utf8.encode(s)) out += String.fromCharCode(b);
  return out;
}

function forward(upstream, requestHeaders, setCookies, reason, decision = null) {
  return { action: "forward", reason, decision, identity: decision?.identity ?? null, upstream, requestHeaders, setCookies, response: null };
}

function respond(response, reason, decision = null) {
  return { action: "respond", reason, decision, identity: null, upstream: undefined, requestHeaders: null, setCookies: [], response };
}

function withCookies(res, cookies) {
  for (const c of cookies) res.headers.append("set-cookie", c);
  return res;
}

function redirect(location) {
  return new Response(null, { status: 302, headers: { location, "cache-control": "no-store" } });
}

// CHALLENGES: the WWW-Authenticate challenge of each 401's code, as sessionauth sends
// them (sessionauth.Challenge): RFC 9110 requires one on a 401. Bearer (RFC 6750) is the
// scheme the access token is also accepted under where allowed (allow_bearer); no scheme
// names a session cookie, and a Bearer challenge, unlike Basic, makes no browser ask for
// credentials.
const CHALLENGES = {
  __proto__: null,
  unauthenticated: "Bearer", // no token
  invalid_token: 'Bearer error="invalid_token"', // a token sent and refused (code unauthenticated)
  token_expired: 'Bearer error="invalid_token", error_description="the access token expired"',
  session_ended: 'Bearer error="invalid_token"',
};

function errorResponse(status, code, message, json) {
  const headers = json ? { "content-type": "application/json", "cache-control": "no-store" } : { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" };
  if (status === 401) headers["www-authenticate"] = CHALLENGES[code] ?? CHALLENGES.unauthenticated;
  return new Response(json ? JSON.stringify({ error: { code, message } }) : `${message}\n`, { status, headers });
}

function unavailable(api, message) {
  const res = errorResponse(503, "unavailable", message, api);
  res.headers.set("retry-after", "5");
  return res;
}

// settledWithin resolves once p settles (whatever its outcome) or ms have passed.
function settledWithin(p, ms) {
  let timer;
  const limit = new Promise((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([p.then(() => {}, () => {}), limit]).finally(() => clearTimeout(timer));
}

// listExp is a revocation list's exp (unix seconds), null when it cannot be read (the
// module said what is wrong with such a list when it was refused).
function listExp(jws) {
  const exp = segmentJSON(String(jws).split(".")[1] ?? "")?.exp;
  return typeof exp === "number" ? exp : null;
}

// holdList returns the lists a rebuilt instance must replay once the module has loaded
// text (verifier/internal/heldlists in Go does the same for the Go hosts). The module
// adds a list of the held list's second to it (verifier/ABI.md, "load_revocations"), so
// one list is not always enough: held keeps each list of that second that no other
// covers (a replica's lists grow within a second), at most MAX_HELD_LISTS, oldest first.
// A list of another second, or one it cannot read, replaces them.
function holdList(held, text, l = readList(text)) {
  if (l === null || held.length === 0 || held[0].iat !== l.iat) return [l ?? { text, iat: null, sids: new Set(), before: 0 }];
  if (held.some((h) => covers(h, l))) return held;
  const next = held.filter((h) => !covers(l, h));
  if (next.length === MAX_HELD_LISTS) next.shift();
  next.push(l);
  return next;
}

const MAX_HELD_LISTS = 16;

// covers: replaying a leaves an instance holding all that b adds.
function covers(a, b) {
  if (b.before > a.before) return false;
  for (const s of b.sids) if (!a.sids.has(s)) return false;
  return true;
}

// readList is what holdList compares of a list the module loaded: iat, sids, before
// (null when it cannot be read).
function readList(text) {
  const p = segmentJSON(String(text).split(".")[1] ?? "");
  if (!Number.isInteger(p?.iat) || !Array.isArray(p.sids)) return null;
  return { text, iat: p.iat, sids: new Set(p.sids), before: Number.isInteger(p.before) ? p.before : 0 };
}

// The revocation stream's revoked events (controlplane/README.md, "Revocation stream").
const EVENT_TYPE = "edgeauth-revocation+jwt";
// Header members a JWS of ours never has, refused as the module refuses them (verifier/jose).
const UNSUPPORTED_HEADER = ["crit", "jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256", "b64", "zip"];
// sessionauth's default list leeway: a list issued within it of a push may predate it.
const PUSHED_LEEWAY_MS = 60_000;
// At most this many pushed sessions are held (the oldest goes first); each goes once a
// list issued after it is loaded, so only a list stalled through a mass sign-out fills it.
const MAX_PUSHED = 10_000;

// segmentJSON is a JWS segment's JSON object, or null.
function segmentJSON(segment) {
  try {
    const v = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(base64urlDecode(segment)));
    return v !== null && typeof v === "object" && !Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

// typMatches compares a typ header with the media type wanted, as verifier/jose does:
// exact, or with an "application/" prefix in any letter case.
function typMatches(typ, want) {
  const prefix = "application/";
  return typ === want || (typ.length === prefix.length + want.length && typ.slice(0, prefix.length).toLowerCase() === prefix && typ.endsWith(want));
}

// signatureCheck is verify_signature's input (verifier/abi/sigcheck.go, EncodeSignatureCheck):
// u32 LE len(jwk) | jwk | u32 LE len(msg) | msg | sig.
function signatureCheck(jwk, msg, sig) {
  const j = utf8.encode(jwk);
  const m = utf8.encode(msg);
  const out = new Uint8Array(8 + j.length + m.length + sig.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, j.length, true);
  out.set(j, 4);
  dv.setUint32(4 + j.length, m.length, true);
  out.set(m, 8 + j.length);
  out.set(sig, 8 + j.length + m.length);
  return out;
}

// unreadable is a request's Cookie headers with every non-empty value replaced by "!"
// (no token), the names kept (decideRevoked).
function unreadable(cookies) {
  return cookieHeaders(cookies).map((h) => h.split(";").map((pair) => {
    const i = pair.indexOf("=");
    return i < 0 || unquote(trimOWS(pair.slice(i + 1))) === "" ? pair : `${pair.slice(0, i)}=!`;
  }).join(";"));
}

// base64urlDecode decodes unpadded base64url (a JWS segment).
function base64urlDecode(s) {
  const b = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
}

// The low-level host for verifier.wasm: it mirrors verifier/ABI.md (exports, buffer,
// result packing, status codes) and nothing else; createEdge (edge.mjs) builds on it.
// It takes a compiled WebAssembly.Module, because edge runtimes (workerd, Vercel)
// refuse to compile wasm from bytes at run time: `import mod from './verifier.wasm?module'`.

/** ABI version this helper speaks (abi.Version). */
export const ABI_VERSION = 1;

/** Status codes (verifier/ABI.md, "Status codes"): index = code. */
export const STATUS = [
  "OK",
  "Malformed",
  "TooLarge",
  "UnsupportedHeader",
  "AlgorithmNotAllowed",
  "UnknownKey",
  "SignatureInvalid",
  "Expired",
  "NotValidYet",
  "IssuedInFuture",
  "InvalidIssuer",
  "InvalidAudience",
  "InvalidType",
  "InvalidClaims",
  "Revoked",
  "InvalidConfig",
  "InvalidKeySet",
  "InvalidRevocationList",
  "InvalidRequest",
  "InputTooLarge",
  "NotConfigured",
  "Internal",
];

/** Exports a module must have, with [params, results] types. */
export const REQUIRED_EXPORTS = {
  _initialize: [[], []],
  abi_version: [[], ["i32"]],
  buf_ptr: [[], ["i32"]],
  buf_cap: [[], ["i32"]],
  configure: [["i32"], ["i64"]],
  load_keys: [["i32"], ["i64"]],
  load_revocations: [["i32", "i64"], ["i64"]],
  decide: [["i32", "i64"], ["i64"]],
  verify_token: [["i32", "i64"], ["i64"]],
  verify_signature: [["i32"], ["i64"]],
};

/**
 * An error returned by the module: code is the status number, status its name,
 * detail the module's explanation when it gives one (a refused configuration says
 * what to fix).
 */
export class EdgeauthError extends Error {
  constructor(code, op, detail = "") {
    const status = STATUS[code] ?? "Internal";
    super(`edgeauth: ${op}: ${status} (${code})${detail ? `: ${detail}` : ""}`);
    this.name = "EdgeauthError";
    this.code = code;
    this.status = status;
    this.detail = detail;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// Unix seconds above this are taken for milliseconds (1e11 s is the year 5138).
const MS_THRESHOLD = 1e11;

/**
 * toMillis turns a Date, milliseconds or seconds into milliseconds.
 * @param {Date|number|bigint} t
 * @returns {number}
 */
export function toMillis(t) {
  if (t instanceof Date) t = t.getTime();
  else if (typeof t === "bigint") t = Number(t) * 1000;
  else if (typeof t !== "number") throw new TypeError(`edgeauth: a time must be a Date or a number, not ${typeof t}`);
  else if (Math.abs(t) < MS_THRESHOLD) t *= 1000;
  if (!Number.isFinite(t)) throw new RangeError(`edgeauth: not a finite time: ${t}`);
  return t;
}

/**
 * toUnixSeconds turns a time as JS code holds it into the whole unix seconds the module
 * takes: a Date, milliseconds (Date.now()) or seconds, fractions dropped.
 * @param {Date|number|bigint} now
 * @returns {bigint}
 */
export function toUnixSeconds(now) {
  if (typeof now === "bigint") return now;
  return BigInt(Math.floor(toMillis(now) / 1000));
}

/**
 * cookieHeaders turns what a platform hands over for Cookie into the list of header
 * values the module takes: one string, several, none (null or undefined), or a Fetch
 * Headers object. Fetch's Headers.get joins repeated Cookie headers with ", ", which
 * is not the cookie separator ("; "), so the joined value is split back.
 * @param {string|null|undefined|Array<string|null|undefined>|Headers} cookies
 * @returns {string[]}
 */
export function cookieHeaders(cookies) {
  if (cookies == null) return [];
  if (typeof cookies === "object" && typeof cookies.get === "function" && !Array.isArray(cookies)) {
    cookies = cookies.get("cookie");
    if (cookies == null) return [];
  }
  const list = Array.isArray(cookies) ? cookies : [cookies];
  const out = [];
  for (const c of list) {
    if (c == null || c === "") continue;
    if (typeof c !== "string") throw new TypeError("edgeauth: each Cookie header must be a string");
    for (const part of c.split(", ")) if (part !== "") out.push(part);
  }
  return out;
}

/**
 * isWasmModule recognises a WebAssembly.Module from any realm (edge-runtime's VM has
 * its own globals, so instanceof is not enough).
 */
export function isWasmModule(m) {
  return m instanceof WebAssembly.Module || Object.prototype.toString.call(m) === "[object WebAssembly.Module]";
}

/** One module instance (single-threaded, like every wasm instance). */
export class Verifier {
  /** @param {WebAssembly.Module} module */
  constructor(module) {
    if (!isWasmModule(module)) {
      throw new TypeError("edgeauth: Verifier takes a compiled WebAssembly.Module (import it with ?module, or WebAssembly.compile the bytes where the runtime allows it)");
    }
    const exports = new Map(WebAssembly.Module.exports(module).map((e) => [e.name, e.kind]));
    if (exports.get("memory") !== "memory") throw new Error("edgeauth: module lacks export memory");
    for (const name of Object.keys(REQUIRED_EXPORTS)) {
      if (exports.get(name) !== "function") throw new Error(`edgeauth: module lacks export ${name}; is it verifier.wasm?`);
    }
    if (WebAssembly.Module.imports(module).length > 0) {
      throw new Error("edgeauth: module has imports; build it with -target=wasm-unknown");
    }
    this.instance = new WebAssembly.Instance(module, {});
    this.x = this.instance.exports;
    for (const [name, [params]] of Object.entries(REQUIRED_EXPORTS)) {
      if (this.x[name].length !== params.length) {
        throw new Error(`edgeauth: export ${name} takes ${this.x[name].length} parameters, the ABI says ${params.length}`);
      }
    }
    this.x._initialize();
    const version = this.x.abi_version();
    if (version !== ABI_VERSION) {
      throw new Error(`edgeauth: module ABI version ${version}, this host speaks ${ABI_VERSION}`);
    }
    this.ptr = this.x.buf_ptr() >>> 0;
    this.cap = this.x.buf_cap() >>> 0;
  }

  // call writes input (string or bytes) into the buffer, calls the export and returns
  // the output bytes (a copy) or throws an EdgeauthError. On a refusal the module may
  // leave a reason text in the buffer (its length in the low half): it becomes the
  // error's detail.
  call(op, input, now) {
    const bytes = typeof input === "string" ? encoder.encode(input) : input;
    if (bytes.length > this.cap) throw new EdgeauthError(19, op);
    new Uint8Array(this.x.memory.buffer, this.ptr, bytes.length).set(bytes);
    const r = now === undefined ? this.x[op](bytes.length) : this.x[op](bytes.length, toUnixSeconds(now));
    const packed = BigInt.asUintN(64, r);
    const code = Number(packed >> 32n);
    const len = Number(packed & 0xffffffffn);
    if (len > this.cap) throw new EdgeauthError(21, op, `output length ${len} exceeds the buffer`);
    const out = new Uint8Array(this.x.memory.buffer, this.ptr, len).slice();
    if (code !== 0) throw new EdgeauthError(code, op, decoder.decode(out));
    return out;
  }

  configure(config) {
    this.call("configure", typeof config === "string" ? config : JSON.stringify(config));
  }
  loadKeys(jwks) {
    this.call("load_keys", typeof jwks === "string" ? jwks : JSON.stringify(jwks));
  }
  /** @param {string|Uint8Array} list the compact JWS  @param {Date|number|bigint} now */
  loadRevocations(list, now) {
    this.call("load_revocations", list, now);
  }
  /**
   * decide one request. cookies may be a string, a list, null or absent.
   * @param {{method: string, path: string, query?: string, cookies?: string|null|Array<string|null|undefined>, authorization?: string|null}} request
   * @param {Date|number|bigint} now
   * @returns {{action: string, reason: string, status?: number, location?: string, identity?: {sub: string, sid: string, roles?: string[], exp: number}, clear_cookies?: string[]}}
   */
  decide(request, now) {
    const r = { method: request.method, path: request.path };
    if (request.query) r.query = request.query;
    const cookies = cookieHeaders(request.cookies);
    if (cookies.length > 0) r.cookies = cookies;
    if (request.authorization) r.authorization = request.authorization;
    return JSON.parse(decoder.decode(this.call("decide", JSON.stringify(r), now)));
  }
  verifyToken(token, now) {
    return JSON.parse(decoder.decode(this.call("verify_token", token, now)));
  }
  /** Raw signature check; input laid out as abi.EncodeSignatureCheck. */
  verifySignature(input) {
    this.call("verify_signature", input);
  }
}

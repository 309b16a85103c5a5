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
  "NeedSignature",
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
  decide_compact: [["i32", "i64"], ["i64"]],
  identity: [[], ["i64"]],
  heap_allocs: [[], ["i64"]],
};

/**
 * Exports of the two-phase path (verifier/ABI.md, "Two-phase verification"), used when
 * the module has them: the module asks about an RS256 signature, WebCrypto checks it.
 */
export const TWO_PHASE_EXPORTS = {
  host_signatures: [["i32"], ["i64"]],
  signature_verdict: [["i32"], ["i64"]],
};

// Algorithm code of a signature question that this host answers (abi.AlgRS256), the key
// index of a key that is in no key set (abi.NoKeyIndex), and the question's fixed part.
const ALG_RS256 = 2;
const NO_KEY_INDEX = 0xffffffff;
const QUESTION_SIZE = 20;
const RSASSA = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
const VERIFIER_OPTIONS = new Set(["moduleSignatures"]);

/** Action codes of the compact decision record (verifier/ABI.md, "decide_compact"). */
export const ACTIONS = ["allow", "redirect", "refresh", "deny"];

/** Reason codes of the compact decision record: index = code (abi.Reasons). */
export const REASONS = [
  "authenticated",
  "public",
  "public_authenticated",
  "no_token",
  "refresh",
  "token_expired",
  "token_not_yet_valid",
  "unknown_key",
  "invalid_token",
  "duplicate_cookie",
  "revoked",
  "missing_role",
  "already_signed_in",
  "invalid_path",
  "preflight",
  "mfa_required",
];

// The compact form reads requests of at most this many bytes (the gate's limit);
// larger ones go through the JSON form, which refuses them the same way.
const COMPACT_MAX = 64 << 10;
// Identities kept per instance, by identity key (the cache entry's serial number).
const IDENTITY_CACHE = 1024;

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

const getTime = Date.prototype.getTime;

// isDate recognises a Date from any realm (a sandbox's globals differ from the
// package's, as isWasmModule allows for the module): getTime checks the internal slot,
// which an object that only calls itself a Date lacks.
function isDate(t) {
  if (t instanceof Date) return true;
  if (t === null || typeof t !== "object") return false;
  try {
    getTime.call(t);
    return true;
  } catch {
    return false;
  }
}

/**
 * toMillis turns a Date (of any realm), milliseconds or seconds into milliseconds.
 * @param {Date|number|bigint} t
 * @returns {number}
 */
export function toMillis(t) {
  if (isDate(t)) t = getTime.call(t);
  else if (typeof t === "bigint") t = Number(t) * 1000;
  else if (typeof t !== "number") throw new TypeError(`edgeauth: a time must be a Date or a number, not ${typeof t}`);
  else if (Math.abs(t) < MS_THRESHOLD) t *= 1000;
  if (!Number.isFinite(t)) throw new RangeError(`edgeauth: not a finite time: ${t}`);
  return t;
}

// The module takes now as an i64, and JS converts a BigInt to one modulo 2^64: a time
// outside this range would be decided as some other time, so it is refused instead.
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

// inI64 returns s (whole unix seconds) when the module can take it, else throws.
function inI64(s) {
  if (s < I64_MIN || s > I64_MAX) throw new RangeError(`edgeauth: a time the module cannot take (unix seconds outside int64): ${s}`);
  return s;
}

/**
 * toUnixSeconds turns a time as JS code holds it into the whole unix seconds the module
 * takes: a Date, milliseconds (Date.now()) or seconds, fractions dropped. A time outside
 * int64 seconds is a RangeError.
 * @param {Date|number|bigint} now
 * @returns {bigint}
 */
export function toUnixSeconds(now) {
  if (typeof now === "bigint") return inI64(now);
  return inI64(BigInt(Math.floor(toMillis(now) / 1000)));
}

/**
 * cookieHeaders turns what a platform hands over for Cookie into the list of header
 * values the module takes: one string (one header), several, none (null or undefined),
 * or a Fetch Headers object. A string is never split at ", ": browsers store cookie
 * values with ", " in them, so a page on a sibling subdomain could set
 * `x=y, __Host-edgeauth_at=<its token>` and a split would read that as the access
 * cookie (SECURITY.md). Node and Deno.serve join repeated Cookie fields with "; " as
 * RFC 9113 asks; a front end that joins them with ", " hides every cookie after the
 * first, so the visitor looks signed out: it fails closed.
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
    out.push(c);
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

// readJSON decodes an export's JSON output; ignore reads nothing.
const readJSON = (out) => JSON.parse(decoder.decode(out));
const ignore = () => undefined;

function u32(u8, off, v) {
  u8[off] = v;
  u8[off + 1] = v >>> 8;
  u8[off + 2] = v >>> 16;
  u8[off + 3] = v >>> 24;
}

function rd32(u8, off) {
  return (u8[off] | (u8[off + 1] << 8) | (u8[off + 2] << 16) | (u8[off + 3] << 24)) >>> 0;
}

// equalAt reports whether b[at, at + a.length) holds the bytes of a.
function equalAt(a, b, at) {
  if (at + a.length > b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[at + i]) return false;
  return true;
}

function base64url(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// Question is a signature question the module asked (status NeedSignature): a copy of
// its bytes (the first len bytes of buf, a spare buffer of the instance's; see
// Verifier.question), the export that asked, and the instance's call count when it
// asked. It is thrown past the export's reader and caught by the Verifier method that
// called it, never by a user.
class Question {
  constructor(buf, len, op, epoch) {
    this.buf = buf;
    this.len = len;
    this.op = op;
    this.epoch = epoch;
  }
  get bytes() {
    return this.buf.subarray(0, this.len);
  }
}

// SPARE_QUESTIONS bounds the question buffers an instance keeps for reuse: one per
// signature check in flight at once, beyond which buffers are left to the collector.
const SPARE_QUESTIONS = 8;

/**
 * moduleSignaturesFaster reports whether this runtime verifies RS256 faster inside the
 * module than with its WebCrypto, as measured by `make bench-js` (README, "Speed"): in
 * Deno the module took 125-139 µs against WebCrypto's 254-291 µs (jose, and the two-phase
 * path), in Node and workerd WebCrypto wins 1.2x and 4.8x. Read at each construction, so
 * that a test can stand in for a runtime.
 */
export function moduleSignaturesFaster() {
  return typeof globalThis.Deno?.version?.deno === "string";
}

const wellFormed =
  typeof String.prototype.isWellFormed === "function"
    ? (s) => s.isWellFormed()
    : (s) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

/**
 * One module instance (single-threaded, like every wasm instance).
 *
 * RS256 signatures: where the module has the two-phase exports, the runtime has
 * WebCrypto and its WebCrypto is the faster one, the instance declares RS256 with
 * host_signatures at construction, and the *Async methods check those signatures with
 * crypto.subtle (verifier/ABI.md, "Two-phase verification"); the synchronous methods keep
 * the module's own crypto. Option moduleSignatures: true declares nothing, so every
 * method uses the module's crypto; false uses WebCrypto wherever the runtime has it;
 * left out, the runtime decides (moduleSignaturesFaster).
 */
export class Verifier {
  /**
   * @param {WebAssembly.Module} module
   * @param {{moduleSignatures?: boolean}} [options]
   */
  constructor(module, options = {}) {
    if (options === null || typeof options !== "object") throw new TypeError("edgeauth: Verifier options must be an object");
    for (const k of Object.keys(options)) {
      if (!VERIFIER_OPTIONS.has(k)) throw new TypeError(`edgeauth: unknown Verifier option ${JSON.stringify(k)}; known: ${[...VERIFIER_OPTIONS].join(", ")}`);
    }
    if (options.moduleSignatures != null && typeof options.moduleSignatures !== "boolean") {
      throw new TypeError("edgeauth: Verifier option moduleSignatures must be a boolean");
    }
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
    this.u8 = new Uint8Array(this.x.memory.buffer);
    this.tail = null; // this.u8 from buf_ptr + tailAt to the buffer's end (decide's encodeInto target)
    this.tailAt = -1;
    this.second = NaN; // the latest `now` in whole seconds, and as the BigInt the module takes
    this.secondBig = 0n;
    this.identities = new Map(); // identity key -> frozen identity (see decide)
    // The two-phase path. epoch counts the calls that may discard or replace a pending
    // signature question (every export but identity and the getters).
    this.epoch = 0;
    this.hostMask = 0; // the algorithms this host checks (host_signatures), declared once
    this.declared = 0; // what the module holds now (0 while a synchronous call falls back)
    this.subtle = null;
    this.rsaKeys = new Map(); // key index -> {material, key: Promise<CryptoKey>}, for one key set
    this.spare = []; // question buffers for reuse (see question)
    this.hostChecks = 0; // signatures WebCrypto checked (a diagnostic for tests)
    const twoPhase = Object.entries(TWO_PHASE_EXPORTS).every(([name, [params]]) => exports.get(name) === "function" && this.x[name].length === params.length);
    const subtle = globalThis.crypto?.subtle;
    const own = options.moduleSignatures ?? moduleSignaturesFaster();
    if (twoPhase && subtle && !own) {
      this.subtle = subtle;
      this.hostMask = 1 << ALG_RS256;
      this.declare(this.hostMask);
    }
  }

  // declare calls host_signatures(mask), which discards a pending question or verdict.
  declare(mask) {
    this.epoch++;
    const packed = BigInt.asUintN(64, this.x.host_signatures(mask));
    const code = Number(packed >> 32n);
    if (code !== 0) throw new EdgeauthError(code, "host_signatures", `mask ${mask}`);
    this.declared = mask;
  }

  // question turns a NeedSignature result into the Question to answer, or into an
  // Internal error when this host declared nothing: such a question is a bug, never
  // passed on as its own status or a decision. The question is copied out of the
  // module's buffer, which the next call overwrites, into a spare buffer that settle
  // hands back: a new ArrayBuffer per cold token costs more than the copy (see call).
  question(op, out) {
    if (this.declared === 0) return new EdgeauthError(21, op, "the module asked about a signature this host did not declare (NeedSignature)");
    let buf = this.spare.pop();
    if (buf === undefined || buf.length < out.length) buf = new Uint8Array(Math.max(out.length, 2048));
    buf.set(out);
    return new Question(buf, out.length, op, this.epoch);
  }

  // release hands a settled question's buffer back for reuse.
  release(q) {
    if (q.buf !== null && this.spare.length < SPARE_QUESTIONS) this.spare.push(q.buf);
    q.buf = null;
  }

  // withModuleCrypto runs fn (one export call) with nothing declared: a synchronous
  // method's answer to a signature question, the module's own crypto.
  withModuleCrypto(fn) {
    this.declare(0);
    try {
      return fn();
    } finally {
      this.declare(this.hostMask);
    }
  }

  // settle completes a call that asked question q: WebCrypto checks the signature, the
  // module gets the verdict, and again() (the same export with the same input and now)
  // decides; again reads what it needs from the module's buffer before it returns,
  // since any call may overwrite it once this one awaits. Other calls may use the
  // instance while WebCrypto works, discarding or replacing the question: then the call
  // is made anew, and the verdict given only to the very question it checked. A failure
  // of WebCrypto fails closed (Internal).
  async settle(q, again) {
    try {
      for (let round = 0; round < 3; round++) {
        const valid = await this.checkSignature(q);
        if (this.epoch !== q.epoch) {
          try {
            return again(); // e.g. another request cached the token meanwhile
          } catch (err) {
            if (!(err instanceof Question)) throw err;
            const same = err.len === q.len && equalAt(err.bytes, q.buf, 0);
            this.release(q);
            q = err;
            if (!same) continue; // another key set: check again
          }
        }
        this.epoch++;
        const packed = BigInt.asUintN(64, this.x.signature_verdict(valid ? 1 : 0));
        const code = Number(packed >> 32n);
        if (code !== 0) throw new EdgeauthError(21, "signature_verdict", `answered ${STATUS[code] ?? code}`);
        try {
          return again();
        } catch (err) {
          if (err instanceof Question) throw new EdgeauthError(21, q.op, "the module asked about a signature again after its verdict");
          throw err;
        }
      }
      throw new EdgeauthError(21, q.op, "the key set changed under every signature check");
    } finally {
      this.release(q);
    }
  }

  // checkSignature answers a question (verifier/ABI.md, "Two-phase verification"):
  // RSASSA-PKCS1-v1_5 with SHA-256 of exactly its message under exactly its key,
  // resolving to the verdict. A question that does not match the ABI or names an
  // algorithm this host did not declare, and any failure of WebCrypto, is an Internal
  // error. (Promises rather than async functions: a cold token's every microtask counts.)
  checkSignature(q) {
    const b = q.buf;
    const fail = (why) => new EdgeauthError(21, q.op, why);
    if (q.len < QUESTION_SIZE || (b[1] | b[2] | b[3]) !== 0) throw fail("signature question does not match the ABI");
    if (b[0] !== ALG_RS256 || (this.hostMask & (1 << b[0])) === 0) throw fail(`the module asked about algorithm ${b[0]}, which this host did not declare`);
    const nk = rd32(b, 8);
    const nm = rd32(b, 12);
    const ns = rd32(b, 16);
    if (QUESTION_SIZE + nk + nm + ns !== q.len || nk < 5) throw fail("signature question does not match the ABI");
    const msg = b.subarray(QUESTION_SIZE + nk, QUESTION_SIZE + nk + nm);
    const sig = b.subarray(QUESTION_SIZE + nk + nm, q.len);
    const entry = this.rsaKey(rd32(b, 4), b, nk, q.op);
    const check = (key) => {
      let verdict;
      try {
        verdict = this.subtle.verify(RSASSA, key, sig, msg);
      } catch (err) {
        verdict = Promise.reject(err);
      }
      return verdict.then((valid) => {
        if (typeof valid !== "boolean") throw fail("WebCrypto answered no verdict");
        this.hostChecks++;
        return valid;
      }, (err) => {
        throw err instanceof EdgeauthError ? err : fail(`WebCrypto could not check the signature: ${err}`);
      });
    };
    return entry.key !== null ? check(entry.key) : entry.imported.then(check);
  }

  // rsaKey returns a question's RS256 key (u32 exponent, then the modulus) as an entry:
  // key once imported, imported the import's promise. Imported once per key index of
  // the loaded key set (loadKeys forgets them), the material compared on every use; a
  // refused import is forgotten, so the next question tries again.
  // The material is the nk bytes of question buffer b after the question's fixed part.
  rsaKey(index, b, nk, op) {
    const kept = this.rsaKeys.get(index);
    if (kept !== undefined && kept.material.length === nk && equalAt(kept.material, b, QUESTION_SIZE)) return kept;
    const material = b.slice(QUESTION_SIZE, QUESTION_SIZE + nk);
    const e = rd32(material, 0);
    const exponent = [e >>> 24, (e >>> 16) & 255, (e >>> 8) & 255, e & 255];
    while (exponent.length > 1 && exponent[0] === 0) exponent.shift();
    const jwk = { kty: "RSA", n: base64url(material.subarray(4)), e: base64url(exponent), alg: "RS256", ext: true };
    const entry = { material, key: null, imported: null };
    entry.imported = (async () => {
      try {
        entry.key = await this.subtle.importKey("jwk", jwk, RSASSA, false, ["verify"]);
        return entry.key;
      } catch (err) {
        if (this.rsaKeys.get(index) === entry) this.rsaKeys.delete(index);
        throw new EdgeauthError(21, op, `WebCrypto refused the RS256 key: ${err}`);
      }
    })();
    if (index !== NO_KEY_INDEX) this.rsaKeys.set(index, entry);
    return entry;
  }

  // bytes is a view of the whole memory, renewed when the memory has grown (growing
  // detaches the old buffer, which empties every view of it).
  bytes() {
    if (this.u8.length === 0) {
      this.u8 = new Uint8Array(this.x.memory.buffer);
      this.tailAt = -1;
    }
    return this.u8;
  }

  // tailFrom is the buffer from buf_ptr + at to its end, kept while `at` and the memory stay.
  tailFrom(at) {
    const u8 = this.bytes();
    if (this.tailAt !== at) {
      this.tail = u8.subarray(this.ptr + at, this.ptr + this.cap);
      this.tailAt = at;
    }
    return this.tail;
  }

  // seconds is toUnixSeconds(now), without making a BigInt per call within one second.
  seconds(now) {
    if (typeof now === "bigint") return inI64(now);
    const s = Math.floor(toMillis(now) / 1000);
    if (s !== this.second) {
      this.secondBig = inI64(BigInt(s));
      this.second = s;
    }
    return this.secondBig;
  }

  // call writes input (a string, as UTF-8, or bytes) into the buffer, calls the export
  // and returns the output: a view of the buffer, valid until the next call, so its
  // reader decodes it at once. Nothing is allocated for the bytes either way: a new
  // ArrayBuffer cost 1.3-2.9 µs in Node, more than a cold token's checks in the module
  // (README, "Speed"). On a refusal
  // it throws an EdgeauthError; the module may leave a reason text in the buffer (its
  // length in the low half), which becomes the error's detail. A signature question is
  // thrown as a Question (see question).
  call(op, input, now) {
    let n;
    if (typeof input === "string") {
      const { read, written } = encoder.encodeInto(input, this.tailFrom(0));
      if (read !== input.length) throw new EdgeauthError(19, op);
      n = written;
    } else {
      if (input.length > this.cap) throw new EdgeauthError(19, op);
      this.bytes().set(input, this.ptr);
      n = input.length;
    }
    this.epoch++;
    const r = now === undefined ? this.x[op](n) : this.x[op](n, this.seconds(now));
    const packed = BigInt.asUintN(64, r);
    const code = Number(packed >> 32n);
    const len = Number(packed & 0xffffffffn);
    if (len > this.cap) throw new EdgeauthError(21, op, `output length ${len} exceeds the buffer`);
    const out = this.bytes().subarray(this.ptr, this.ptr + len);
    if (code === 22) throw this.question(op, out);
    if (code !== 0) throw new EdgeauthError(code, op, decoder.decode(out));
    return out;
  }

  configure(config) {
    this.call("configure", typeof config === "string" ? config : JSON.stringify(config));
  }
  loadKeys(jwks) {
    this.rsaKeys.clear(); // key indices name positions in the loaded set
    this.call("load_keys", typeof jwks === "string" ? jwks : JSON.stringify(jwks));
  }
  /** @param {string|Uint8Array} list the compact JWS  @param {Date|number|bigint} now */
  loadRevocations(list, now) {
    this.call("load_revocations", list, now);
  }
  /**
   * decide one request. cookies may be a string, a list, null or absent. Signatures are
   * checked by the module (decideAsync hands RS256 ones to WebCrypto).
   * @param {{method: string, path: string, query?: string, cookies?: string|null|Array<string|null|undefined>, authorization?: string|null}} request
   * @param {Date|number|bigint} now
   * @returns {{action: string, reason: string, status?: number, location?: string, identity?: {sub: string, sid: string, roles?: string[], exp: number}, clear_cookies?: string[]}}
   */
  decide(request, now) {
    try {
      return this.decideOnce(request, now);
    } catch (err) {
      if (!(err instanceof Question)) throw err;
      this.release(err);
      return this.withModuleCrypto(() => this.decideOnce(request, now));
    }
  }

  /**
   * decideAsync decides one request as decide does, and gives the same decision; a
   * cold RS256 token's signature is checked by WebCrypto on the two-phase path (the
   * module does every other check and decides). Rejects with an EdgeauthError
   * (Internal) when WebCrypto fails: never a decision without the check.
   * @param {Parameters<Verifier["decide"]>[0]} request
   * @param {Date|number|bigint} now
   */
  async decideAsync(request, now) {
    return this.decideTwoPhase(request, now);
  }

  /**
   * decideTwoPhase is decideAsync without a promise when none is needed: a cache hit, or
   * any token the module checks itself, is decided at once; a question to WebCrypto
   * returns a Promise. createEdge's path; not part of the typed API.
   */
  decideTwoPhase(request, now) {
    try {
      return this.decideOnce(request, now);
    } catch (err) {
      if (!(err instanceof Question)) throw err;
      return this.settle(err, () => this.decideOnce(request, now));
    }
  }

  // decideOnce is one decision through decide_compact (or decide): a Question when the
  // module asks about a signature.
  decideOnce(request, now) {
    const { method, path } = request;
    const query = request.query || "";
    const auth = request.authorization || "";
    // One Cookie header (the usual case) needs no list.
    const c = request.cookies;
    const single = typeof c === "string" && c !== "";
    const cookies = single ? null : cookieHeaders(c);
    if (typeof method !== "string" || typeof path !== "string" || typeof query !== "string" || typeof auth !== "string") {
      return this.decideJSONOnce(request, now); // the JSON form refuses what it must, as before
    }
    // decide_compact (verifier/ABI.md): the lengths, then every field at once.
    const n = single ? 1 : cookies.length;
    const head = 20 + 4 * n;
    const data = single ? method + path + query + auth + c : n === 0 ? method + path + query + auth : n === 1 ? method + path + query + auth + cookies[0] : method + path + query + auth + cookies.join("");
    if (head + data.length > COMPACT_MAX) return this.decideJSONOnce(request, now);
    const { read, written } = encoder.encodeInto(data, this.tailFrom(head));
    if (written !== data.length || read !== data.length) {
      // Not ASCII: the UTF-8 lengths of the fields differ from their JS lengths.
      return this.decideNonASCII(request, method, path, query, auth, cookies ?? [c], now);
    }
    const u8 = this.u8;
    const p = this.ptr;
    u32(u8, p, method.length);
    u32(u8, p + 4, path.length);
    u32(u8, p + 8, query.length);
    u32(u8, p + 12, auth.length);
    u32(u8, p + 16, n);
    if (single) u32(u8, p + 20, c.length);
    else for (let i = 0; i < n; i++) u32(u8, p + 20 + 4 * i, cookies[i].length);
    return this.decideCompact(head + written, now);
  }

  // decideNonASCII encodes each field on its own; strings with lone surrogates (which
  // UTF-8 cannot carry) go through the JSON form, which refuses them as before.
  decideNonASCII(request, method, path, query, auth, cookies, now) {
    const fields = [method, path, query, auth, ...cookies];
    if (!fields.every(wellFormed)) return this.decideJSONOnce(request, now);
    const enc = fields.map((f) => encoder.encode(f));
    const head = 4 * (fields.length + 1);
    let size = head;
    for (const e of enc) size += e.length;
    if (size > COMPACT_MAX) return this.decideJSONOnce(request, now);
    const u8 = this.bytes();
    const p = this.ptr;
    for (let i = 0; i < 4; i++) u32(u8, p + 4 * i, enc[i].length);
    u32(u8, p + 16, cookies.length);
    for (let i = 4; i < enc.length; i++) u32(u8, p + 20 + 4 * (i - 4), enc[i].length);
    let off = p + head;
    for (const e of enc) {
      u8.set(e, off);
      off += e.length;
    }
    return this.decideCompact(size, now);
  }

  // decideCompact calls decide_compact on the request in the buffer and reads the
  // record; the identity is read only when the record names one this instance has not
  // read yet (identity key), and is shared, frozen, by every decision on that token.
  decideCompact(len, now) {
    this.epoch++;
    const r = this.x.decide_compact(len, this.seconds(now));
    // Status 0 (the high half) leaves the length alone: a small non-negative result.
    const outLen = r >= 0n && r <= 0xffffffffn ? Number(r) : -1;
    if (outLen > this.cap || outLen < 24) {
      const packed = BigInt.asUintN(64, r);
      const code = Number(packed >> 32n);
      const n = Number(packed & 0xffffffffn);
      if (code === 0) throw new EdgeauthError(21, "decide_compact", `output length ${n} does not fit the ABI`);
      const out = this.bytes().subarray(this.ptr, this.ptr + Math.min(n, this.cap));
      if (code === 22) throw this.question("decide_compact", out);
      throw new EdgeauthError(code, "decide_compact", decoder.decode(out));
    }
    const u8 = this.bytes();
    const p = this.ptr;
    const action = ACTIONS[u8[p]];
    const reason = REASONS[u8[p + 1]];
    if (action === undefined || reason === undefined) throw new EdgeauthError(21, "decide_compact", "unknown action or reason code");
    const d = { action, reason };
    const status = u8[p + 2] | (u8[p + 3] << 8);
    if (status !== 0) d.status = status;
    const flags = u8[p + 4];
    const locLen = rd32(u8, p + 12);
    let off = p + 24;
    if (locLen > 0) {
      d.location = decoder.decode(u8.subarray(off, off + locLen));
      off += locLen;
    }
    if (flags & 2) {
      const a = rd32(u8, p + 16);
      const r = rd32(u8, p + 20);
      d.clear_cookies = [decoder.decode(u8.subarray(off, off + a)), decoder.decode(u8.subarray(off + a, off + a + r))];
    }
    if (flags & 1) {
      const key = rd32(u8, p + 8);
      let id = key !== 0 ? this.identities.get(key) : undefined;
      if (id === undefined) {
        id = this.readIdentity(); // overwrites the buffer: everything else is read
        if (key !== 0) {
          if (this.identities.size >= IDENTITY_CACHE) this.identities.clear();
          this.identities.set(key, id);
        }
      }
      d.identity = id;
    }
    return d;
  }

  // readIdentity calls identity and decodes its output (verifier/ABI.md).
  readIdentity() {
    const packed = BigInt.asUintN(64, this.x.identity());
    const code = Number(packed >> 32n);
    const len = Number(packed & 0xffffffffn);
    if (code !== 0 || len < 20 || len > this.cap) throw new EdgeauthError(code || 21, "identity");
    const u8 = this.bytes();
    let off = this.ptr;
    const end = off + len;
    const lo = rd32(u8, off);
    const hi = rd32(u8, off + 4) | 0;
    const exp = hi * 4294967296 + lo;
    off += 8;
    const str = () => {
      const n = rd32(u8, off);
      const s = decoder.decode(u8.subarray(off + 4, off + 4 + n));
      off += 4 + n;
      return s;
    };
    const sub = str();
    const sid = str();
    const count = rd32(u8, off);
    off += 4;
    const id = { sub, sid };
    if (count > 0) {
      const roles = [];
      for (let i = 0; i < count; i++) roles.push(str());
      id.roles = Object.freeze(roles);
    }
    id.exp = exp;
    // The flags byte (ABI.md): 1 = the sign-in used a second factor. A module built
    // before it ends here: no flags.
    if (off < end) {
      const flags = u8[off++];
      if (flags & ~1) throw new EdgeauthError(21, "identity", "identity does not match the ABI");
      if (flags & 1) id.mfa = true;
    }
    if (off !== end) throw new EdgeauthError(21, "identity", "identity does not match the ABI");
    return Object.freeze(id);
  }

  /** decideJSON decides through the JSON export (decide): the reference form, and
   * the one used for requests the compact form cannot carry as is. */
  decideJSON(request, now) {
    try {
      return this.decideJSONOnce(request, now);
    } catch (err) {
      if (!(err instanceof Question)) throw err;
      this.release(err);
      return this.withModuleCrypto(() => this.decideJSONOnce(request, now));
    }
  }

  decideJSONOnce(request, now) {
    const r = { method: request.method, path: request.path };
    if (request.query) r.query = request.query;
    const cookies = cookieHeaders(request.cookies);
    if (cookies.length > 0) r.cookies = cookies;
    if (request.authorization) r.authorization = request.authorization;
    return readJSON(this.call("decide", JSON.stringify(r), now));
  }
  /** heapAllocs is the instance's heap allocation count (a diagnostic for tests). */
  heapAllocs() {
    return BigInt.asUintN(64, this.x.heap_allocs());
  }
  /** verifyToken checks one access token and returns its claims (the module's crypto). */
  verifyToken(token, now) {
    return this.callModuleCrypto("verify_token", token, now, readJSON);
  }
  /** verifyTokenAsync is verifyToken with RS256 signatures checked by WebCrypto. */
  async verifyTokenAsync(token, now) {
    return this.callTwoPhase("verify_token", token, now, readJSON);
  }
  /** Raw signature check; input laid out as abi.EncodeSignatureCheck (the module's crypto). */
  verifySignature(input) {
    this.callModuleCrypto("verify_signature", input, undefined, ignore);
  }
  /** verifySignatureAsync is verifySignature with RS256 signatures checked by WebCrypto. */
  async verifySignatureAsync(input) {
    await this.callTwoPhase("verify_signature", input, undefined, ignore);
  }

  // callModuleCrypto calls op with the module's own crypto and returns read(output).
  callModuleCrypto(op, input, now, read) {
    try {
      return read(this.call(op, input, now));
    } catch (err) {
      if (!(err instanceof Question)) throw err;
      this.release(err);
      return this.withModuleCrypto(() => read(this.call(op, input, now)));
    }
  }

  // callTwoPhase calls op on the two-phase path and returns read(output), or a promise
  // of it when WebCrypto checks a signature; read decodes the output at once (a view of
  // the buffer, which the next call overwrites).
  callTwoPhase(op, input, now, read) {
    try {
      return read(this.call(op, input, now));
    } catch (err) {
      if (!(err instanceof Question)) throw err;
      return this.settle(err, () => read(this.call(op, input, now)));
    }
  }
}

// A minimal ESM host for verifier.wasm: it mirrors verifier/ABI.md (exports, buffer,
// result packing, status codes) and nothing else. It takes a compiled
// WebAssembly.Module, because edge runtimes (workerd, Vercel) refuse to compile wasm
// from bytes at run time: `import mod from './verifier.wasm?module'`.

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

/** An error returned by the module: code is the status number, status its name. */
export class EdgeauthError extends Error {
  constructor(code, op) {
    const status = STATUS[code] ?? "Internal";
    super(`edgeauth: ${op}: ${status} (${code})`);
    this.name = "EdgeauthError";
    this.code = code;
    this.status = status;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One module instance (single-threaded, like every wasm instance). */
export class Verifier {
  /** @param {WebAssembly.Module} module */
  constructor(module) {
    const names = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
    for (const name of ["memory", ...Object.keys(REQUIRED_EXPORTS)]) {
      if (!names.has(name)) throw new Error(`edgeauth: module lacks export ${name}`);
    }
    if (WebAssembly.Module.imports(module).length > 0) {
      throw new Error("edgeauth: module has imports; build it with -target=wasm-unknown");
    }
    this.instance = new WebAssembly.Instance(module, {});
    this.x = this.instance.exports;
    this.x._initialize();
    const version = this.x.abi_version();
    if (version !== ABI_VERSION) {
      throw new Error(`edgeauth: module ABI version ${version}, this host speaks ${ABI_VERSION}`);
    }
    this.ptr = this.x.buf_ptr() >>> 0;
    this.cap = this.x.buf_cap() >>> 0;
  }

  // call writes input (string or bytes) into the buffer, calls the export and returns
  // the output bytes (a copy) or throws an EdgeauthError.
  call(op, input, now) {
    const bytes = typeof input === "string" ? encoder.encode(input) : input;
    if (bytes.length > this.cap) throw new EdgeauthError(19, op);
    new Uint8Array(this.x.memory.buffer, this.ptr, bytes.length).set(bytes);
    const r = now === undefined ? this.x[op](bytes.length) : this.x[op](bytes.length, BigInt(now));
    const packed = BigInt.asUintN(64, r);
    const code = Number(packed >> 32n);
    const len = Number(packed & 0xffffffffn);
    if (code !== 0) throw new EdgeauthError(code, op);
    return new Uint8Array(this.x.memory.buffer, this.ptr, len).slice();
  }

  configure(config) {
    this.call("configure", typeof config === "string" ? config : JSON.stringify(config));
  }
  loadKeys(jwks) {
    this.call("load_keys", typeof jwks === "string" ? jwks : JSON.stringify(jwks));
  }
  loadRevocations(list, now) {
    this.call("load_revocations", list, now);
  }
  /** @returns {{action: string, reason: string, status?: number, location?: string, identity?: object, clear_cookies?: string[]}} */
  decide(request, now) {
    return JSON.parse(decoder.decode(this.call("decide", JSON.stringify(request), now)));
  }
  verifyToken(token, now) {
    return JSON.parse(decoder.decode(this.call("verify_token", token, now)));
  }
  /** Raw signature check; input laid out as abi.EncodeSignatureCheck. */
  verifySignature(input) {
    this.call("verify_signature", input);
  }
}

// Document is one published document of the control plane (edge configuration, JWKS,
// revocation list) as the edge holds it: the last body that loaded, its ETag, when it
// was last confirmed, and at most one fetch in flight. Fetches never follow redirects
// (a redirected well-known URL is a misconfiguration, and following one could hand the
// edge another party's keys) and are bounded by a timeout.

const MIN_MAX_AGE_MS = 1000;
const DEFAULT_MAX_AGE_MS = 30 * 1000;
const RETRY_AFTER_FAILURE_MS = 2000;

export class Document {
  /**
   * @param {{url: string, apply: (body: string) => void, beforeApply?: (body: string) => Promise<void>, expiresAt?: (body: string) => number | null, fetch: typeof fetch, timeoutMs: number, nowMs: () => number, log: (e: object) => void}} o
   * apply loads a new body and throws when it is refused (the previous one stays);
   * beforeApply, when set, is awaited before a fetched new body is applied (the
   * revocation list waits for the keys that verify it); expiresAt, when set, says until
   * when (unix seconds) a body is valid by its own terms (the revocation list's exp).
   */
  constructor(o) {
    this.o = o;
    this.body = null;
    this.etag = null;
    this.confirmedAt = -Infinity; // last 200 that loaded, or 304 (less a cache's excess Age: accept)
    this.servedAt = -Infinity; // when the control plane served what was last confirmed (accept)
    this.maxAgeMs = DEFAULT_MAX_AGE_MS;
    this.inflight = null;
    this.lastAttempt = -Infinity;
    this.lastError = null;
  }

  /** age in ms since the held body was last confirmed (Infinity before the first). */
  age(now) {
    return now - this.confirmedAt;
  }

  /** due: past its max-age, and not just failed or in flight. */
  due(now) {
    return (!this.inflight || now - this.inflightSince > 2 * this.o.timeoutMs) && now - this.servedAt > this.maxAgeMs && now - this.lastAttempt > RETRY_AFTER_FAILURE_MS;
  }

  /** forget drops the held body (it no longer loads under new inputs). */
  forget() {
    this.body = null;
    this.etag = null;
    this.confirmedAt = -Infinity;
    this.servedAt = -Infinity;
  }

  /**
   * refresh fetches and applies the document; concurrent callers share one fetch. A
   * fetch still pending well past its timeout is abandoned: workerd cancels the I/O of
   * a request that has ended, leaving a promise another request would wait on forever.
   */
  refresh() {
    const now = this.o.nowMs();
    if (!this.inflight || now - this.inflightSince > 2 * this.o.timeoutMs) {
      const p = this.fetchOnly()
        .then(async (r) => {
          if (r.status === 200 && r.body !== this.body && this.o.beforeApply) await this.o.beforeApply(r.body);
          return this.accept(r);
        })
        .finally(() => {
          if (this.inflight === p) this.inflight = null;
        });
      this.inflight = p;
      this.inflightSince = now;
    }
    return this.inflight;
  }

  /**
   * fetchOnly performs one conditional GET and returns what came back, without
   * applying it; accept applies it. start() uses the two halves to fetch the three
   * documents at once and load them in order.
   */
  async fetchOnly() {
    const { url, timeoutMs } = this.o;
    this.lastAttempt = this.o.nowMs();
    const headers = { accept: "application/json, application/jwt, */*" };
    // A held body past its own expiry is not revalidated: only a new one will do.
    if (this.etag && this.body != null && !this.expired(this.body)) headers["if-none-match"] = this.etag;
    let res;
    try {
      res = await this.o.fetch(url, { headers, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      const why = err?.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : String(err?.message ?? err);
      return this.failed(new Error(`edgeauth: GET ${url}: ${why}`, { cause: err }));
    }
    const maxAgeMs = maxAge(res.headers.get("cache-control"));
    const ageMs = age(res.headers.get("age"));
    if (res.status === 304 && this.body != null) {
      await res.body?.cancel();
      return { status: 304, maxAgeMs, ageMs };
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      let why = `HTTP ${res.status}`;
      if (res.status >= 300 && res.status < 400) why += ` redirect to ${res.headers.get("location")}: set controlPlane to the URL the control plane answers at (redirects are not followed)`;
      else if (res.status === 404) why += ": is controlPlane the control plane's base URL, and is it recent enough to publish this document?";
      return this.failed(new Error(`edgeauth: GET ${url}: ${why}`));
    }
    return { status: 200, body: await res.text(), etag: res.headers.get("etag"), maxAgeMs, ageMs };
  }

  failed(err) {
    this.lastError = err;
    this.o.log({ level: "warn", event: "fetch_failed", url: this.o.url, error: err.message });
    return { status: 0, error: err };
  }

  /** acceptBody applies a body that came another way (the revocation stream). */
  acceptBody(body) {
    this.accept({ status: 200, body, etag: this.body === body ? this.etag : null, maxAgeMs: this.maxAgeMs });
  }

  // expired: body is past its own expiry (expiresAt), as the module reads an exp.
  expired(body) {
    const exp = this.o.expiresAt?.(body) ?? null;
    return exp !== null && exp <= Math.floor(this.o.nowMs() / 1000);
  }

  /** accept applies a fetchOnly result; it throws when the fetch failed or the body was refused. */
  accept(r) {
    if (r.status === 0) throw r.error;
    if ((r.status === 304 || r.body === this.body) && this.body != null && this.expired(this.body)) {
      // A 304 (or the same body again) for a body past its expiry confirms nothing: the
      // held one ages as after a failed fetch, and the edge turns stale at maxStaleMs.
      const err = new Error(`edgeauth: GET ${this.o.url}: HTTP ${r.status}, but the document held is past its exp`);
      this.failed(err);
      throw err;
    }
    if (r.status === 200 && r.body !== this.body) {
      try {
        this.o.apply(r.body);
      } catch (err) {
        this.lastError = err;
        this.o.log({ level: "error", event: "document_refused", url: this.o.url, error: String(err.message ?? err) });
        throw err;
      }
      this.body = r.body;
    }
    if (r.status === 200) this.etag = r.etag;
    this.maxAgeMs = r.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    // A shared cache's Age is time the document has already spent (RFC 9111, 4.2.3):
    // key rotation counts on an edge holding a key set at most max-age after the
    // control plane served it, so it is due again then. Within its max-age a cached
    // copy is as current as the control plane's own answer (jwks_max_age may exceed
    // maxStaleMs); only what a cache held it past its max-age counts toward maxStaleMs.
    const now = this.o.nowMs();
    const ageMs = r.ageMs ?? 0;
    this.servedAt = now - ageMs;
    this.confirmedAt = now - Math.max(0, ageMs - this.maxAgeMs);
    this.lastError = null;
  }
}

// age reads an Age header in ms (0 when absent or not a non-negative integer).
function age(v) {
  return /^\d+$/.test(v ?? "") ? Number(v) * 1000 : 0;
}

// maxAge reads Cache-Control's max-age in ms (at least one second; the default when
// absent or no-cache).
function maxAge(cc) {
  const m = /(?:^|,)\s*max-age=(\d+)/i.exec(cc ?? "");
  if (!m) return DEFAULT_MAX_AGE_MS;
  return Math.max(MIN_MAX_AGE_MS, Number(m[1]) * 1000);
}

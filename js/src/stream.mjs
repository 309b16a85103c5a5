// RevocationStream holds the control plane's revocation stream
// (GET /.well-known/edgeauth/revocations/stream, Server-Sent Events) where the runtime
// can keep a connection open (Node, Deno; not a request-scoped workerd or Next
// middleware isolate). `revocations` events carry the signed list, which the module
// verifies and loads like a polled one; a `revoked` event (a signed revocation) makes
// the edge fetch the list at once, and once verified refuses its session at once
// (onRevoked: nothing in it is trusted unverified). It reconnects
// with Last-Event-ID, and after 45 s without a byte (heartbeats come every 15 s) it
// reconnects too.
//
// Between attempts it waits a backoff that doubles from 500 ms to 30 s, each wait drawn
// between half the backoff and all of it (so that edges cut off together do not return
// together). Only a connection that stayed open as long as the longest wait resets it: a
// server that accepts the stream and ends it at once is retried ever more slowly, not
// twice a second. While the stream is down, or pushes no list within the list's
// max-age, the edge polls the list as usual.

const IDLE_MS = 45_000;
const MIN_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;
const HEALTHY_MS = MAX_BACKOFF_MS;

export class RevocationStream {
  /**
   * @param {{url: string, fetch: typeof fetch, timeoutMs: number, log: (e: object) => void,
   *   onList: (jws: string) => void, onRevoked: (jws: string) => void | Promise<void>, nowMs?: () => number,
   *   random?: () => number, timers?: {setTimeout: typeof setTimeout, clearTimeout: typeof clearTimeout}}} o
   * onList and onRevoked throw (or return a promise that rejects) when they refuse an
   * event (logged; its id is not kept). Events are applied one at a time, in order: one
   * that waits (a key set fetch) holds the next.
   * nowMs, random and timers (the wait between attempts) are Date.now, Math.random and
   * the global timers unless a test replaces them.
   */
  constructor(o) {
    this.o = { nowMs: Date.now, random: Math.random, timers: globalThis, ...o };
    this.lastEventId = null;
    this.connected = false;
    this.stopped = false;
    this.controller = null;
    this.loop = null;
    this.wake = null; // ends the wait between attempts (stop)
    this.connectedAt = null; // when the current attempt's stream opened (nowMs)
  }

  start() {
    this.loop ??= this.run();
    return this;
  }

  stop() {
    this.stopped = true;
    this.controller?.abort();
    this.wake?.();
  }

  async run() {
    const { nowMs, random, timers } = this.o;
    let backoff = MIN_BACKOFF_MS;
    while (!this.stopped) {
      this.connectedAt = null;
      try {
        await this.connect();
      } catch (err) {
        if (this.stopped) break;
        this.o.log({ level: "warn", event: "revocation_stream_failed", error: String(err?.message ?? err) });
      }
      this.connected = false;
      if (this.stopped) break;
      if (this.connectedAt !== null && nowMs() - this.connectedAt >= HEALTHY_MS) backoff = MIN_BACKOFF_MS;
      const wait = Math.round(backoff / 2 + (random() * backoff) / 2);
      // Cleared by stop(): a wait of up to 30 s would hold a Node process after close().
      await new Promise((r) => {
        const timer = timers.setTimeout(r, wait);
        this.wake = () => {
          timers.clearTimeout(timer);
          r();
        };
      });
      this.wake = null;
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }

  async connect() {
    // The timers abort this connection's controller, never a later one's: a connect that
    // failed at once (a control plane restarting) left its timer armed, and it cut the
    // next, healthy connection timeoutMs later.
    const controller = (this.controller = new AbortController());
    const headers = { accept: "text/event-stream" };
    if (this.lastEventId !== null) headers["last-event-id"] = this.lastEventId;
    const connectTimer = setTimeout(() => controller.abort(), this.o.timeoutMs);
    let res;
    try {
      res = await this.o.fetch(this.o.url, { headers, redirect: "manual", signal: controller.signal });
    } finally {
      clearTimeout(connectTimer);
    }
    if (res.status !== 200 || !(res.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
      await res.body?.cancel();
      throw new Error(`GET ${this.o.url}: HTTP ${res.status} ${res.headers.get("content-type") ?? ""}`);
    }
    this.connected = true;
    this.connectedAt = this.o.nowMs();
    this.o.log({ level: "info", event: "revocation_stream_connected" });
    let idle = setTimeout(() => controller.abort(), IDLE_MS);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    let event = { type: "message", data: [], id: null };
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        clearTimeout(idle);
        idle = setTimeout(() => controller.abort(), IDLE_MS);
        buf += value;
        let nl;
        while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
          // A "\r" that ends the chunk may be the first half of a "\r\n": wait for more.
          if (nl === buf.length - 1 && buf[nl] === "\r") break;
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + (buf[nl] === "\r" && buf[nl + 1] === "\n" ? 2 : 1));
          if (line === "") {
            if (event.data.length > 0) await this.dispatch(event);
            event = { type: "message", data: [], id: null };
            continue;
          }
          if (line.startsWith(":")) continue; // heartbeat
          const i = line.indexOf(":");
          const field = i < 0 ? line : line.slice(0, i);
          const val = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
          if (field === "event") event.type = val;
          else if (field === "data") event.data.push(val);
          else if (field === "id") event.id = val;
        }
      }
    } finally {
      clearTimeout(idle);
    }
  }

  async dispatch(e) {
    const data = e.data.join("\n");
    try {
      if (e.type === "revocations") await this.o.onList(data);
      else if (e.type === "revoked") await this.o.onRevoked(data);
      else return;
      if (e.id !== null) this.lastEventId = e.id; // only once applied: a resume replays what failed
    } catch (err) {
      this.o.log({ level: "warn", event: "revocation_event_refused", type: e.type, error: String(err?.message ?? err) });
    }
  }
}

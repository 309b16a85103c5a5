// A WebSocket server and client by hand over node:http (RFC 6455: the handshake and
// unfragmented text frames, enough for the tests): the examples install no ws package.
import { createServer, request } from "node:http";
import { createHash, randomBytes } from "node:crypto";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** frame is one text frame; a client masks it. */
export function frame(text, mask = false) {
  const payload = Buffer.from(text);
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0x81, (mask ? 0x80 : 0) | n]) : Buffer.from([0x81, (mask ? 0x80 : 0) | 126, n >> 8, n & 0xff]);
  if (!mask) return Buffer.concat([head, payload]);
  const key = randomBytes(4);
  return Buffer.concat([head, key, payload.map((b, i) => b ^ key[i % 4])]);
}

/** readFrame resolves with the next frame read from sock: {opcode, text}. */
export function readFrame(sock, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = (err, v) => {
      clearTimeout(timer);
      sock.off("data", onData).off("close", onClose).off("error", done);
      err ? reject(err) : resolve(v);
    };
    const onClose = () => done(new Error("the socket closed before a frame came"));
    const onData = (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 2) return;
      let len = buf[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        off = 4;
      }
      const key = buf[1] & 0x80 ? buf.subarray(off, (off += 4)) : null;
      if (buf.length < off + len) return;
      let payload = buf.subarray(off, off + len);
      if (key) payload = payload.map((b, i) => b ^ key[i % 4]);
      const rest = buf.subarray(off + len);
      if (rest.length > 0) sock.unshift(rest);
      done(null, { opcode: buf[0] & 0x0f, text: payload.toString() });
    };
    const timer = setTimeout(() => done(new Error(`no frame within ${timeoutMs} ms`)), timeoutMs);
    sock.on("data", onData).on("close", onClose).on("error", done);
  });
}

/**
 * echoServer is an upstream WebSocket server: its first message is the handshake it
 * received ({url, headers}), then it echoes "echo:<text>". s.requests lists every
 * request that reached it, upgrade or not.
 */
export async function echoServer() {
  const requests = [];
  const server = createServer((req, res) => {
    requests.push({ url: req.url, headers: req.headers, upgraded: false });
    res.writeHead(426, { "content-type": "text/plain" }).end("a WebSocket upgrade is required here\n");
  });
  server.on("upgrade", async (req, sock) => {
    requests.push({ url: req.url, headers: req.headers, upgraded: true });
    const accept = createHash("sha1").update(req.headers["sec-websocket-key"] + GUID).digest("base64");
    const protocol = req.headers["sec-websocket-protocol"]?.split(",")[0].trim();
    sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : ""}\r\n`);
    sock.write(frame(JSON.stringify({ url: req.url, headers: req.headers })));
    sock.on("error", () => {});
    for (;;) {
      let f;
      try {
        f = await readFrame(sock, 60_000);
      } catch {
        return sock.destroy();
      }
      if (f.opcode === 8) return sock.end();
      sock.write(frame(`echo:${f.text}`));
    }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    close: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(r);
    }),
  };
}

/**
 * connect sends a WebSocket handshake to url. Upgraded: {status: 101, headers, sock};
 * refused: {status, headers, body}.
 */
export function connect(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": randomBytes(16).toString("base64"), ...headers },
    });
    req.on("upgrade", (res, sock, head) => {
      if (head.length > 0) sock.unshift(head);
      resolve({ status: res.statusCode, headers: res.headers, sock });
    });
    req.on("response", async (res) => {
      let body = "";
      for await (const c of res) body += c;
      resolve({ status: res.statusCode, headers: res.headers, body });
    });
    req.on("error", reject);
    req.setTimeout(15_000, () => req.destroy(new Error(`no answer to the handshake at ${url}`)));
    req.end();
  });
}

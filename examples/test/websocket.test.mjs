// WebSockets through the JS edge in workerd and Deno, in front of the real control plane
// (refresh cookie on Path=/, so that it reaches the socket's path too): an app that
// answers the upgrade itself, and an upstream WebSocket server edge.fetch proxies to.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startControlPlane, startProcess, freePort } from "./controlplane.mjs";
import { examples } from "./edges.mjs";
import { echoServer, connect, frame, readFrame } from "./websocket/wire.mjs";

const EMAIL = "ada@example.com";
const PASSWORD = "correct horse battery staple";
const dir = `${examples}test/websocket`;

function cookiesOf(headers) {
  const out = {};
  for (const c of headers.getSetCookie?.() ?? headers["set-cookie"] ?? []) {
    const [pair] = c.split(";");
    out[pair.slice(0, pair.indexOf("="))] = pair.slice(pair.indexOf("=") + 1);
  }
  return out;
}

const start = {
  workerd: (port, env) => startProcess("workerd", `${examples}node_modules/.bin/workerd`, ["serve", "config.capnp", "--experimental", "--socket-addr", `http=127.0.0.1:${port}`], {
    cwd: dir, env, url: `http://127.0.0.1:${port}/`,
  }),
  deno: (port, env) => startProcess("deno", `${examples}node_modules/.bin/deno`, ["run", "--allow-net", "--allow-read", "--allow-env", "deno.mjs"], {
    cwd: dir, env: { ...env, PORT: String(port), DENO_NO_UPDATE_CHECK: "1" }, url: `http://127.0.0.1:${port}/`,
  }),
};

for (const kind of ["workerd", "deno"]) {
  describe(`WebSockets through the edge in ${kind}`, () => {
    let origin, cp, proc, upstream;
    const get = (path, headers = {}) => fetch(`${origin}${path}`, { headers, redirect: "manual" });
    const signIn = async () => {
      const res = await fetch(`${origin}/auth/login`, {
        method: "POST",
        headers: { origin, "content-type": "application/json" },
        body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
      });
      assert.equal(res.status, 200, await res.clone().text());
      return cookiesOf(res.headers);
    };

    before(async () => {
      upstream = await echoServer();
      const port = await freePort();
      origin = `http://127.0.0.1:${port}`;
      cp = await startControlPlane({ publicURL: origin, env: { EDGEAUTH_COOKIES__REFRESH_PATH: "/" } });
      await cp.createUser(EMAIL, PASSWORD, ["member"]);
      proc = await start[kind](port, { EDGEAUTH_CONTROL_PLANE: cp.url, UPSTREAM: upstream.url });
    });
    after(async () => {
      await proc?.stop();
      await cp?.stop();
      await upstream?.close();
    });

    // With only the refresh cookie (the access token expired and the browser dropped it),
    // a page is refreshed at the edge. An upgrade must not be: the rotated cookies would
    // have to ride on the 101, which the README's Deno recipe answers without them, and
    // the client would keep a spent refresh token. It gets 401 token_expired, refreshes
    // over HTTP and reconnects.
    test("an upgrade with an expired session: 401 token_expired, the refresh token unspent; after an HTTP refresh the socket opens", async () => {
      const c = await signIn();
      const refused = await connect(`${origin}/live`, { cookie: `edgeauth_rt=${c.edgeauth_rt}` });
      refused.sock?.destroy();
      const page = await get("/dashboard", { cookie: `edgeauth_rt=${c.edgeauth_rt}` });
      const fresh = cookiesOf(page.headers);
      assert.deepEqual(
        { upgrade: refused.status, upgradeSetCookies: Object.keys(cookiesOf(refused.headers)), page: page.status, refreshed: Boolean(fresh.edgeauth_at) },
        { upgrade: 401, upgradeSetCookies: [], page: 200, refreshed: true },
      );
      assert.equal(JSON.parse(refused.body).error.code, "token_expired");
      const subject = /page for ([0-9a-f-]{36})/.exec(await page.text())?.[1];
      assert.ok(subject);

      const ws = await connect(`${origin}/live`, { cookie: `edgeauth_at=${fresh.edgeauth_at}` });
      assert.equal(ws.status, 101, ws.body);
      try {
        assert.deepEqual(JSON.parse((await readFrame(ws.sock)).text), { subject });
        ws.sock.write(frame("ping", true));
        assert.equal((await readFrame(ws.sock)).text, "echo:ping");
      } finally {
        ws.sock.destroy();
      }
    });

    // With SameSite=None cookies (cross-domain setups) a browser sends the session on a
    // handshake from any site's page: the edge refuses an Origin other than its own
    // (cross-site WebSocket hijacking), before the app or the upstream hears of it.
    test("an upgrade from another site's page: 403 origin_not_allowed; from the edge's own origin it opens", async () => {
      const c = await signIn();
      const cookie = `edgeauth_at=${c.edgeauth_at}`;
      const before = upstream.requests.length;
      for (const path of ["/live", "/proxy/socket"]) {
        for (const from of ["https://evil.example", "null"]) {
          const refused = await connect(`${origin}${path}`, { cookie, origin: from });
          refused.sock?.destroy();
          assert.equal(refused.status, 403, `${path} from ${from}: ${refused.body}`);
          assert.equal(JSON.parse(refused.body).error.code, "origin_not_allowed");
          assert.equal(refused.headers["cache-control"], "no-store");
        }
      }
      assert.equal(upstream.requests.length, before, "the upstream never asked");

      const ws = await connect(`${origin}/live`, { cookie, origin });
      assert.equal(ws.status, 101, ws.body);
      try {
        assert.match(JSON.parse((await readFrame(ws.sock)).text).subject, /^[0-9a-f-]{36}$/);
        ws.sock.write(frame("ping", true));
        assert.equal((await readFrame(ws.sock)).text, "echo:ping");
      } finally {
        ws.sock.destroy();
      }
    });

    if (kind === "workerd") {
      // workerd's fetch opens a WebSocket to the upstream when the request has Upgrade:
      // websocket (it writes Connection and the handshake itself): edge.fetch proxies it,
      // with our identity headers and without the client's.
      test("edge.fetch proxies an upgrade to an upstream WebSocket server, with the identity headers", async () => {
        const c = await signIn();
        const ws = await connect(`${origin}/proxy/socket?room=1`, {
          cookie: `edgeauth_at=${c.edgeauth_at}`, "x-edgeauth-subject": "admin", "sec-websocket-protocol": "chat, superchat",
        });
        assert.equal(ws.status, 101, ws.body);
        try {
          assert.equal(ws.headers["sec-websocket-protocol"], "chat");
          const seen = JSON.parse((await readFrame(ws.sock)).text);
          assert.equal(seen.url, "/proxy/socket?room=1");
          assert.match(seen.headers["x-edgeauth-subject"] ?? "", /^[0-9a-f-]{36}$/);
          assert.equal(seen.headers["x-edgeauth-roles"], "member");
          assert.equal(seen.headers["sec-websocket-protocol"], "chat, superchat");
          ws.sock.write(frame("ping", true));
          assert.equal((await readFrame(ws.sock)).text, "echo:ping");
        } finally {
          ws.sock.destroy();
        }
        // Refused at the edge before the upstream hears of it.
        const before = upstream.requests.length;
        const refused = await connect(`${origin}/proxy/socket`, {});
        assert.equal(refused.status, 401);
        assert.equal(JSON.parse(refused.body).error.code, "unauthenticated");
        assert.equal(upstream.requests.length, before);
      });
    } else {
      // Deno's fetch opens no WebSocket: asked with Upgrade: websocket it sent a plain GET
      // and the edge handed the upstream's answer to it (here a 426) to the client.
      test("edge.fetch cannot proxy an upgrade: 501 websocket_unsupported, the upstream never asked", async () => {
        const c = await signIn();
        const res = await connect(`${origin}/proxy/socket`, { cookie: `edgeauth_at=${c.edgeauth_at}` });
        res.sock?.destroy();
        assert.equal(res.status, 501, res.body);
        assert.equal(JSON.parse(res.body).error.code, "websocket_unsupported");
        assert.deepEqual(upstream.requests, []);
      });
    }
  });
}

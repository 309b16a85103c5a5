// createAuthFetch against a fake site: an API behind the edge (401 when the access token
// is missing or expired) and the control plane's refresh endpoint.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createAuthFetch } from "../src/browser.mjs";

function site() {
  const s = { access: "valid", session: "live", refreshStatus: null, refreshes: 0 };
  s.fetch = async (input, init) => {
    const req = new Request(input, init);
    const path = new URL(req.url, "https://app.example").pathname;
    if (path === "/auth/refresh") {
      s.refreshes++;
      if (s.refreshStatus) return new Response("{}", { status: s.refreshStatus });
      if (s.session !== "live") return new Response("{}", { status: 401 });
      s.access = "valid";
      return new Response("{}", { status: 200 });
    }
    return new Response("{}", { status: s.access === "valid" ? 200 : 401 });
  };
  return s;
}

test("browser: after the session ended and the user signed in again in the page, an expired token is refreshed again", async () => {
  const s = site();
  let ended = 0;
  const api = createAuthFetch({ fetch: s.fetch, refreshURL: "https://app.example/auth/refresh", onSessionEnded: () => ended++ });

  // Signed out elsewhere: the refresh is refused, the app is told once.
  s.access = "expired";
  s.session = "ended";
  assert.equal((await api("https://app.example/api/me")).status, 401);
  assert.equal(ended, 1);

  // The app shows its sign-in form (examples/spa does), the user signs in: a new session.
  s.session = "live";
  s.access = "valid";
  assert.equal((await api("https://app.example/api/me")).status, 200);

  // The new access token expires: the helper must refresh it, as it did the first time.
  s.access = "expired";
  const before = s.refreshes;
  const res = await api("https://app.example/api/me");
  assert.equal(s.refreshes, before + 1, "a refresh for the new session's expired token");
  assert.equal(res.status, 200);
});

test("browser: a control plane that answers the refresh 503 (database restarting) does not end the session", async () => {
  for (const status of [502, 503, 429]) {
    const s = site();
    let ended = 0;
    const api = createAuthFetch({ fetch: s.fetch, refreshURL: "https://app.example/auth/refresh", onSessionEnded: () => ended++ });
    s.access = "expired";
    s.refreshStatus = status;
    assert.equal((await api("https://app.example/api/me")).status, 401);
    assert.equal(ended, 0, `refresh answered ${status}: not a refusal, the session goes on`);
    // Once the control plane is back, the next 401 refreshes.
    s.refreshStatus = null;
    assert.equal((await api("https://app.example/api/me")).status, 200, `after a ${status}`);
  }
});

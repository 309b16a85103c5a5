// The browser-side helper for single-page apps that call APIs with the session
// cookies. On a 401 it refreshes the session once for every request in flight, and
// once across the tabs of the site (Web Locks, plus a time stamp in localStorage that
// a tab reads after waiting for the lock), retries, and sends the user to the login
// page only when the refresh itself is refused. A refresh that takes longer than
// refreshTimeoutMs is abandoned (and the lock released) as an unreachable one.

const LOCK = "edgeauth-refresh";
const STAMP = "edgeauth:refreshed-at";

/**
 * createAuthFetch returns a fetch that carries credentials and survives an expired
 * access token.
 * @param {{refreshURL?: string, loginURL?: string, fetch?: typeof fetch, onSessionEnded?: () => void, refreshTimeoutMs?: number}} [options]
 *   refreshURL: the control plane's refresh endpoint (POST), default "/auth/refresh";
 *   loginURL: where to send the user when the session is gone, default "/login"
 *   (return_to is added); onSessionEnded replaces that navigation; refreshTimeoutMs:
 *   how long a refresh may take, default 10000.
 * @throws {TypeError} refreshTimeoutMs is not a positive finite number.
 */
export function createAuthFetch(options = {}) {
  const refreshURL = options.refreshURL ?? "/auth/refresh";
  const loginURL = options.loginURL ?? "/login";
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const refreshTimeoutMs = options.refreshTimeoutMs ?? 10_000;
  if (typeof refreshTimeoutMs !== "number" || !(refreshTimeoutMs > 0) || !Number.isFinite(refreshTimeoutMs)) {
    throw new TypeError(`edgeauth: refreshTimeoutMs must be a positive number of milliseconds, not ${String(refreshTimeoutMs)}`);
  }
  const onSessionEnded = options.onSessionEnded ?? (() => {
    const back = location.pathname + location.search;
    const sep = loginURL.includes("?") ? "&" : "?";
    location.assign(`${loginURL}${sep}return_to=${encodeURIComponent(back)}`);
  });
  let inflight = null; // {since, promise}: one refresh for every request that failed before it began
  // ended: onSessionEnded was called for this ending. A 401 still refreshes (the user
  // may have signed in again in another tab since); a refused refresh is not told again
  // until a session has been seen (an answer other than 401, or a refresh).
  let ended = false;
  // A page restored from the back/forward cache is a new visit of the page the user
  // left for the login page: if its session is still gone, it is sent there again.
  if ("onpageshow" in globalThis) {
    globalThis.addEventListener("pageshow", (e) => {
      if (e.persisted) ended = false;
    });
  }

  const lastRefresh = () => {
    try {
      return Number(globalThis.localStorage?.getItem(STAMP) ?? 0);
    } catch {
      return 0; // storage disabled: each tab refreshes itself (the control plane's grace covers it)
    }
  };

  async function refreshOnce(sentAt) {
    const run = async () => {
      // Another tab may have refreshed while this one waited for the lock.
      if (lastRefresh() >= sentAt) return true;
      // The lock is held until this settles, so it must settle: a refresh that hangs
      // would hold every tab of the site. A timeout rejects as an unreachable endpoint.
      const res = await doFetch(refreshURL, {
        method: "POST",
        credentials: "include",
        headers: { accept: "application/json" },
        signal: AbortSignal.timeout(refreshTimeoutMs),
      });
      await res.body?.cancel();
      // Only a 401 refuses the session (refresh_token_missing, _invalid, _reused; the
      // control plane has cleared both cookies). 5xx and 429 say it is unavailable; any
      // other answer is about the request, not the session: 403 cross_site_request (this
      // page's origin is not in allowed_origins), 400 or 415, 404 or 405 (refreshURL is
      // wrong), which signing in again would not mend. The caller sees its 401; its next
      // request tries again.
      if (res.status === 401) return false;
      if (!res.ok) throw new Error(`edgeauth: the refresh endpoint answered ${res.status}`);
      try {
        globalThis.localStorage?.setItem(STAMP, String(Date.now()));
      } catch {
        // see lastRefresh
      }
      return true;
    };
    const locks = globalThis.navigator?.locks;
    return locks ? locks.request(LOCK, run) : run();
  }

  function refresh(sentAt) {
    if (!inflight || inflight.since < sentAt) {
      const since = Date.now();
      const promise = refreshOnce(sentAt).finally(() => {
        if (inflight?.promise === promise) inflight = null;
      });
      inflight = { since, promise };
    }
    return inflight.promise;
  }

  return async function authFetch(input, init = {}) {
    const request = new Request(input, { credentials: "include", ...init });
    const sentAt = Date.now();
    const res = await doFetch(request.clone());
    if (res.status !== 401) {
      ended = false; // a session again (signed in again in this page): refresh it when it expires
      return res;
    }
    // A challenge of another scheme only (Basic, Digest...) is the API's own: no session
    // refresh answers it. The edges and the control plane send Bearer, and a
    // cross-origin API's header is unreadable unless it exposes it: those refresh.
    const challenge = res.headers.get("www-authenticate");
    if (challenge !== null && !offersBearer(challenge)) return res;
    let ok;
    try {
      ok = await refresh(sentAt);
    } catch {
      return res; // the refresh endpoint was unreachable or unavailable: let the caller see the 401
    }
    if (!ok) {
      if (!ended) {
        ended = true;
        onSessionEnded();
      }
      return res;
    }
    ended = false;
    return doFetch(request);
  };
}

// offersBearer says whether a WWW-Authenticate value (a list of challenges, RFC 9110
// 11.6.1) has one of the Bearer scheme: a list member that starts with the scheme's
// name followed by a space or nothing (an auth-param is a name followed by "=").
// Quoted strings are emptied first, so a realm that says "Bearer" does not count.
function offersBearer(challenges) {
  return challenges
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .split(",")
    .some((member) => /^bearer(?:\s|$)/i.test(member.trim()));
}

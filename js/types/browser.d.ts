// Types of @edgeauth/edge/browser (src/browser.mjs).
export interface AuthFetchOptions {
  /** The control plane's refresh endpoint (POST), default "/auth/refresh". */
  refreshURL?: string;
  /** Login page (return_to is added), default "/login". */
  loginURL?: string;
  /** Used for every request and the refresh; it must honour `init.signal`. */
  fetch?: typeof fetch;
  /**
   * Called when the refresh is refused (401), instead of navigating to loginURL; once
   * per ending: later 401s still refresh (the user may sign in again in another tab),
   * and a refusal is told again only after a session was seen (an answer other than
   * 401, a refresh) or the page was restored from the back/forward cache.
   */
  onSessionEnded?: () => void;
  /**
   * How long a refresh may take, in milliseconds, default 10000. A refresh that takes
   * longer is abandoned (the cross-tab lock released) like an unreachable control plane:
   * the caller gets its 401, the session is not ended. createAuthFetch throws a TypeError
   * unless it is a positive finite number.
   */
  refreshTimeoutMs?: number;
}

/** A fetch with credentials that refreshes once on 401 (per tab and across tabs) and retries. */
export function createAuthFetch(options?: AuthFetchOptions): (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

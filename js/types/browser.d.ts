// Types of @edgeauth/edge/browser (src/browser.mjs).
export interface AuthFetchOptions {
  /** The control plane's refresh endpoint (POST), default "/auth/refresh". */
  refreshURL?: string;
  /** Login page (return_to is added), default "/login". */
  loginURL?: string;
  fetch?: typeof fetch;
  /** Called once when the refresh is refused, instead of navigating to loginURL. */
  onSessionEnded?: () => void;
}

/** A fetch with credentials that refreshes once on 401 (per tab and across tabs) and retries. */
export function createAuthFetch(options?: AuthFetchOptions): (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

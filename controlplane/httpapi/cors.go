package httpapi

import (
	"errors"
	"net/http"
)

// CORS lets the configured origins (allowed_origins: the apps on sibling subdomains
// that already may make state-changing requests) call the API from the browser with
// credentials and read the answers. Every other origin gets no CORS headers, so the
// browser keeps the answer from it; same-origin requests need none. Beyond the
// safelisted response headers, such a script may read Retry-After (429, 503), a 401's
// WWW-Authenticate challenge (it tells a missing token from a refused or an expired
// one, which decides whether to refresh) and the request id to quote in a report.
const (
	corsAllowMethods  = "GET, POST, DELETE"
	corsAllowHeaders  = "Content-Type, X-Request-Id"
	corsExposeHeaders = "Retry-After, WWW-Authenticate, X-Request-Id"
	corsMaxAge        = "600"
)

// cors sets the CORS headers of a response to an allowed origin, and answers a
// preflight itself (reporting true): 204 when the origin is allowed and the path has a
// route for the requested method, a cross_site_request error otherwise.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) (answered bool, err error) {
	origin := r.Header.Get("Origin")
	method := r.Header.Get("Access-Control-Request-Method")
	preflight := r.Method == http.MethodOptions && origin != "" && method != ""
	if origin == "" {
		return false, nil
	}
	h := w.Header()
	h.Add("Vary", "Origin")
	if !s.origins[origin] {
		if preflight {
			return true, ErrCrossSite.with(errors.New("preflight from an origin not allowed"),
				"cross-origin request refused: Origin "+quoteHeader(origin)+" is not in allowed_origins")
		}
		return false, nil
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	if !preflight {
		h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		return false, nil
	}
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	// As sent: methods are case-sensitive, and a browser upper-cases only the standard
	// ones (DELETE, GET, HEAD, OPTIONS, POST, PUT) before the preflight, so "delete"
	// names a method no route has, which the request itself would get 405 for.
	probe := r.Clone(r.Context())
	probe.Method = method
	if _, pattern := s.mux.Handler(probe); pattern == "" || !canonicalPath(r) || probe.Method == http.MethodOptions {
		return true, ErrMethodNotAllowed.with(errors.New("preflight for a method this path does not have"), "")
	}
	h.Set("Access-Control-Allow-Methods", corsAllowMethods)
	h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
	h.Set("Access-Control-Max-Age", corsMaxAge)
	w.WriteHeader(http.StatusNoContent)
	return true, nil
}

package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 64 << 10

// checkCSRF refuses cross-site state-changing requests. A browser request passes when
// Sec-Fetch-Site is same-origin, same-site or none (typed URL, bookmark), or when that
// header is absent (older browsers) and Origin names an allowed origin. An Origin
// header, whenever present, must be in the allow-list. A request with neither header
// is refused: non-browser clients send Origin: <public origin> (documented in the
// OpenAPI document), which costs them nothing and leaves no unchecked path.
func (s *Server) checkCSRF(r *http.Request) error {
	origin := r.Header.Get("Origin")
	if origin != "" && !s.origins[origin] {
		return ErrCrossSite.with(errors.New("origin not allowed"), "cross-site request refused: Origin "+quoteHeader(origin)+" is not an allowed origin")
	}
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "same-origin", "same-site", "none":
		return nil
	case "":
		if origin == "" {
			return ErrCrossSite.with(errors.New("no Origin and no Sec-Fetch-Site"), "cross-site request refused: send an Origin header naming an allowed origin")
		}
		return nil
	default: // cross-site, or anything unknown
		return ErrCrossSite.with(errors.New("Sec-Fetch-Site: "+site), "")
	}
}

func quoteHeader(s string) string {
	if len(s) > 100 {
		s = s[:100]
	}
	return `"` + strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return '?'
		}
		return r
	}, s) + `"`
}

// isJSON reports whether a Content-Type header names application/json (charset
// utf-8 or none).
func isJSON(ct string) bool {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return false
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return false
		}
	}
	return true
}

// decodeJSON reads exactly one JSON object into v: application/json only (a form or
// text/plain body is what a cross-site form can send), at most MaxBodyBytes, no
// unknown fields, nothing after the value.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if !isJSON(r.Header.Get("Content-Type")) {
		return ErrUnsupportedMediaType
	}
	body := http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return ErrBodyTooLarge.with(err, "")
		}
		return ErrTrailingData
	}
	return nil
}

func jsonError(err error) error {
	var mbe *http.MaxBytesError
	var ute *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return ErrBodyTooLarge.with(err, "")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return ErrUnknownField.with(err, "unknown field "+strings.TrimPrefix(err.Error(), "json: unknown field "))
	case errors.As(err, &ute):
		return ErrInvalidJSON.with(err, "field "+quoteHeader(ute.Field)+" has the wrong type")
	default:
		return ErrInvalidJSON.with(err, "")
	}
}

// noBody refuses a request body on endpoints that take none, and form content types
// whatever the body: a cross-site form post must never reach a state change.
func noBody(w http.ResponseWriter, r *http.Request) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !isJSON(ct) {
		return ErrUnsupportedMediaType
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return ErrBodyTooLarge.with(err, "")
	case err != nil:
		return ErrInvalidJSON.with(err, "")
	}
	if t := strings.TrimSpace(string(b)); t != "" && t != "{}" { // an empty object is tolerated
		return ErrUnexpectedBody
	}
	return nil
}

// clientIP is the address throttling counts failures against: the connection's peer,
// or the last X-Forwarded-For hop when configured to trust a proxy.
func (s *Server) clientIP(r *http.Request) string {
	if s.cfg.Throttle.TrustForwardedFor {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			hops := strings.Split(xff[len(xff)-1], ",")
			if ip := strings.TrimSpace(hops[len(hops)-1]); net.ParseIP(ip) != nil {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// SafeReturnTo returns p when it is a same-site relative path that cannot turn into
// another origin (no scheme, no host, no "//" or "/\" start, no control characters or
// backslashes), and "/" otherwise. It is what GET /auth/refresh redirects to.
func SafeReturnTo(p string) string {
	if p == "" || len(p) > 2048 || p[0] != '/' || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\") {
		return "/"
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 0x21 || p[i] == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	// A percent-encoded slash or backslash at the start decodes to "//" in some routers.
	if dp, err := url.PathUnescape(u.EscapedPath()); err != nil || strings.HasPrefix(dp, "//") || strings.HasPrefix(dp, "/\\") {
		return "/"
	}
	return p
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:]), true
	}
	return "", false
}

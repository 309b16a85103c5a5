package gate

import (
	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/strictjson"
)

// request is a parsed verifier.Request. Cookies reuses the Gate's slice.
type request struct {
	method, path, query, authorization string
	cookies                            []string
}

var (
	errRequestJSON    = wrap(abi.ErrInvalidRequest, "request is not a strict JSON object")
	errRequestField   = wrap(abi.ErrInvalidRequest, "request has an unknown member or a member of the wrong type")
	errRequestPath    = wrap(abi.ErrInvalidRequest, "request path missing")
	errRequestCookies = wrap(abi.ErrInvalidRequest, "request has too many cookie headers")
)

// maxCookieHeaders bounds the Cookie header count (HTTP/2 may split one header per
// cookie; cookie.MaxCookies bounds the pairs, and so this too).
const maxCookieHeaders = 300

// parseRequest reads the JSON of verifier.Request strictly: unknown members and
// wrong types are refused; null counts as absent; path is required.
func (g *Gate) parseRequest(data []byte) (request, error) {
	doc, err := strictjson.Parse(data, requestLimits)
	if err != nil || doc.Kind() != strictjson.Object {
		return request{}, errRequestJSON
	}
	r := request{cookies: g.cookies[:0]}
	hasPath := false
	for _, m := range doc.Members() {
		v := m.Value
		if v.Kind() == strictjson.Null {
			continue
		}
		var ok bool
		switch m.Name {
		case "method":
			r.method, ok = v.Str()
		case "path":
			r.path, ok = v.Str()
			hasPath = ok
		case "query":
			r.query, ok = v.Str()
		case "authorization":
			r.authorization, ok = v.Str()
		case "cookies":
			ok = v.Kind() == strictjson.Array
			if len(v.Array()) > maxCookieHeaders {
				return request{}, errRequestCookies
			}
			for _, e := range v.Array() {
				s, isStr := e.Str()
				if !isStr {
					return request{}, errRequestField
				}
				r.cookies = append(r.cookies, s)
			}
		}
		if !ok {
			return request{}, errRequestField
		}
	}
	if !hasPath {
		return request{}, errRequestPath
	}
	g.cookies = r.cookies[:0]
	return r, nil
}

// bearer returns the token of an "Authorization: Bearer <token>" header (scheme
// case-insensitive, RFC 9110), or "".
func bearer(h string) string {
	const scheme = "bearer "
	if len(h) <= len(scheme) {
		return ""
	}
	for i := 0; i < len(scheme); i++ {
		c := h[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != scheme[i] {
			return ""
		}
	}
	t := h[len(scheme):]
	for len(t) > 0 && (t[0] == ' ' || t[0] == '\t') {
		t = t[1:]
	}
	for len(t) > 0 && (t[len(t)-1] == ' ' || t[len(t)-1] == '\t') {
		t = t[:len(t)-1]
	}
	return t
}

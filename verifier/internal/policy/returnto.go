package policy

// MaxReturnTo bounds the return_to value: a longer one is dropped (the user lands on
// the after-login page instead).
const MaxReturnTo = 2048

// SafeReturnTo reports whether s (a path with an optional query, as sent in a request
// line) may be used as a redirect target after login or refresh without creating an
// open redirect or a header injection:
//
//   - it starts with exactly one '/' (not "//host" nor "/\host", which browsers treat
//     as another origin; a scheme such as "https:" can then not come first);
//   - its path is canonical (see Policy.Match), so "/%2F%2Fevil.com" and dot segments
//     are refused;
//   - it holds only visible ASCII characters allowed in a URL, no '#', no backslash,
//     and no percent-encoded control character (so "%0D%0A" cannot split a header
//     when some layer decodes it);
//   - it is at most MaxReturnTo bytes.
//
// An unsafe return_to is dropped, never reflected.
func SafeReturnTo(s string) bool {
	if len(s) > MaxReturnTo {
		return false
	}
	path, query := s, ""
	for i := 0; i < len(s); i++ {
		if s[i] == '?' {
			path, query = s[:i], s[i+1:]
			break
		}
	}
	return safeReturnTo(path, query, len(s) > len(path))
}

func safeReturnTo(path, query string, hasQuery bool) bool {
	if len(path)+len(query)+1 > MaxReturnTo || len(path) == 0 || path[0] != '/' {
		return false
	}
	if len(path) > 1 && (path[1] == '/' || path[1] == '\\') {
		return false
	}
	if !isCanonicalPath(path) {
		return false
	}
	if !hasQuery {
		return true
	}
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '%':
			if i+2 >= len(query) || !isHex(query[i+1]) || !isHex(query[i+2]) {
				return false
			}
			if b := unhex(query[i+1])<<4 | unhex(query[i+2]); b < 0x20 || b == 0x7f {
				return false
			}
			i += 2
		case c <= 0x20 || c >= 0x7f:
			return false
		case c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`' ||
			c == '{' || c == '|' || c == '}' || c == '#':
			return false
		}
	}
	return true
}

// AppendLoginURL appends the login URL for a request to dst: LoginPath, plus
// "?return_to=<path?query, percent-encoded>" when the request's path and query make a
// safe return_to (see SafeReturnTo); otherwise the bare login path.
func (p *Policy) AppendLoginURL(dst []byte, path, query string) []byte {
	return appendWithReturnTo(dst, p.cfg.LoginPath, path, query)
}

// AppendRefreshURL is AppendLoginURL for the refresh endpoint.
func (p *Policy) AppendRefreshURL(dst []byte, path, query string) []byte {
	return appendWithReturnTo(dst, p.cfg.RefreshPath, path, query)
}

func appendWithReturnTo(dst []byte, endpoint, path, query string) []byte {
	dst = append(dst, endpoint...)
	if !safeReturnTo(path, query, query != "") {
		return dst
	}
	dst = append(dst, "?return_to="...)
	dst = appendQueryEscaped(dst, path)
	if query != "" {
		dst = append(dst, "%3F"...)
		dst = appendQueryEscaped(dst, query)
	}
	return dst
}

// appendQueryEscaped percent-encodes every byte but the unreserved ones (RFC 3986),
// which is safe inside any query parameter value.
func appendQueryEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) {
			dst = append(dst, c)
		} else {
			dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return dst
}

// AfterLoginTarget returns where a signed-in user who opens the login page goes: the
// return_to parameter of the login URL's query when there is exactly one and it is
// safe, else AfterLoginPath.
func (p *Policy) AfterLoginTarget(query string) string {
	found, raw := false, ""
	for query != "" {
		var param string
		param, query = cut(query, '&')
		name, value := cut(param, '=')
		if name == "return_to" {
			if found {
				return p.cfg.AfterLoginPath // ambiguous: drop both
			}
			found, raw = true, value
		}
	}
	if !found {
		return p.cfg.AfterLoginPath
	}
	v, ok := queryUnescape(raw)
	if !ok || !SafeReturnTo(v) {
		return p.cfg.AfterLoginPath
	}
	return v
}

func cut(s string, sep byte) (before, after string) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

// queryUnescape decodes one query value ('+' is a space, as in forms).
func queryUnescape(s string) (string, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '%' || s[i] == '+' {
			n++
		}
	}
	if n == 0 {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", false
			}
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		case '+':
			b = append(b, ' ')
		default:
			b = append(b, c)
		}
	}
	return string(b), true
}

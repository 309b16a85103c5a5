// Package cookie reads cookies from Cookie request headers the way RFC 6265bis
// (section 5.7, "Retrieval", and the server-side grammar of section 4.2) describes,
// without allocating: names and values are substrings of the headers.
//
// A request may carry several Cookie headers, each with several "name=value" pairs
// separated by ";" with optional white space around it. Names match exactly and
// case-sensitively. A value wrapped in double quotes is returned without them. A pair
// without "=" is malformed and skipped (one bad pair does not spoil the header). A
// name that appears more than once is reported as such: an auth cookie sent twice
// (cookie tossing from a sibling subdomain, or a stale cookie with another Path) is
// rejected by the gate, never guessed.
//
// The package is TinyGo-safe (no reflection, no fmt, no allocation on the lookup path).
package cookie

import (
	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/words"
)

// Limits applied to the Cookie headers of one request. Browsers send at most a few
// kilobytes (RFC 6265bis asks them to support 3000 cookies in total, 50 per domain and
// 4096 bytes per cookie, but front ends refuse headers far smaller than that); more is
// an abuse of the gate, refused as an invalid request rather than scanned.
const (
	MaxCookies = 300      // name=value pairs, malformed ones included, over all headers
	MaxBytes   = 32 << 10 // total length of all Cookie header values
)

// ErrLimit is returned when the headers exceed MaxCookies or MaxBytes. It wraps
// abi.ErrInvalidRequest.
var ErrLimit error = &limitError{}

type limitError struct{}

func (*limitError) Error() string {
	return "edgeauth: invalid request: Cookie headers exceed the cookie count or size limit"
}
func (*limitError) Unwrap() error { return abi.ErrInvalidRequest }

// Scanner walks the cookie pairs of a request's Cookie headers, in order.
//
//	s := cookie.NewScanner(headers)
//	for s.Next() { use(s.Name(), s.Value()) }
//	if s.Err() != nil { ... }
type Scanner struct {
	headers     []string
	rest        string // unread part of the current header
	name, value string
	pairs       int
	err         error
}

// NewScanner returns a Scanner over the values of every Cookie header of a request.
// It checks MaxBytes at once: an oversized request yields no pairs and ErrLimit.
func NewScanner(headers []string) Scanner {
	total := 0
	for _, h := range headers {
		total += len(h)
	}
	if total > MaxBytes {
		return Scanner{err: ErrLimit}
	}
	return Scanner{headers: headers}
}

// Next advances to the next well-formed pair and reports whether there is one.
func (s *Scanner) Next() bool {
	for s.err == nil {
		if s.rest == "" {
			if len(s.headers) == 0 {
				return false
			}
			s.rest, s.headers = s.headers[0], s.headers[1:]
			continue
		}
		var pair string
		if i := indexByte(s.rest, ';'); i >= 0 {
			pair, s.rest = s.rest[:i], s.rest[i+1:]
		} else {
			pair, s.rest = s.rest, ""
		}
		pair = trimOWS(pair)
		if pair == "" {
			continue // ";;" or a trailing ";": not a pair at all
		}
		if s.pairs++; s.pairs > MaxCookies {
			s.err = ErrLimit
			return false
		}
		eq := indexByte(pair, '=')
		if eq < 0 {
			continue // malformed: no '='; skipped, the rest of the header still counts
		}
		s.name, s.value = trimOWS(pair[:eq]), unquote(trimOWS(pair[eq+1:]))
		return true
	}
	return false
}

// Name is the current pair's name (may be empty: "=v" is a nameless cookie).
func (s *Scanner) Name() string { return s.name }

// Value is the current pair's value, without surrounding double quotes.
func (s *Scanner) Value() string { return s.value }

// Err is ErrLimit when the headers were too large or held too many pairs.
func (s *Scanner) Err() error { return s.err }

// Match is the result of looking one cookie name up.
type Match struct {
	// Value of the first occurrence ("" when absent, or present with an empty value).
	Value string
	// Count of occurrences, capped at 2: 0 absent, 1 present once, 2 duplicated.
	Count int
}

// Found reports whether the cookie appeared exactly once: the only case in which its
// value may be trusted.
func (m Match) Found() bool { return m.Count == 1 }

// Duplicated reports whether the cookie appeared more than once.
func (m Match) Duplicated() bool { return m.Count > 1 }

// Get looks up one cookie by exact, case-sensitive name in all headers. It scans every
// pair (to see duplicates), so the error reflects the whole request.
func Get(headers []string, name string) (Match, error) {
	var m Match
	if name == "" {
		return m, nil
	}
	s := NewScanner(headers)
	for s.Next() {
		if s.name != name {
			continue
		}
		if m.Count == 0 {
			m.Value = s.value
		}
		if m.Count < 2 {
			m.Count++
		}
	}
	if s.err != nil {
		return Match{}, s.err
	}
	return m, nil
}

// Get2 looks up two cookies (the access and the refresh cookie) in one pass.
func Get2(headers []string, a, b string) (ma, mb Match, err error) {
	// No pointer to ma or mb is taken: TinyGo would move them to the heap, and this
	// runs on every decision.
	s := NewScanner(headers)
	for s.Next() {
		switch {
		case a != "" && s.name == a:
			ma = ma.add(s.value)
		case b != "" && s.name == b:
			mb = mb.add(s.value)
		}
	}
	if s.err != nil {
		return Match{}, Match{}, s.err
	}
	return ma, mb, nil
}

// add counts one more occurrence with value v (the first one's value is kept).
func (m Match) add(v string) Match {
	if m.Count == 0 {
		m.Value = v
	}
	if m.Count < 2 {
		m.Count++
	}
	return m
}

// indexByte is words.IndexByte: eight bytes at a time, since a header's last pair is
// usually the ~300-byte access token.
func indexByte(s string, c byte) int { return words.IndexByte(s, c) }

// trimOWS removes optional white space (SP and HTAB, RFC 9110) from both ends.
func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// unquote strips one pair of surrounding double quotes (cookie-value = DQUOTE
// *cookie-octet DQUOTE is allowed by RFC 6265).
func unquote(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return v[1 : len(v)-1]
	}
	return v
}

// IsToken reports whether s is a non-empty RFC 9110 token: the characters a cookie
// name may use (RFC 6265bis cookie-name).
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '!' || c == '#' || c == '$' || c == '%' || c == '&' || c == '\'' || c == '*' ||
			c == '+' || c == '-' || c == '.' || c == '^' || c == '_' || c == '`' || c == '|' || c == '~':
		default:
			return false
		}
	}
	return true
}

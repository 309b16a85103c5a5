package gate

import (
	"unicode/utf8"

	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/strictjson"
)

// request is a parsed verifier.Request. Its strings are substrings of one copy of the
// input (or, for strings with escapes, decoded copies); cookies reuses the Gate's
// slice.
type request struct {
	method, path, query, authorization string
	cookies                            []string
}

var (
	errRequestJSON    = wrap(abi.ErrInvalidRequest, "request is not a strict JSON object")
	errRequestTooBig  = wrap(abi.ErrInvalidRequest, "request larger than 64 KiB")
	errRequestField   = wrap(abi.ErrInvalidRequest, "request has an unknown, repeated or mistyped member")
	errRequestPath    = wrap(abi.ErrInvalidRequest, "request path missing")
	errRequestCookies = wrap(abi.ErrInvalidRequest, "request has too many cookie headers")
	errRequestUTF8    = wrap(abi.ErrInvalidRequest, "request is not valid UTF-8 (or has a lone surrogate escape)")
)

// Request limits: a request is a few hundred bytes to a few KiB (cookie.MaxBytes
// bounds the cookies); maxCookieHeaders bounds the Cookie header count (HTTP/2 may
// split one header per cookie).
const (
	maxRequestBytes  = 64 << 10
	maxCookieHeaders = 300
)

// parseRequest reads the JSON of verifier.Request. It is a dedicated reader for this
// one shape, as strict as package strictjson (RFC 8259 only, valid UTF-8, no lone
// surrogates, no duplicate members, no trailing data) and stricter in shape: the
// members are method, path, query and authorization (strings) and cookies (an array
// of strings), each at most once; null counts as absent; path is required. It
// exists for speed: it converts the input to a string once and returns substrings,
// so a decision allocates almost nothing (strictjson builds a value tree, about a
// dozen allocations, which dominates a cache-hit decision inside wasm). A test
// checks that it accepts exactly what the strictjson-based reading accepts.
//
// Where an input breaks several rules, the first one met reading left to right
// decides the error (TestParseRequestErrors); the size comes first, the missing path
// last.
func (g *Gate) parseRequest(data []byte) (request, error) {
	if len(data) > maxRequestBytes {
		return request{}, errRequestTooBig
	}
	p := reqParser{s: string(data)}
	r := request{cookies: g.cookies[:0]}
	given, err := p.requestObject(&r)
	if err != nil {
		return request{}, err
	}
	p.ws()
	if p.pos != len(p.s) {
		return request{}, errRequestJSON
	}
	if given&memberPath == 0 {
		return request{}, errRequestPath
	}
	g.cookies = r.cookies[:0]
	return r, nil
}

// member is one member of a request, as a bit of a set.
type member uint8

const (
	memberMethod member = 1 << iota
	memberPath
	memberQuery
	memberAuthorization
	memberCookies
)

// requestMember returns the member called name, or 0 if a request has none.
func requestMember(name string) member {
	switch name {
	case "method":
		return memberMethod
	case "path":
		return memberPath
	case "query":
		return memberQuery
	case "authorization":
		return memberAuthorization
	case "cookies":
		return memberCookies
	}
	return 0
}

// requestObject reads the request's object into r and returns the members given a
// value other than null. A member may appear once, null or not.
func (p *reqParser) requestObject(r *request) (member, error) {
	p.ws()
	if !p.eat('{') {
		return 0, errRequestJSON
	}
	p.ws()
	if p.eat('}') {
		return 0, nil
	}
	var seen, given member
	for {
		m, err := p.memberName()
		if err != nil {
			return 0, err
		}
		if seen&m != 0 {
			return 0, errRequestField
		}
		seen |= m
		if !p.null() {
			if err := p.memberValue(m, r); err != nil {
				return 0, err
			}
			given |= m
		}
		p.ws()
		if p.eat('}') {
			return given, nil
		}
		if !p.eat(',') {
			return 0, errRequestJSON
		}
	}
}

// memberName reads a member's name and the colon after it, and returns the member;
// a name a request does not have is errRequestField.
func (p *reqParser) memberName() (member, error) {
	p.ws()
	name, err := p.str()
	if err != nil {
		return 0, err
	}
	p.ws()
	if !p.eat(':') {
		return 0, errRequestJSON
	}
	p.ws()
	m := requestMember(name)
	if m == 0 {
		return 0, errRequestField
	}
	return m, nil
}

// memberValue reads the value, not null, of member m into r: an array of strings for
// cookies, a string for the others; any other value is errRequestField.
func (p *reqParser) memberValue(m member, r *request) error {
	if m == memberCookies {
		return p.cookieHeaders(&r.cookies)
	}
	return p.stringValue(r.text(m))
}

// text returns the field of r that holds string member m.
func (r *request) text(m member) *string {
	switch m {
	case memberMethod:
		return &r.method
	case memberPath:
		return &r.path
	case memberQuery:
		return &r.query
	default: // memberAuthorization
		return &r.authorization
	}
}

// stringValue reads a string into dst; any other value is errRequestField.
func (p *reqParser) stringValue(dst *string) error {
	if p.peek() != '"' {
		return errRequestField
	}
	s, err := p.str()
	if err != nil {
		return err
	}
	*dst = s
	return nil
}

// cookieHeaders reads an array of strings, one Cookie header each, and appends them
// to cookies: at most maxCookieHeaders in all.
func (p *reqParser) cookieHeaders(cookies *[]string) error {
	if !p.eat('[') {
		return errRequestField
	}
	p.ws()
	if p.eat(']') {
		return nil
	}
	for {
		p.ws()
		if p.peek() != '"' {
			return errRequestField
		}
		s, err := p.str()
		if err != nil {
			return err
		}
		if len(*cookies) == maxCookieHeaders {
			return errRequestCookies
		}
		*cookies = append(*cookies, s)
		p.ws()
		if p.eat(']') {
			return nil
		}
		if !p.eat(',') {
			return errRequestJSON
		}
	}
}

type reqParser struct {
	s   string
	pos int
}

func (p *reqParser) ws() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\r', '\n':
			p.pos++
		default:
			return
		}
	}
}

func (p *reqParser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

func (p *reqParser) eat(c byte) bool {
	if p.peek() == c {
		p.pos++
		return true
	}
	return false
}

func (p *reqParser) null() bool {
	if len(p.s)-p.pos >= 4 && p.s[p.pos:p.pos+4] == "null" {
		p.pos += 4
		return true
	}
	return false
}

// str reads a JSON string at pos (which must be a quote), unescaped.
func (p *reqParser) str() (string, error) {
	s := p.s
	if p.peek() != '"' {
		return "", errRequestJSON
	}
	start := p.pos + 1
	ascii := true
	for i := start; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			if !ascii && !utf8.ValidString(s[start:i]) {
				return "", errRequestUTF8
			}
			p.pos = i + 1
			return s[start:i], nil
		case c == '\\':
			return p.strEscaped(start)
		case c < 0x20:
			return "", errRequestJSON
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", errRequestJSON
}

func (p *reqParser) strEscaped(start int) (string, error) {
	out, end, err := strictjson.Unescape(p.s, start, nil)
	switch {
	case err == strictjson.ErrInvalidUTF8:
		return "", errRequestUTF8
	case err != nil:
		return "", errRequestJSON
	}
	p.pos = end
	return string(out), nil
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

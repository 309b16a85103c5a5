package wasmhost

import (
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/edgeauth/edgeauth/verifier"
)

// Decoding of the module's outputs (decision and claims JSON, verifier/ABI.md) without
// reflection: encoding/json was a third of a cache-hit decision. The reader accepts
// any JSON the gate may write and skips unknown members (outputs may gain optional
// members within an ABI version); anything else is an error. Tests check it against
// encoding/json, whose string semantics it keeps (invalid UTF-8 and lone surrogates
// become U+FFFD): that is why it does not share strictjson.Unescape, which refuses
// them, as the gate must for untrusted input.

var errDecode = errors.New("output JSON does not match the ABI")

type reader struct {
	b   []byte
	pos int
}

func (r *reader) space() {
	for r.pos < len(r.b) {
		switch r.b[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte (0 at the end).
func (r *reader) peek() byte {
	r.space()
	if r.pos < len(r.b) {
		return r.b[r.pos]
	}
	return 0
}

func (r *reader) expect(c byte) bool {
	if r.peek() == c {
		r.pos++
		return true
	}
	return false
}

func (r *reader) literal(word string) bool {
	r.space()
	if len(r.b)-r.pos >= len(word) && string(r.b[r.pos:r.pos+len(word)]) == word {
		r.pos += len(word)
		return true
	}
	return false
}

// null consumes a null if one is next.
func (r *reader) null() bool { return r.peek() == 'n' && r.literal("null") }

func (r *reader) boolean() (v, ok bool) {
	switch r.peek() {
	case 't':
		return true, r.literal("true")
	case 'f':
		return false, r.literal("false")
	}
	return false, false
}

func (r *reader) str() (string, bool) {
	if !r.expect('"') {
		return "", false
	}
	start := r.pos
	for r.pos < len(r.b) { // fast path: no escapes
		c := r.b[r.pos]
		if c == '"' {
			s := r.b[start:r.pos]
			r.pos++
			return validUTF8(s), true
		}
		if c == '\\' || c < 0x20 {
			break
		}
		r.pos++
	}
	out := append([]byte(nil), r.b[start:r.pos]...)
	for r.pos < len(r.b) {
		c := r.b[r.pos]
		switch {
		case c == '"':
			r.pos++
			return validUTF8(out), true
		case c < 0x20:
			return "", false
		case c != '\\':
			out = append(out, c)
			r.pos++
			continue
		}
		if r.pos+1 >= len(r.b) {
			return "", false
		}
		e := r.b[r.pos+1]
		r.pos += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			c1, ok := r.hex4()
			if !ok {
				return "", false
			}
			if utf16.IsSurrogate(c1) {
				c2 := rune(-1)
				if r.pos+1 < len(r.b) && r.b[r.pos] == '\\' && r.b[r.pos+1] == 'u' {
					save := r.pos
					r.pos += 2
					if c2, ok = r.hex4(); !ok {
						return "", false
					}
					if utf16.DecodeRune(c1, c2) == utf8.RuneError {
						r.pos, c2 = save, -1
					}
				}
				if c2 < 0 {
					c1 = utf8.RuneError
				} else {
					c1 = utf16.DecodeRune(c1, c2)
				}
			}
			out = utf8.AppendRune(out, c1)
		default:
			return "", false
		}
	}
	return "", false
}

// validUTF8 returns b as a string with each byte of an invalid sequence replaced by
// U+FFFD, as encoding/json does.
func validUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		c, n := utf8.DecodeRune(b)
		out = utf8.AppendRune(out, c) // RuneError for an invalid byte (n == 1)
		b = b[n:]
	}
	return string(out)
}

func (r *reader) hex4() (rune, bool) {
	if len(r.b)-r.pos < 4 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(r.b[r.pos:r.pos+4]), 16, 16)
	if err != nil {
		return 0, false
	}
	r.pos += 4
	return rune(v), true
}

// int reads an integer (no fraction or exponent: the ABI writes none).
func (r *reader) int() (int64, bool) {
	r.space()
	start := r.pos
	if fraction, ok := r.number(); !ok || fraction {
		return 0, false
	}
	n, err := strconv.ParseInt(string(r.b[start:r.pos]), 10, 64)
	return n, err == nil
}

// number reads a JSON number as RFC 8259 spells it (no leading zeros, digits after a
// point and in an exponent), and says whether it had a fraction or an exponent.
func (r *reader) number() (fraction, ok bool) {
	digits := func() bool {
		start := r.pos
		for r.pos < len(r.b) && r.b[r.pos] >= '0' && r.b[r.pos] <= '9' {
			r.pos++
		}
		return r.pos > start
	}
	if r.pos < len(r.b) && r.b[r.pos] == '-' {
		r.pos++
	}
	switch {
	case r.pos < len(r.b) && r.b[r.pos] == '0':
		r.pos++
	case !digits():
		return false, false
	}
	if r.pos < len(r.b) && r.b[r.pos] == '.' {
		r.pos++
		if !digits() {
			return false, false
		}
		fraction = true
	}
	if r.pos < len(r.b) && (r.b[r.pos] == 'e' || r.b[r.pos] == 'E') {
		r.pos++
		if r.pos < len(r.b) && (r.b[r.pos] == '+' || r.b[r.pos] == '-') {
			r.pos++
		}
		if !digits() {
			return false, false
		}
		fraction = true
	}
	// A digit right after a leading zero ("007") is not one number.
	return fraction, r.pos == len(r.b) || r.b[r.pos] < '0' || r.b[r.pos] > '9'
}

// strs reads an array of strings, or null (nil).
func (r *reader) strs() ([]string, bool) {
	if r.null() {
		return nil, true
	}
	if !r.expect('[') {
		return nil, false
	}
	out := []string{}
	if r.expect(']') {
		return out, true
	}
	for {
		s, ok := r.str()
		if !ok {
			return nil, false
		}
		out = append(out, s)
		if r.expect(']') {
			return out, true
		}
		if !r.expect(',') {
			return nil, false
		}
	}
}

// object calls member for each member name of an object; member reads the value.
func (r *reader) object(member func(name string) bool) bool {
	if !r.expect('{') {
		return false
	}
	if r.expect('}') {
		return true
	}
	for {
		name, ok := r.str()
		if !ok || !r.expect(':') || !member(name) {
			return false
		}
		if r.expect('}') {
			return true
		}
		if !r.expect(',') {
			return false
		}
	}
}

// skip reads and discards any value (unknown members).
func (r *reader) skip(depth int) bool {
	if depth > 32 {
		return false
	}
	switch c := r.peek(); {
	case c == '"':
		_, ok := r.str()
		return ok
	case c == '{':
		return r.object(func(string) bool { return r.skip(depth + 1) })
	case c == '[':
		r.pos++
		if r.expect(']') {
			return true
		}
		for {
			if !r.skip(depth + 1) {
				return false
			}
			if r.expect(']') {
				return true
			}
			if !r.expect(',') {
				return false
			}
		}
	case c == 't':
		return r.literal("true")
	case c == 'f':
		return r.literal("false")
	case c == 'n':
		return r.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		_, ok := r.number()
		return ok
	}
	return false
}

func (r *reader) end() bool {
	r.space()
	return r.pos == len(r.b)
}

// decodeDecision decodes decide's output.
func decodeDecision(b []byte) (verifier.Decision, error) {
	var d verifier.Decision
	r := reader{b: b}
	ok := r.object(func(name string) bool {
		var ok bool
		switch name {
		case "action":
			var a string
			a, ok = r.str()
			d.Action = verifier.Action(a)
		case "reason":
			var reason string
			reason, ok = r.str()
			d.Reason = verifier.Reason(reason)
		case "status":
			var n int64
			n, ok = r.int()
			d.Status = int(n)
		case "location":
			d.Location, ok = r.str()
		case "clear_cookies":
			d.ClearCookies, ok = r.strs()
		case "identity":
			if r.null() {
				d.Identity = nil
				return true
			}
			id := &verifier.Identity{}
			d.Identity = id
			ok = r.object(func(name string) bool {
				var ok bool
				switch name {
				case "sub":
					id.Subject, ok = r.str()
				case "sid":
					id.SessionID, ok = r.str()
				case "roles":
					id.Roles, ok = r.strs()
				case "exp":
					id.ExpiresAt, ok = r.int()
				case "mfa":
					id.SecondFactor, ok = r.boolean()
				default:
					ok = r.skip(0)
				}
				return ok
			})
		default:
			ok = r.skip(0)
		}
		return ok
	})
	if !ok || !r.end() {
		return verifier.Decision{}, errDecode
	}
	return d, nil
}

// decodeClaims decodes verify_token's output.
func decodeClaims(b []byte) (verifier.Claims, error) {
	var c verifier.Claims
	r := reader{b: b}
	ok := r.object(func(name string) bool {
		var ok bool
		switch name {
		case "iss":
			c.Issuer, ok = r.str()
		case "sub":
			c.Subject, ok = r.str()
		case "aud":
			c.Audience, ok = r.strs()
		case "sid":
			c.SessionID, ok = r.str()
		case "roles":
			c.Roles, ok = r.strs()
		case "jti":
			c.TokenID, ok = r.str()
		case "iat":
			c.IssuedAt, ok = r.int()
		case "nbf":
			c.NotBefore, ok = r.int()
		case "exp":
			c.ExpiresAt, ok = r.int()
		case "mfa":
			c.SecondFactor, ok = r.boolean()
		default:
			ok = r.skip(0)
		}
		return ok
	})
	if !ok || !r.end() {
		return verifier.Claims{}, errDecode
	}
	return c, nil
}

package strictjson

import "unicode/utf8"

// Limits bound what Parse accepts. A zero field takes its default.
type Limits struct {
	// MaxBytes is the largest input accepted (default 64 KiB).
	MaxBytes int
	// MaxDepth is the deepest nesting of arrays and objects accepted (default 16;
	// a scalar at top level has depth 0, {"a":[1]} has depth 2).
	MaxDepth int
}

// Default limits, used for zero Limits fields.
const (
	DefaultMaxBytes = 64 << 10
	DefaultMaxDepth = 16
)

// smallObject is the member count up to which duplicate names are found by a linear
// scan; larger objects use a map so that a hostile object cannot cost O(n²).
const smallObject = 16

// Parse parses one JSON document strictly (see the package documentation). Errors are
// ErrSyntax, ErrInvalidUTF8, ErrDuplicateName, ErrTooDeep or ErrTooLarge.
func Parse(data []byte, lim Limits) (Value, error) {
	if lim.MaxBytes <= 0 {
		lim.MaxBytes = DefaultMaxBytes
	}
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = DefaultMaxDepth
	}
	if len(data) > lim.MaxBytes {
		return Value{}, ErrTooLarge
	}
	p := parser{data: data, maxDepth: lim.MaxDepth}
	p.skipSpace()
	v, err := p.value(0)
	if err != nil {
		return Value{}, err
	}
	p.skipSpace()
	if p.pos != len(p.data) {
		return Value{}, ErrSyntax
	}
	return v, nil
}

type parser struct {
	data     []byte
	pos      int
	maxDepth int
	scratch  []byte
}

func (p *parser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (Value, error) {
	if p.pos >= len(p.data) {
		return Value{}, ErrSyntax
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(depth + 1)
	case c == '[':
		return p.array(depth + 1)
	case c == '"':
		s, err := p.str()
		return Value{kind: String, s: s}, err
	case c == 't':
		return Value{kind: Bool, b: true}, p.literal("true")
	case c == 'f':
		return Value{kind: Bool}, p.literal("false")
	case c == 'n':
		return Value{}, p.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return Value{}, ErrSyntax
}

func (p *parser) literal(word string) error {
	if len(p.data)-p.pos < len(word) || string(p.data[p.pos:p.pos+len(word)]) != word {
		return ErrSyntax
	}
	p.pos += len(word)
	return nil
}

func (p *parser) object(depth int) (Value, error) {
	if depth > p.maxDepth {
		return Value{}, ErrTooDeep
	}
	p.pos++ // '{'
	p.skipSpace()
	members := []Member{}
	var seen map[string]struct{}
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return Value{kind: Object, obj: members}, nil
	}
	for {
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return Value{}, ErrSyntax
		}
		name, err := p.str()
		if err != nil {
			return Value{}, err
		}
		if seen != nil {
			if _, dup := seen[name]; dup {
				return Value{}, ErrDuplicateName
			}
			seen[name] = struct{}{}
		} else {
			for i := range members {
				if members[i].Name == name {
					return Value{}, ErrDuplicateName
				}
			}
			if len(members) == smallObject {
				seen = make(map[string]struct{}, 2*smallObject)
				for i := range members {
					seen[members[i].Name] = struct{}{}
				}
				seen[name] = struct{}{}
			}
		}
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return Value{}, ErrSyntax
		}
		p.pos++
		p.skipSpace()
		v, err := p.value(depth)
		if err != nil {
			return Value{}, err
		}
		members = append(members, Member{Name: name, Value: v})
		p.skipSpace()
		if p.pos >= len(p.data) {
			return Value{}, ErrSyntax
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
			p.skipSpace()
		case '}':
			p.pos++
			return Value{kind: Object, obj: members}, nil
		default:
			return Value{}, ErrSyntax
		}
	}
}

func (p *parser) array(depth int) (Value, error) {
	if depth > p.maxDepth {
		return Value{}, ErrTooDeep
	}
	p.pos++ // '['
	p.skipSpace()
	elems := []Value{}
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return Value{kind: Array, arr: elems}, nil
	}
	for {
		v, err := p.value(depth)
		if err != nil {
			return Value{}, err
		}
		elems = append(elems, v)
		p.skipSpace()
		if p.pos >= len(p.data) {
			return Value{}, ErrSyntax
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
			p.skipSpace()
		case ']':
			p.pos++
			return Value{kind: Array, arr: elems}, nil
		default:
			return Value{}, ErrSyntax
		}
	}
}

// number scans RFC 8259's grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *parser) number() (Value, error) {
	d := p.data
	start := p.pos
	i := p.pos
	if d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		return Value{}, ErrSyntax
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return Value{}, ErrSyntax
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return Value{}, ErrSyntax
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	p.pos = i
	return Value{kind: Number, s: string(d[start:i])}, nil
}

// str parses a string starting at the opening quote and returns it unescaped.
func (p *parser) str() (string, error) {
	d := p.data
	p.pos++ // opening quote
	start := p.pos
	// Fast path: no escapes.
	for i := start; i < len(d); i++ {
		c := d[i]
		if c == '"' {
			if !utf8.Valid(d[start:i]) {
				return "", ErrInvalidUTF8
			}
			p.pos = i + 1
			return string(d[start:i]), nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", ErrSyntax
		}
	}
	out, end, err := Unescape(d, start, p.scratch[:0])
	if err != nil {
		return "", err
	}
	p.pos = end
	p.scratch = out
	return string(out), nil
}

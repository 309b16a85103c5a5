package strictjson

import (
	"sync"
	"unicode/utf8"
)

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
	st := stacks.Get().(*stack)
	p := parser{data: data, text: string(data), maxDepth: lim.MaxDepth, stack: st}
	p.skipSpace()
	v, err := p.value(0)
	if err == nil {
		p.skipSpace()
		if p.pos != len(p.data) {
			err = ErrSyntax
		}
	}
	st.reset()
	stacks.Put(st)
	if err != nil {
		return Value{}, err
	}
	return v, nil
}

// stack is a parser's working space, kept between parses.
type stack struct {
	scratch []byte   // Unescape's output
	members []Member // the members of the open objects, innermost last
	elems   []Value  // the elements of the open arrays, innermost last
}

var stacks = sync.Pool{New: func() any { return new(stack) }}

// keptStack bounds the entries a stack keeps between parses: a large document's stacks
// are left to the collector.
const keptStack = 256

// reset empties the stacks for the next parse. Every closed object and array cleared its
// entries; an error leaves the open ones', cleared here, so that the stacks keep no
// Values alive.
func (st *stack) reset() {
	clear(st.members)
	clear(st.elems)
	st.members, st.elems = st.members[:0], st.elems[:0]
	if cap(st.members) > keptStack {
		st.members = nil
	}
	if cap(st.elems) > keptStack {
		st.elems = nil
	}
	if cap(st.scratch) > keptStack*16 {
		st.scratch = nil
	}
}

// parser allocates little, because the verifier parses a token's header and payload on
// every cold verification and TinyGo's allocator is slow: the input is copied once into
// text, whose slices are the names, strings without escapes and numbers; the members
// and elements being collected sit on two stacks shared by every level of nesting and
// kept between parses, and each object or array is copied off them once, at its exact
// size.
type parser struct {
	data     []byte
	text     string // data, copied once (Values outlive the caller's buffer)
	pos      int
	maxDepth int
	*stack
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
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return Value{kind: Object, obj: []Member{}}, nil
	}
	base := len(p.members) // this object's members are p.members[base:]
	var seen map[string]struct{}
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
			open := p.members[base:]
			for i := range open {
				if open[i].Name == name {
					return Value{}, ErrDuplicateName
				}
			}
			if len(open) == smallObject {
				seen = make(map[string]struct{}, 2*smallObject)
				for i := range open {
					seen[open[i].Name] = struct{}{}
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
		v, err := p.value(depth) // a nested object leaves p.members as it found it
		if err != nil {
			return Value{}, err
		}
		p.members = append(p.members, Member{Name: name, Value: v})
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
			obj := make([]Member, len(p.members)-base)
			copy(obj, p.members[base:])
			clear(p.members[base:])
			p.members = p.members[:base]
			return Value{kind: Object, obj: obj}, nil
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
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return Value{kind: Array, arr: []Value{}}, nil
	}
	base := len(p.elems) // this array's elements are p.elems[base:]
	for {
		v, err := p.value(depth) // a nested array leaves p.elems as it found it
		if err != nil {
			return Value{}, err
		}
		p.elems = append(p.elems, v)
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
			arr := make([]Value, len(p.elems)-base)
			copy(arr, p.elems[base:])
			clear(p.elems[base:])
			p.elems = p.elems[:base]
			return Value{kind: Array, arr: arr}, nil
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
	return Value{kind: Number, s: p.text[start:i]}, nil
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
			return p.text[start:i], nil
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

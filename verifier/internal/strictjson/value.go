// Package strictjson is a small, strict, non-reflective JSON parser and writer.
//
// It exists because the verifier is compiled by TinyGo for wasm-unknown, where the
// reflection-based encoding/json is unavailable or too large, and because a token
// verifier must be stricter than encoding/json: a document that two parsers could read
// differently (duplicate member names, invalid UTF-8, lone surrogates) is refused.
//
// Parse accepts exactly RFC 8259 JSON with these additional rules:
//   - the input must be valid UTF-8, and \u escapes must not produce lone surrogates;
//   - member names must be unique within an object, compared after unescaping
//     (so {"a":1,"\u0061":2} is refused);
//   - the input size and nesting depth are bounded (Limits) and checked while parsing,
//     so recursion never exceeds MaxDepth;
//   - nothing but whitespace (space, tab, CR, LF) may follow the value; a byte order
//     mark is not whitespace.
//
// Numbers are kept as their source text. Int returns an int64 only for the canonical
// integer form (optional '-', digits, no leading zero, no fraction, no exponent, not
// "-0") within int64 range: 1.0, 1e3 and 10E0 are numbers but not integers. This is
// deliberate: one integer has exactly one accepted spelling, and no float rounding
// ever decides a time comparison.
//
// The package is TinyGo-safe: no reflection, no goroutines, no fmt.
package strictjson

import "errors"

// Errors returned by Parse. Callers map them to their own sentinels.
var (
	ErrSyntax        = errors.New("strictjson: syntax error")
	ErrInvalidUTF8   = errors.New("strictjson: invalid UTF-8 or lone surrogate")
	ErrDuplicateName = errors.New("strictjson: duplicate member name")
	ErrTooDeep       = errors.New("strictjson: nesting too deep")
	ErrTooLarge      = errors.New("strictjson: input too large")
)

// Kind is the JSON type of a Value.
type Kind uint8

// The JSON kinds. The zero Value is Null.
const (
	Null Kind = iota
	Bool
	Number
	String
	Array
	Object
)

// String names the kind, for messages and tests.
func (k Kind) String() string {
	switch k {
	case Null:
		return "null"
	case Bool:
		return "bool"
	case Number:
		return "number"
	case String:
		return "string"
	case Array:
		return "array"
	case Object:
		return "object"
	}
	return "invalid"
}

// Value is one parsed JSON value. It is immutable once returned by Parse.
type Value struct {
	kind Kind
	b    bool
	s    string // unescaped string, or the number's source text
	arr  []Value
	obj  []Member
}

// Member is one object member, in document order.
type Member struct {
	Name  string
	Value Value
}

// Kind returns the value's JSON type.
func (v Value) Kind() Kind { return v.kind }

// Str returns the (unescaped) string and true when v is a string.
func (v Value) Str() (string, bool) {
	if v.kind != String {
		return "", false
	}
	return v.s, true
}

// Bool returns the boolean and true when v is true or false.
func (v Value) Bool() (bool, bool) {
	if v.kind != Bool {
		return false, false
	}
	return v.b, true
}

// Num returns the number's source text and true when v is a number.
func (v Value) Num() (string, bool) {
	if v.kind != Number {
		return "", false
	}
	return v.s, true
}

// Int returns the number as an int64 when it is written in canonical integer form and
// fits in an int64 (see the package documentation: 1.0 and 1e3 are not integers).
func (v Value) Int() (int64, bool) {
	if v.kind != Number {
		return 0, false
	}
	return parseInt(v.s)
}

// Array returns the elements when v is an array, nil otherwise (an empty array also
// has no elements: check Kind to tell the two apart).
func (v Value) Array() []Value {
	if v.kind != Array {
		return nil
	}
	return v.arr
}

// Members returns the object members in document order (nil when v is not an object).
func (v Value) Members() []Member {
	if v.kind != Object {
		return nil
	}
	return v.obj
}

// Get returns the member called name when v is an object that has it. Names are
// unique (Parse refuses duplicates), so there is at most one.
func (v Value) Get(name string) (Value, bool) {
	if v.kind != Object {
		return Value{}, false
	}
	for i := range v.obj {
		if v.obj[i].Name == name {
			return v.obj[i].Value, true
		}
	}
	return Value{}, false
}

// Has reports whether v is an object with a member called name.
func (v Value) Has(name string) bool {
	_, ok := v.Get(name)
	return ok
}

// parseInt converts canonical integer text to int64 without strconv's leniency
// (strconv accepts "+1", "0x1f" with base 0, underscores...).
func parseInt(s string) (int64, bool) {
	neg := false
	i := 0
	if i < len(s) && s[i] == '-' {
		neg = true
		i++
	}
	if i == len(s) || (s[i] == '0' && (len(s) > i+1 || neg)) {
		return 0, false // empty, leading zero, or "-0"
	}
	// Accumulate as a negative number so that math.MinInt64 fits.
	const minInt64 = -1 << 63
	var n int64
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if n < (minInt64+d)/10 {
			return 0, false
		}
		n = n*10 - d
	}
	if !neg {
		if n == minInt64 {
			return 0, false
		}
		n = -n
	}
	return n, true
}

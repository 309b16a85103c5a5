package strictjson

import (
	"strconv"
	"unicode/utf8"
)

// Writer appends JSON to B without reflection. Commas are inserted automatically:
// call Name before each object member's value. The Writer does not check that calls
// are balanced; callers build fixed shapes, which tests cover.
//
// Strings are escaped exactly as encoding/json does by default: '"', '\\' and control
// characters, plus '<', '>', '&', U+2028 and U+2029 (so output is safe inside HTML and
// JavaScript), and invalid UTF-8 becomes U+FFFD. Output is therefore byte-identical to
// json.Marshal of the same strings.
type Writer struct {
	B    []byte
	more bool // the next value or name needs a comma first
}

func (w *Writer) sep() {
	if w.more {
		w.B = append(w.B, ',')
	}
}

// BeginObject writes '{'.
func (w *Writer) BeginObject() { w.sep(); w.B = append(w.B, '{'); w.more = false }

// EndObject writes '}'.
func (w *Writer) EndObject() { w.B = append(w.B, '}'); w.more = true }

// BeginArray writes '['.
func (w *Writer) BeginArray() { w.sep(); w.B = append(w.B, '['); w.more = false }

// EndArray writes ']'.
func (w *Writer) EndArray() { w.B = append(w.B, ']'); w.more = true }

// Name writes an object member name and the colon; the member's value follows.
func (w *Writer) Name(k string) {
	w.sep()
	w.B = AppendString(w.B, k)
	w.B = append(w.B, ':')
	w.more = false
}

// String writes a string value.
func (w *Writer) String(s string) { w.sep(); w.B = AppendString(w.B, s); w.more = true }

// Int writes an integer value.
func (w *Writer) Int(n int64) { w.sep(); w.B = strconv.AppendInt(w.B, n, 10); w.more = true }

// Bool writes true or false.
func (w *Writer) Bool(b bool) { w.sep(); w.B = strconv.AppendBool(w.B, b); w.more = true }

// Null writes null.
func (w *Writer) Null() { w.sep(); w.B = append(w.B, "null"...); w.more = true }

// Raw writes already-encoded JSON as one value. The caller guarantees it is valid.
func (w *Writer) Raw(json []byte) { w.sep(); w.B = append(w.B, json...); w.more = true }

// Strings writes an array of strings.
func (w *Writer) Strings(ss []string) {
	w.BeginArray()
	for _, s := range ss {
		w.String(s)
	}
	w.EndArray()
}

// Value writes a parsed value back out (numbers keep their source text).
func (w *Writer) Value(v Value) {
	switch v.kind {
	case Null:
		w.Null()
	case Bool:
		w.Bool(v.b)
	case Number:
		w.Raw([]byte(v.s))
	case String:
		w.String(v.s)
	case Array:
		w.BeginArray()
		for _, e := range v.arr {
			w.Value(e)
		}
		w.EndArray()
	case Object:
		w.BeginObject()
		for _, m := range v.obj {
			w.Name(m.Name)
			w.Value(m.Value)
		}
		w.EndObject()
	}
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a quoted, escaped JSON string (see Writer).
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += n
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += n
			start = i
			continue
		}
		i += n
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

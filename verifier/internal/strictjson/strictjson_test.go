package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseRejects(t *testing.T) {
	deep := strings.Repeat("[", 17) + strings.Repeat("]", 17)
	cases := []struct {
		name string
		in   string
		want error
	}{
		{"empty", ``, ErrSyntax},
		{"only space", `  `, ErrSyntax},
		{"trailing data", `{} {}`, ErrSyntax},
		{"trailing comma object", `{"a":1,}`, ErrSyntax},
		{"trailing comma array", `[1,]`, ErrSyntax},
		{"bom", "\uFEFF{}", ErrSyntax},
		{"single quotes", `{'a':1}`, ErrSyntax},
		{"unquoted name", `{a:1}`, ErrSyntax},
		{"leading zero", `01`, ErrSyntax},
		{"plus sign", `+1`, ErrSyntax},
		{"bare dot", `1.`, ErrSyntax},
		{"bare exponent", `1e`, ErrSyntax},
		{"hex", `0x10`, ErrSyntax},
		{"NaN", `NaN`, ErrSyntax},
		{"control char in string", "\"a\x01\"", ErrSyntax},
		{"raw newline in string", "\"a\nb\"", ErrSyntax},
		{"bad escape", `"\x41"`, ErrSyntax},
		{"short unicode escape", `"\u41"`, ErrSyntax},
		{"unterminated string", `"abc`, ErrSyntax},
		{"unterminated object", `{"a":1`, ErrSyntax},
		{"truncated literal", `tru`, ErrSyntax},
		{"capital literal", `True`, ErrSyntax},
		{"vertical tab space", "\v1", ErrSyntax},
		{"nul after value", "1\x00", ErrSyntax},
		{"comment", `{} // x`, ErrSyntax},
		{"invalid utf8 in string", "\"\xff\"", ErrInvalidUTF8},
		{"overlong utf8", "\"\xc0\xaf\"", ErrInvalidUTF8},
		{"utf8 encoded surrogate", "\"\xed\xa0\x80\"", ErrInvalidUTF8},
		{"invalid utf8 in escaped string", "\"\\n\xff\"", ErrInvalidUTF8},
		{"invalid utf8 outside string", "\xff", ErrSyntax},
		{"lone high surrogate", `"\ud800"`, ErrInvalidUTF8},
		{"lone low surrogate", `"\udc00"`, ErrInvalidUTF8},
		{"high surrogate then letter", `"\ud800x"`, ErrInvalidUTF8},
		{"reversed surrogates", `"\udc00\ud800"`, ErrInvalidUTF8},
		{"high surrogate twice", `"\ud800\ud800"`, ErrInvalidUTF8},
		{"duplicate name", `{"a":1,"a":2}`, ErrDuplicateName},
		{"duplicate after unescape", `{"a":1,"\u0061":2}`, ErrDuplicateName},
		{"duplicate nested", `{"x":{"k":1,"k":1}}`, ErrDuplicateName},
		{"duplicate in large object", largeObject(40, true), ErrDuplicateName},
		{"too deep", deep, ErrTooDeep},
		{"too deep objects", strings.Repeat(`{"a":`, 17) + "1" + strings.Repeat("}", 17), ErrTooDeep},
		{"too large", `"` + strings.Repeat("a", DefaultMaxBytes) + `"`, ErrTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in), Limits{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("Parse(%q) error = %v, want %v", tc.in, err, tc.want)
			}
		})
	}
}

func largeObject(n int, dup bool) string {
	var w Writer
	w.BeginObject()
	for i := range n {
		w.Name(strings.Repeat("k", i+1))
		w.Int(int64(i))
	}
	if dup {
		w.Name("kkk")
		w.Int(0)
	}
	w.EndObject()
	return string(w.B)
}

func TestParseAccepts(t *testing.T) {
	v, err := Parse([]byte(" {\"s\":\"a\\u00e9\\ud83d\\ude00\\/\\\"\",\"n\":-12.5e+3,\"i\":42,\"b\":true,\"z\":null,\"a\":[1,[]],\"o\":{}}\r\n"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := mustGet(t, v, "s").Str(); !ok || s != "a\u00e9\U0001F600/\"" {
		t.Errorf("s = %q", s)
	}
	if n, ok := mustGet(t, v, "n").Num(); !ok || n != "-12.5e+3" {
		t.Errorf("n = %q", n)
	}
	if _, ok := mustGet(t, v, "n").Int(); ok {
		t.Error("-12.5e+3 must not be an integer")
	}
	if i, ok := mustGet(t, v, "i").Int(); !ok || i != 42 {
		t.Errorf("i = %d %v", i, ok)
	}
	if b, ok := mustGet(t, v, "b").Bool(); !ok || !b {
		t.Error("b")
	}
	if mustGet(t, v, "z").Kind() != Null {
		t.Error("z")
	}
	if a := mustGet(t, v, "a").Array(); len(a) != 2 || a[1].Kind() != Array {
		t.Error("a")
	}
	if o := mustGet(t, v, "o"); o.Kind() != Object || len(o.Members()) != 0 {
		t.Error("o")
	}
	names := []string{}
	for _, m := range v.Members() {
		names = append(names, m.Name)
	}
	if strings.Join(names, ",") != "s,n,i,b,z,a,o" {
		t.Errorf("member order %v", names)
	}
	if _, ok := v.Get("missing"); ok {
		t.Error("missing member found")
	}
	if _, err := Parse([]byte(largeObject(40, false)), Limits{}); err != nil {
		t.Errorf("large object without duplicates: %v", err)
	}
	if _, err := Parse([]byte(strings.Repeat("[", 16)+strings.Repeat("]", 16)), Limits{}); err != nil {
		t.Errorf("depth 16: %v", err)
	}
	if _, err := Parse([]byte(`[[1]]`), Limits{MaxDepth: 1}); !errors.Is(err, ErrTooDeep) {
		t.Errorf("MaxDepth 1: %v", err)
	}
	if _, err := Parse([]byte(`"12345"`), Limits{MaxBytes: 6}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("MaxBytes 6: %v", err)
	}
}

// TestParseKeepsNothingOfTheInput: Values are copies (the verifier parses out of a
// buffer the host overwrites on the next call), and one parse leaves nothing for the
// next, even when it fails deep inside nested objects and arrays.
func TestParseKeepsNothingOfTheInput(t *testing.T) {
	doc := `{"sub":"user-1","aud":["a","b",{"x":[1,2]}],"o":{"sub":"inner","n":[[3],[4]]},"exp":1700000600}`
	want := func(v Value) {
		t.Helper()
		var w Writer
		w.Value(v)
		if string(w.B) != doc {
			t.Fatalf("parsed %s, want %s", w.B, doc)
		}
	}
	buf := []byte(doc)
	v, err := Parse(buf, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range buf {
		buf[i] = 'x'
	}
	want(v)
	for _, bad := range []string{`{"a":[1,{"b":[2,{"c":`, `{"a":{"b":{"a":1,"a":2}}}`, `[[[{"a":[1,2,]}]]]`} {
		if _, err := Parse([]byte(bad), Limits{}); err == nil {
			t.Fatalf("%s parsed", bad)
		}
		v, err := Parse([]byte(doc), Limits{})
		if err != nil {
			t.Fatalf("after %s: %v", bad, err)
		}
		want(v)
	}
	// Names are unique per object, not across nesting levels.
	if _, err := Parse([]byte(`{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}`), Limits{}); err != nil {
		t.Errorf("the same name at other levels: %v", err)
	}
	if _, err := Parse([]byte(`{"a":{"b":1},"a":2}`), Limits{}); !errors.Is(err, ErrDuplicateName) {
		t.Errorf("a name repeated after a nested object: %v", err)
	}
}

func mustGet(t *testing.T, v Value, name string) Value {
	t.Helper()
	m, ok := v.Get(name)
	if !ok {
		t.Fatalf("member %q missing", name)
	}
	return m
}

func TestInt(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"-1", -1, true},
		{"1700000000", 1700000000, true},
		{"9223372036854775807", 1<<63 - 1, true},
		{"-9223372036854775808", -1 << 63, true},
		{"9223372036854775808", 0, false},
		{"-9223372036854775809", 0, false},
		{"99999999999999999999", 0, false},
		{"-0", 0, false},
		{"1.0", 0, false},
		{"1e3", 0, false},
		{"10E0", 0, false},
		{"1.5", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			v, err := Parse([]byte(tc.in), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			got, ok := v.Int()
			if got != tc.want || ok != tc.ok {
				t.Fatalf("Int(%s) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
	if _, ok := (Value{kind: String, s: "1"}).Int(); ok {
		t.Error("a string is not an integer")
	}
}

func TestWriterMatchesEncodingJSON(t *testing.T) {
	strs := []string{"", "plain", "q\"b\\s/", "<script>&amp;", "\x00\x01\x1f\b\f\n\r\t", "\u2028\u2029", "é😀", "bad\xffutf8\xc0", "\x7f"}
	for _, s := range strs {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
	}
	var w Writer
	w.BeginObject()
	w.Name("a")
	w.Strings([]string{"x", "y"})
	w.Name("b")
	w.BeginObject()
	w.EndObject()
	w.Name("c")
	w.Int(-5)
	w.Name("d")
	w.Bool(false)
	w.Name("e")
	w.Null()
	w.Name("f")
	w.Raw([]byte(`1.5`))
	w.Name("g")
	w.BeginArray()
	w.BeginArray()
	w.EndArray()
	w.Int(1)
	w.EndArray()
	w.EndObject()
	const want = `{"a":["x","y"],"b":{},"c":-5,"d":false,"e":null,"f":1.5,"g":[[],1]}`
	if string(w.B) != want {
		t.Fatalf("Writer wrote %s, want %s", w.B, want)
	}
}

// toAny converts a Value to what encoding/json's UseNumber decoding produces.
func toAny(v Value) any {
	switch v.Kind() {
	case Bool:
		return v.b
	case Number:
		return json.Number(v.s)
	case String:
		return v.s
	case Array:
		out := []any{}
		for _, e := range v.arr {
			out = append(out, toAny(e))
		}
		return out
	case Object:
		out := map[string]any{}
		for _, m := range v.obj {
			out[m.Name] = toAny(m.Value)
		}
		return out
	}
	return nil
}

func decodeStd(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

// FuzzStrictJSON checks Parse against encoding/json: whatever Parse accepts,
// encoding/json accepts and decodes to the same value; whatever encoding/json accepts
// and Parse refuses is refused for one of the documented strict reasons; and writing a
// parsed value back out parses to the same value.
func FuzzStrictJSON(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `{"a":[1,2,{"b":null}],"c":"\u00e9"}`, `{"a":1,"a":2}`,
		`"\ud800"`, `"\ud83d\ude00"`, `-0.5e-7`, `[[[[[[]]]]]]`, "\"\xff\"", `{"a":1,"\u0061":2}`, `1 2`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Parse(data, Limits{})
		stdValid := json.Valid(data)
		if err == nil {
			if !stdValid {
				t.Fatalf("strict accepted what encoding/json refuses: %q", data)
			}
			std, err := decodeStd(data)
			if err != nil {
				t.Fatal(err)
			}
			if got := toAny(v); !reflect.DeepEqual(got, std) {
				t.Fatalf("value differs for %q:\nstrict %#v\nstd    %#v", data, got, std)
			}
			var w Writer
			w.Value(v)
			v2, err := Parse(w.B, Limits{MaxBytes: 8 * DefaultMaxBytes})
			if err != nil || !reflect.DeepEqual(toAny(v2), toAny(v)) {
				t.Fatalf("round trip of %q via %q failed: %v", data, w.B, err)
			}
			return
		}
		if !stdValid {
			return
		}
		switch {
		case errors.Is(err, ErrDuplicateName), errors.Is(err, ErrTooDeep), errors.Is(err, ErrTooLarge):
		case errors.Is(err, ErrInvalidUTF8):
			if utf8.Valid(data) && !hasSurrogateEscape(data) {
				t.Fatalf("ErrInvalidUTF8 for valid UTF-8 without surrogate escapes: %q", data)
			}
		default:
			t.Fatalf("strict refused valid JSON %q: %v", data, err)
		}
	})
}

func hasSurrogateEscape(data []byte) bool {
	s := strings.ToLower(string(data))
	for _, p := range []string{`\ud8`, `\ud9`, `\uda`, `\udb`, `\udc`, `\udd`, `\ude`, `\udf`} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

func ExampleWriter() {
	var w Writer
	w.BeginObject()
	w.Name("sub")
	w.String("user<1>")
	w.Name("roles")
	w.Strings([]string{"admin"})
	w.Name("exp")
	w.Int(1700000600)
	w.EndObject()
	fmt.Println(string(w.B))
	// Output: {"sub":"user\u003c1\u003e","roles":["admin"],"exp":1700000600}
}

func ExampleParse() {
	v, err := Parse([]byte(`{"exp":1700000600,"nbf":1e3}`), Limits{MaxBytes: 1024, MaxDepth: 4})
	if err != nil {
		panic(err)
	}
	exp, _ := v.Get("exp")
	nbf, _ := v.Get("nbf")
	e, okE := exp.Int()
	_, okN := nbf.Int()
	fmt.Println(e, okE, okN)
	_, err = Parse([]byte(`{"a":1,"a":2}`), Limits{})
	fmt.Println(err)
	// Output:
	// 1700000600 true false
	// strictjson: duplicate member name
}

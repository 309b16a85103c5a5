package words

import (
	"strings"
	"testing"
)

// The simple byte loops each function replaces.

func refIndexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func refASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func refEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// maxLen covers the short strings (0-7 bytes), every remainder past the two-word steps
// (an extra word or not, an overlapping last word or not) and three steps.
const maxLen = 50

// base is a string of n bytes none of which is special to the tests (0x41 + i%26).
func base(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'A' + byte(i%26)
	}
	return b
}

// interesting bytes: zero, the SWAR borrow cases (0x01, 0x80, 0x81, 0xFF), the bytes the
// gate looks for, and neighbours of each.
var interesting = []byte{0x00, 0x01, 0x02, '\t', ' ', '"', ';', ':', '<', '=', '>', 'A', 0x7F, 0x80, 0x81, 0xC3, 0xFE, 0xFF}

func TestIndexByte(t *testing.T) {
	for n := 0; n <= maxLen; n++ {
		for _, c := range interesting {
			s := base(n)
			if got, want := IndexByte(string(s), c), refIndexByte(string(s), c); got != want {
				t.Fatalf("len %d, byte %#x absent: %d, want %d", n, c, got, want)
			}
			for i := 0; i < n; i++ {
				// c at i alone; then c at i with every other byte one above or below c
				// (where a borrow could make a false match); then c at i and after it.
				for _, fill := range []byte{'A', c + 1, c - 1, c ^ 0x80} {
					s := base(n)
					if fill != 'A' {
						for j := range s {
							s[j] = fill
						}
					}
					s[i] = c
					if got, want := IndexByte(string(s), c), refIndexByte(string(s), c); got != want {
						t.Fatalf("len %d, byte %#x at %d, fill %#x: %d, want %d", n, c, i, fill, got, want)
					}
					if i+1 < n {
						s[n-1] = c
						if got, want := IndexByte(string(s), c), refIndexByte(string(s), c); got != want {
							t.Fatalf("len %d, byte %#x at %d and %d, fill %#x: %d, want %d", n, c, i, n-1, fill, got, want)
						}
					}
				}
			}
		}
	}
}

func TestASCII(t *testing.T) {
	for n := 0; n <= maxLen; n++ {
		s := base(n)
		if !ASCII(string(s)) {
			t.Fatalf("len %d: ASCII string refused", n)
		}
		for i := 0; i < n; i++ {
			for c := 0; c < 256; c++ {
				s := base(n)
				s[i] = byte(c)
				if got, want := ASCII(string(s)), refASCII(string(s)); got != want {
					t.Fatalf("len %d, byte %#x at %d: %v, want %v", n, c, i, got, want)
				}
			}
		}
	}
}

func TestEqual(t *testing.T) {
	for n := 0; n <= maxLen; n++ {
		a := string(base(n))
		if !Equal(a, strings.Clone(a)) {
			t.Fatalf("len %d: equal strings differ", n)
		}
		if n > 0 && (Equal(a, a[:n-1]) || Equal(a[:n-1], a)) {
			t.Fatalf("len %d: strings of different lengths equal", n)
		}
		for i := 0; i < n; i++ {
			for _, d := range []byte{0x01, 0x80, 0xFF} {
				b := base(n)
				b[i] ^= d
				if got, want := Equal(a, string(b)), refEqual(a, string(b)); got != want {
					t.Fatalf("len %d, byte %d differing by %#x: %v, want %v", n, i, d, got, want)
				}
				if got := Equal(string(b), a); got {
					t.Fatalf("len %d, byte %d differing by %#x: equal (reversed)", n, i, d)
				}
			}
		}
	}
}

// TestOffsets runs the functions on substrings at every offset (unaligned loads).
func TestOffsets(t *testing.T) {
	whole := string(base(64)) + ";" + string(base(64))
	for off := 0; off < 16; off++ {
		for end := off; end <= len(whole); end++ {
			s := whole[off:end]
			if got, want := IndexByte(s, ';'), refIndexByte(s, ';'); got != want {
				t.Fatalf("[%d:%d]: IndexByte %d, want %d", off, end, got, want)
			}
			if !ASCII(s) || !Equal(s, strings.Clone(s)) {
				t.Fatalf("[%d:%d]: ASCII or Equal wrong", off, end)
			}
		}
	}
}

func FuzzWords(f *testing.F) {
	f.Add("theme=dark; __Host-edgeauth=eyJhbGciOiJFZERTQSJ9", byte(';'), "x")
	f.Fuzz(func(t *testing.T, s string, c byte, o string) {
		if got, want := IndexByte(s, c), refIndexByte(s, c); got != want {
			t.Fatalf("IndexByte(%q, %#x) = %d, want %d", s, c, got, want)
		}
		if got, want := ASCII(s), refASCII(s); got != want {
			t.Fatalf("ASCII(%q) = %v, want %v", s, got, want)
		}
		if got, want := Equal(s, o), refEqual(s, o); got != want {
			t.Fatalf("Equal(%q, %q) = %v, want %v", s, o, got, want)
		}
	})
}

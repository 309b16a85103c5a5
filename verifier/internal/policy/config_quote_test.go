package policy

import (
	"strconv"
	"testing"
)

// Quote must give strconv.QuoteToASCII's output (it replaces it to keep strconv's
// tables out of the module).
func TestQuoteMatchesStrconv(t *testing.T) {
	inputs := []string{"", "/app", `a"b\c`, "tab\there\nnew\r\a\b\f\v", "\x00\x1f\x7f", "caf\u00e9",
		"\u2028\ufffd", "\U0001f600 smile", "\U00100000 \U0010ffff plane 16", "bad \xff\xfe utf8", "\xed\xa0\x80 surrogate", "\xf4\x90\x80\x80 too big"}
	for b := 0; b < 256; b++ {
		inputs = append(inputs, string([]byte{byte(b)}), "x"+string([]byte{byte(b), 0x80}))
	}
	for _, in := range inputs {
		if got, want := Quote(in), strconv.QuoteToASCII(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

func FuzzQuote(f *testing.F) {
	f.Add("caf\u00e9 \xff")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Quote(s), strconv.QuoteToASCII(s); got != want {
			t.Fatalf("Quote(%q) = %s, want %s", s, got, want)
		}
	})
}

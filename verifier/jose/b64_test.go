package jose

import (
	"bytes"
	"crypto/elliptic"
	"encoding/base64"
	"testing"
)

func TestDecodeB64(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []byte // nil: refused
	}{
		{"empty", "", []byte{}},
		{"one byte", "AA", []byte{0}},
		{"two bytes", "AAE", []byte{0, 1}},
		{"three bytes", "AAEC", []byte{0, 1, 2}},
		{"url alphabet", "-_-_", []byte{0xfb, 0xff, 0xbf}},
		{"length 1 mod 4", "AAAAA", nil},
		{"single char", "A", nil},
		{"padding", "AA==", nil},
		{"padding single", "AAE=", nil},
		{"plus", "+/+/", nil},
		{"newline", "AA\nA", nil},
		{"space", "AA A", nil},
		{"trailing bits in 2-char tail", "AB", nil},
		{"trailing bits in 3-char tail", "AAF", nil},
		{"non-ascii", "AA\xc3\xa9", nil},
		{"nul", "AA\x00A", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := decodeB64([]byte(tc.in))
			if tc.want == nil {
				if ok {
					t.Fatalf("decodeB64(%q) accepted: %x", tc.in, got)
				}
				return
			}
			if !ok || !bytes.Equal(got, tc.want) {
				t.Fatalf("decodeB64(%q) = %x, %v; want %x", tc.in, got, ok, tc.want)
			}
		})
	}
}

// FuzzB64 checks the decoder against encoding/base64's strict raw URL decoder, which
// refuses the same inputs apart from CR and LF, which it skips.
func FuzzB64(f *testing.F) {
	for _, s := range []string{"", "AA", "AB", "AAE", "AAF", "-_", "AA==", "A\nA"} {
		f.Add([]byte(s))
	}
	std := base64.RawURLEncoding.Strict()
	f.Fuzz(func(t *testing.T, in []byte) {
		got, ok := decodeB64(in)
		want, err := std.DecodeString(string(in))
		if bytes.ContainsAny(in, "\r\n") {
			if ok {
				t.Fatalf("accepted CR/LF in %q", in)
			}
			return
		}
		if ok != (err == nil) || (ok && !bytes.Equal(got, want)) {
			t.Fatalf("decodeB64(%q) = %x, %v; encoding/base64: %x, %v", in, got, ok, want, err)
		}
		if ok && std.EncodeToString(got) != string(in) {
			t.Fatalf("accepted non-canonical %q", in)
		}
	})
}

func TestTypMatches(t *testing.T) {
	cases := []struct {
		got  string
		want bool
	}{
		{"at+jwt", true},
		{"application/at+jwt", true},
		{"APPLICATION/at+jwt", true},
		{"Application/at+jwt", true},
		{"application/AT+JWT", false},
		{"AT+JWT", false},
		{"at+jwt ", false},
		{"application/ at+jwt", false},
		{"text/at+jwt", false},
		{"applicationXat+jwt", false},
		{"", false},
	}
	for _, tc := range cases {
		if got := typMatches(tc.got, "at+jwt"); got != tc.want {
			t.Errorf("typMatches(%q) = %v, want %v", tc.got, got, tc.want)
		}
	}
}

func TestAddSat(t *testing.T) {
	const max = 1<<63 - 1
	if addSat(max-1, 300) != max || addSat(5, 3) != 8 || addSat(-1<<63, 300) != -1<<63+300 {
		t.Fatal("addSat")
	}
}

func TestScalarInRange(t *testing.T) {
	n := p256Order[:]
	if !bytes.Equal(n, elliptic.P256().Params().N.FillBytes(make([]byte, 32))) {
		t.Fatal("p256Order is not the P-256 group order")
	}
	minus1 := append([]byte{}, n...)
	minus1[31]--
	plus1 := append([]byte{}, n...)
	plus1[31]++
	one := make([]byte, 32)
	one[31] = 1
	max := bytes.Repeat([]byte{0xff}, 32)
	for _, tc := range []struct {
		name string
		v    []byte
		want bool
	}{
		{"zero", make([]byte, 32), false},
		{"one", one, true},
		{"n-1", minus1, true},
		{"n", n, false},
		{"n+1", plus1, false},
		{"2^256-1", max, false},
	} {
		if got := scalarInRange(tc.v); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

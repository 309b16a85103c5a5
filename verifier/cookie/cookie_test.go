package cookie

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/verifier/abi"
)

func TestGet(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		cookie  string
		want    Match
		wantErr error
	}{
		{"no headers", nil, "at", Match{}, nil},
		{"single", []string{"at=abc"}, "at", Match{"abc", 1}, nil},
		{"among others", []string{"a=1; at=abc; b=2"}, "at", Match{"abc", 1}, nil},
		{"no space after semicolon", []string{"a=1;at=abc;b=2"}, "at", Match{"abc", 1}, nil},
		{"OWS tabs and spaces", []string{"a=1 \t;\t at = abc \t; b=2"}, "at", Match{"abc", 1}, nil},
		{"second header", []string{"a=1", "b=2; at=xyz"}, "at", Match{"xyz", 1}, nil},
		{"case sensitive name", []string{"AT=abc; At=def"}, "at", Match{}, nil},
		{"prefix of another name", []string{"at2=abc; xat=def"}, "at", Match{}, nil},
		{"quoted value", []string{`at="abc"`}, "at", Match{"abc", 1}, nil},
		{"lone quote kept", []string{`at="abc`}, "at", Match{`"abc`, 1}, nil},
		{"empty value", []string{"at=; b=2"}, "at", Match{"", 1}, nil},
		{"empty quoted value", []string{`at=""`}, "at", Match{"", 1}, nil},
		{"value with equals", []string{"at=a=b=="}, "at", Match{"a=b==", 1}, nil},
		{"malformed pair skipped", []string{"garbage; at=abc; more garbage"}, "at", Match{"abc", 1}, nil},
		{"pair named like cookie without =", []string{"at; b=1"}, "at", Match{}, nil},
		{"empty segments", []string{";; ; at=abc;;"}, "at", Match{"abc", 1}, nil},
		{"duplicate in one header", []string{"at=one; at=two"}, "at", Match{"one", 2}, nil},
		{"duplicate across headers", []string{"at=one", "at=two"}, "at", Match{"one", 2}, nil},
		{"triplicate capped at 2", []string{"at=1; at=2; at=3"}, "at", Match{"1", 2}, nil},
		{"duplicate empty and full", []string{"at=; at=two"}, "at", Match{"", 2}, nil},
		{"nameless cookie ignored", []string{"=abc"}, "at", Match{}, nil},
		{"host prefix name", []string{"__Host-at=abc"}, "__Host-at", Match{"abc", 1}, nil},
		{"empty name lookup", []string{"=abc"}, "", Match{}, nil},
		{"too many pairs", []string{strings.Repeat("x=1;", MaxCookies+1)}, "at", Match{}, ErrLimit},
		{"too many malformed pairs", []string{strings.Repeat("x;", MaxCookies+1)}, "at", Match{}, ErrLimit},
		{"exactly max pairs", []string{strings.Repeat("x=1;", MaxCookies-1) + "at=ok"}, "at", Match{"ok", 1}, nil},
		{"too large", []string{"at=" + strings.Repeat("a", MaxBytes)}, "at", Match{}, ErrLimit},
		{"too large over headers", []string{strings.Repeat("a", MaxBytes/2), strings.Repeat("b", MaxBytes/2+1)}, "at", Match{}, ErrLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Get(tt.headers, tt.cookie)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("Get = %+v, want %+v", got, tt.want)
			}
			if got.Found() != (tt.want.Count == 1) || got.Duplicated() != (tt.want.Count == 2) {
				t.Fatalf("Found/Duplicated inconsistent for %+v", got)
			}
			// Get2 must agree with Get for either position.
			a, b, err2 := Get2(tt.headers, tt.cookie, "other-name")
			if !errors.Is(err2, tt.wantErr) || a != tt.want || (err2 == nil && b.Count != 0 && tt.cookie != "other-name") {
				t.Fatalf("Get2 = %+v %+v %v", a, b, err2)
			}
		})
	}
}

func TestLimitErrorIsInvalidRequest(t *testing.T) {
	if !errors.Is(ErrLimit, abi.ErrInvalidRequest) {
		t.Fatal("ErrLimit must wrap abi.ErrInvalidRequest so the ABI reports StatusInvalidRequest")
	}
}

func TestGet2(t *testing.T) {
	a, r, err := Get2([]string{"at=1; rt=2", "rt=3"}, "at", "rt")
	if err != nil || a != (Match{"1", 1}) || r != (Match{"2", 2}) {
		t.Fatalf("Get2 = %+v %+v %v", a, r, err)
	}
}

func TestScannerOrder(t *testing.T) {
	s := NewScanner([]string{` a = 1 ;bad; b="2"`, "", "c="})
	var got []string
	for s.Next() {
		got = append(got, s.Name()+":"+s.Value())
	}
	if s.Err() != nil || strings.Join(got, ",") != "a:1,b:2,c:" {
		t.Fatalf("pairs %q, err %v", got, s.Err())
	}
}

func TestIsToken(t *testing.T) {
	for _, ok := range []string{"at", "__Host-edgeauth_at", "a.b~c!"} {
		if !IsToken(ok) {
			t.Errorf("IsToken(%q) = false", ok)
		}
	}
	for _, bad := range []string{"", "a b", "a=b", "a;b", `a"b`, "a,b", "é", "a\x00", "a(b)", "a/b"} {
		if IsToken(bad) {
			t.Errorf("IsToken(%q) = true", bad)
		}
	}
}

func TestGetDoesNotAllocate(t *testing.T) {
	h := []string{"theme=dark; __Host-at=eyJhbGciOiJFZERTQSJ9.e30.sig; _ga=GA1.1.1"}
	allocs := testing.AllocsPerRun(100, func() {
		if m, _ := Get(h, "__Host-at"); !m.Found() {
			t.Fatal("not found")
		}
	})
	if allocs != 0 {
		t.Fatalf("Get allocates %v times", allocs)
	}
}

// FuzzCookieHeader checks Get, Get2 (the gate's lookup) and the Scanner against
// refPairs, the package comment's rules written with package strings: the same pairs
// in the same order, the same first value and count (capped at 2) for the names
// looked up, and ErrLimit exactly when the headers pass MaxBytes or MaxCookies.
func FuzzCookieHeader(f *testing.F) {
	for _, s := range []string{"at=abc", "a=1; at=2", `at="q"`, "at=1;at=2", "x;y;=;==;at", " \t; at = v ;", "", `rt=""; at="`, "at=\x00;\tat\t=\t\"\"\t"} {
		f.Add(s, "at=second; rt=r")
	}
	f.Add(strings.Repeat("a;", MaxCookies)+"at=1", "")
	f.Add(strings.Repeat(";", MaxCookies)+"at=1", "rt=2")
	f.Fuzz(func(t *testing.T, h1, h2 string) {
		headers := []string{h1, h2}
		want, ok := refPairs(headers)
		lookup := func(name string) Match {
			var m Match
			for _, p := range want {
				if p[0] == name {
					m = m.add(p[1])
				}
			}
			return m
		}
		m, err := Get(headers, "at")
		ma, mr, err2 := Get2(headers, "at", "rt")
		if !ok {
			if !errors.Is(err, ErrLimit) || !errors.Is(err2, ErrLimit) || !errors.Is(err, abi.ErrInvalidRequest) {
				t.Fatalf("%q: over the limits, Get %v, Get2 %v", headers, err, err2)
			}
			return
		}
		if err != nil || err2 != nil {
			t.Fatalf("%q: Get %v, Get2 %v", headers, err, err2)
		}
		if m != lookup("at") || ma != lookup("at") || mr != lookup("rt") {
			t.Fatalf("%q: Get %+v, Get2 %+v %+v; reference %+v %+v", headers, m, ma, mr, lookup("at"), lookup("rt"))
		}
		var got [][2]string
		for s := NewScanner(headers); s.Next(); {
			got = append(got, [2]string{s.Name(), s.Value()})
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: scanned %q, reference %q", headers, got, want)
		}
	})
}

// refPairs reads the headers as the package comment says, with package strings: pairs
// split at ";", white space (SP, HTAB) trimmed around pairs, names and values, empty
// pieces ignored, pieces without "=" counted but skipped, one pair of surrounding
// double quotes removed from a value. ok is false past MaxBytes or MaxCookies.
func refPairs(headers []string) (pairs [][2]string, ok bool) {
	if len(strings.Join(headers, "")) > MaxBytes {
		return nil, false
	}
	n := 0
	for _, h := range headers {
		for _, piece := range strings.Split(h, ";") {
			piece = strings.Trim(piece, " \t")
			if piece == "" {
				continue
			}
			if n++; n > MaxCookies {
				return nil, false
			}
			name, value, found := strings.Cut(piece, "=")
			if !found {
				continue
			}
			value = strings.Trim(value, " \t")
			if len(value) >= 2 && strings.HasPrefix(value, `"`) && strings.HasSuffix(value, `"`) {
				value = value[1 : len(value)-1]
			}
			pairs = append(pairs, [2]string{strings.Trim(name, " \t"), value})
		}
	}
	return pairs, true
}

func ExampleGet() {
	m, _ := Get([]string{"theme=dark; __Host-at=token1"}, "__Host-at")
	fmt.Println(m.Found(), m.Value)
	// A second header carrying the same name: refused by the gate, not guessed.
	m, _ = Get([]string{"theme=dark; __Host-at=token1", "__Host-at=token2"}, "__Host-at")
	fmt.Println(m.Found(), m.Duplicated())
	// Output:
	// true token1
	// false true
}

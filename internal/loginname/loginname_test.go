package loginname_test

import (
	"testing"

	"github.com/edgeauth/edgeauth/internal/loginname"
)

func TestKey(t *testing.T) {
	for _, c := range []struct{ name, a, b string }{
		{"case", "Ada@Example.COM", "ada@example.com"},
		{"spaces", " ada@example.com\t", "ada@example.com"},
		{"fullwidth", "ＡＤＡ＠ｅｘａｍｐｌｅ．ｃｏｍ", "ada@example.com"},
		{"decomposed", "jose\u0301", "jos\u00e9"},
		{"decomposed upper", "JOSE\u0301", "jos\u00e9"},
		{"sharp s", "Stra\u00dfe", "STRASSE"},
		{"kelvin sign", "\u212a", "k"},
		{"final sigma", "\u039f\u03a3", "\u03bf\u03c2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if ka, kb := loginname.Key(c.a), loginname.Key(c.b); ka != kb {
				t.Errorf("Key(%q) = %q, Key(%q) = %q", c.a, ka, c.b, kb)
			}
		})
	}
	for _, c := range [][2]string{{"ada@example.com", "ada@example.co"}, {"a.da@example.com", "ada@example.com"}, {"\u00e5", "a"}} {
		if loginname.Key(c[0]) == loginname.Key(c[1]) {
			t.Errorf("%q and %q have one key", c[0], c[1])
		}
	}
}

package policy

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzReturnTo checks the open-redirect guarantees with net/url as the judge: any
// return_to the policy puts into a login URL decodes (once, as the login page does)
// to a same-origin relative reference without scheme, host or control characters,
// and AfterLoginTarget only ever returns such a reference.
func FuzzReturnTo(f *testing.F) {
	for _, s := range []string{"/a", "//evil.com", "/\\evil.com", "/%2F%2Fevil.com", "https://evil.com", "/a%0D%0A", "/%2e%2e/", "/a?b=%2F%2F", "/\t/evil.com"} {
		f.Add(s, "x=1")
	}
	p, err := New(validConfig())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, path, query string) {
		loc := string(p.AppendLoginURL(nil, path, query))
		if loc != "/login" {
			rt, ok := strings.CutPrefix(loc, "/login?return_to=")
			if !ok {
				t.Fatalf("login URL %q", loc)
			}
			v, err := url.QueryUnescape(rt)
			if err != nil {
				t.Fatalf("return_to %q does not decode: %v", rt, err)
			}
			checkSameOrigin(t, v)
		}
		checkSameOrigin(t, p.AfterLoginTarget("return_to="+url.QueryEscape(path+"?"+query)))
		checkSameOrigin(t, p.AfterLoginTarget(query))
	})
}

func checkSameOrigin(t *testing.T, v string) {
	t.Helper()
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(v, "/") ||
		strings.HasPrefix(v, "//") || strings.ContainsAny(v, "\\\r\n\t\x00 ") {
		t.Fatalf("unsafe redirect target %q (%v)", v, err)
	}
	if u.Path != "" && (strings.HasPrefix(u.Path, "//") || strings.Contains(u.Path, "\\")) {
		t.Fatalf("target %q decodes to path %q", v, u.Path)
	}
	for _, r := range u.Path + u.RawQuery {
		if r < 0x20 || r == 0x7f {
			t.Fatalf("target %q carries a control character", v)
		}
	}
}

// FuzzMatch checks that only canonical paths can be public and that a refused path is
// protected (see Policy.Match), and runs the no-bypass property of matchUpstreams on
// every input.
func FuzzMatch(f *testing.F) {
	for _, s := range bypassSeeds {
		f.Add(s)
	}
	p, err := New(validConfig())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, path string) {
		m := p.Match(path)
		canonical := isCanonicalPath(path)
		if !m.Protected && !canonical {
			t.Fatalf("non-canonical %q is public", path)
		}
		if m.NonCanonical == canonical {
			t.Fatalf("%q: NonCanonical=%v but canonical=%v", path, m.NonCanonical, canonical)
		}
		checkNoBypass(t, p, path)
	})
}

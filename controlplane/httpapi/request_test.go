package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/keys"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestSafeReturnTo(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/app", "/app"},
		{"/app/x?y=1&z=%2F#frag", "/app/x?y=1&z=%2F#frag"},
		{"/", "/"},
		{"", "/"},
		{"app", "/"},
		{"//evil.example", "/"},
		{"///evil.example", "/"},
		{"/\\evil.example", "/"},
		{"\\\\evil.example", "/"},
		{"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"/%2Fevil.example", "/"},
		{"/%5Cevil.example", "/"},
		{"/a\tb", "/"},
		{"/a\r\nSet-Cookie: x=y", "/"},
		{"/" + strings.Repeat("a", 3000), "/"},
	} {
		if got := SafeReturnTo(tc.in); got != tc.want {
			t.Errorf("SafeReturnTo(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Whatever comes in, what goes out is "/" or the input, and resolves against any base
// to the base's own host.
func FuzzSafeReturnTo(f *testing.F) {
	for _, s := range []string{"/app", "//x", "/\\x", "/%2F%2Fx", "https://x", "/a?b=//c"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://app.example.com/start")
	f.Fuzz(func(t *testing.T, in string) {
		out := SafeReturnTo(in)
		if out != "/" && out != in {
			t.Fatalf("%q -> %q", in, out)
		}
		u, err := url.Parse(out)
		if err != nil {
			t.Fatalf("%q -> unparseable %q", in, out)
		}
		if r := base.ResolveReference(u); r.Host != base.Host || r.Scheme != base.Scheme {
			t.Fatalf("%q resolves to %s", out, r)
		}
		if strings.HasPrefix(out, "//") || strings.HasPrefix(out, "/\\") {
			t.Fatalf("%q -> %q", in, out)
		}
	})
}

func TestIsJSON(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/json":                  true,
		"application/json; charset=utf-8":   true,
		"Application/JSON; charset=UTF-8":   true,
		"application/json; charset=latin1":  false,
		"application/json; boundary=x":      false,
		"application/x-www-form-urlencoded": false,
		"multipart/form-data; boundary=x":   false,
		"text/plain":                        false,
		"application/jsonx":                 false,
		"":                                  false,
	} {
		if got := isJSON(ct); got != want {
			t.Errorf("isJSON(%q) = %v", ct, got)
		}
	}
}

func TestETagMatch(t *testing.T) {
	const tag = `"abc"`
	for h, want := range map[string]bool{
		`"abc"`:          true,
		`W/"abc"`:        true,
		`"x", "abc"`:     true,
		` "x" ,W/"abc" `: true,
		`*`:              true,
		`"abcd"`:         false,
		`abc`:            false,
		`"x"`:            false,
	} {
		if got := etagMatch(h, tag); got != want {
			t.Errorf("etagMatch(%q) = %v", h, got)
		}
	}
}

// Every declared error has a distinct code and a 4xx/5xx status.
func TestErrorTable(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range allErrors {
		if seen[e.Code] || e.Status < 400 || e.Status > 599 || e.Message == "" {
			t.Errorf("%+v", e)
		}
		seen[e.Code] = true
	}
}

func TestTransient(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"stale keys", fmt.Errorf("sign: %w", keys.ErrStale), true},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"cut mid-query", fmt.Errorf("query: %w", io.ErrUnexpectedEOF), true},
		{"deadline", context.DeadlineExceeded, true},
		{"programming error", errors.New("nil map"), false},
	} {
		if got := transient(tc.err); got != tc.want {
			t.Errorf("%s: transient = %v", tc.name, got)
		}
		if e := asAPIError(tc.err); (e.Status == 503) != tc.want || (!tc.want && e.Status != 500) {
			t.Errorf("%s: status %d", tc.name, e.Status)
		}
	}
}

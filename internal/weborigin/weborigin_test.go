package weborigin_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/internal/weborigin"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"as browsers send it", "https://app.example.com", "https://app.example.com"},
		{"upper-case scheme and host", "HTTPS://App.Example.COM", "https://app.example.com"},
		{"default https port", "https://app.example:443", "https://app.example"},
		{"default http port", "http://app.example:80", "http://app.example"},
		{"https on 80 keeps it", "https://app.example:80", "https://app.example:80"},
		{"other port", "http://localhost:8080", "http://localhost:8080"},
		{"leading zeros in the port", "https://app.example:0443", "https://app.example"},
		{"underscore in a label", "https://my_app.example", "https://my_app.example"},
		{"internationalised host", "https://Bücher.example", "https://xn--bcher-kva.example"},
		{"xn-- host", "https://XN--bcher-kva.example", "https://xn--bcher-kva.example"},
		{"IPv4", "http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"IPv6 compressed", "https://[2001:DB8:0:0::1]:443", "https://[2001:db8::1]"},
		{"IPv6 loopback with port", "http://[::1]:3000", "http://[::1]:3000"},
		{"IPv4-mapped IPv6 in hex", "http://[::ffff:127.0.0.1]", "http://[::ffff:7f00:1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := weborigin.Parse(tc.in)
			if err != nil || got != tc.want {
				t.Fatalf("Parse(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	for _, tc := range []struct{ name, in, why string }{
		{"query", "https://a.example?x", "no path, query"},
		{"empty query", "https://a.example?", "no path, query"},
		{"user", "https://user@a.example", "user"},
		{"path", "https://a.example/", "path"},
		{"fragment", "https://a.example#", "fragment"},
		{"wildcard", "https://*.example", "wildcard"},
		{"percent-encoding", "https://a%2eexample", "escape"},
		{"backslash", "https://a.example\\x", "path"},
		{"space", "https://a .example", "space"},
		{"another scheme", "wss://a.example", "http:// or https://"},
		{"no scheme", "a.example", "http:// or https://"},
		{"null", "null", "http:// or https://"},
		{"empty host", "https://", "host is empty"},
		{"empty port", "https://a.example:", "port is empty"},
		{"port 0", "https://a.example:0", "1..65535"},
		{"port too large", "https://a.example:65536", "1..65535"},
		{"signed port", "https://a.example:+443", "1..65535"},
		{"two colons", "https://a.example:1:2", "1..65535"},
		{"IPv6 without brackets", "https://::1", "host is empty"},
		{"IPv6 unclosed", "https://[::1", "closing ]"},
		{"IPv6 zone", "https://[fe80::1%25eth0]", "escape"},
		{"IPv4 in brackets", "https://[127.0.0.1]", "IPv6"},
		{"junk after IPv6", "https://[::1]x", "only :port"},
		{"short IPv4", "https://127.1", "a.b.c.d"},
		{"hex IPv4", "https://0x7f.0.0.1", "a.b.c.d"},
		{"empty label", "https://a..example", "host name"},
		{"trailing dot", "https://a.example.", "host name"},
		{"leading hyphen", "https://-a.example", "host name"},
		{"bad punycode", "https://xn--a.example", "internationalised"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := weborigin.Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %q, want an error", tc.in, got)
			}
			if !errors.Is(err, weborigin.ErrNotOrigin) || !strings.Contains(err.Error(), tc.why) {
				t.Errorf("Parse(%q): %v, want ErrNotOrigin saying %q", tc.in, err, tc.why)
			}
		})
	}
}

// What Parse returns is an origin as a browser writes it: read again, it is itself,
// and it carries nothing but scheme://host[:port].
func FuzzParse(f *testing.F) {
	for _, s := range []string{"https://App.Example:443", "http://[::ffff:1.2.3.4]:80", "https://Bücher.example", "https://a.example?x", "http://127.0.0.1:08080"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := weborigin.Parse(s)
		if err != nil {
			return
		}
		again, err := weborigin.Parse(o)
		if err != nil || again != o {
			t.Fatalf("Parse(%q) = %q, which reads as %q, %v", s, o, again, err)
		}
		if o != strings.ToLower(o) || strings.ContainsAny(o[strings.Index(o, "://")+3:], "/?#@\\% ") {
			t.Fatalf("Parse(%q) = %q", s, o)
		}
	})
}

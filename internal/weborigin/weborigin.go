// Package weborigin reads a configured web origin (scheme://host[:port]) and writes it
// as a browser serialises it in an Origin header, so that an allow-list of origins can
// be compared with the header character for character. The control plane
// (allowed_origins, public_url) and wsauth (Config.AllowedOrigins) read origins with it.
package weborigin

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// ErrNotOrigin is returned by Parse for a string that is not one origin.
var ErrNotOrigin = errors.New("not an origin")

// Parse checks that s is one origin an Origin header can carry: http or https, "://",
// a host name or an IP literal, an optional port in 1..65535, and nothing else (no
// path, query, fragment, user information, wildcard or percent-encoding). It returns
// the origin as a browser serialises it (RFC 6454 section 6.1 and the WHATWG URL host
// serialiser): scheme and host in lower case, the scheme's default port dropped, an
// internationalised host in its ASCII (xn--) form, an IPv6 address compressed, in
// brackets. Errors wrap ErrNotOrigin and say what is wrong.
func Parse(s string) (string, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	scheme = strings.ToLower(scheme)
	if !ok || (scheme != "http" && scheme != "https") {
		return "", notOrigin("the scheme must be http:// or https://")
	}
	if i := strings.IndexFunc(rest, func(r rune) bool {
		return r <= ' ' || r == 0x7f || strings.ContainsRune("/?#@\\%*", r)
	}); i >= 0 {
		return "", notOrigin("only scheme://host[:port]: no path, query, fragment, user, wildcard, escape or space")
	}
	host, port, err := splitHostPort(rest)
	if err != nil {
		return "", err
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || strings.TrimLeft(port, "0123456789") != "" {
			return "", notOrigin("the port must be a number in 1..65535")
		}
		port = strconv.Itoa(n)
		if port == map[string]string{"https": "443", "http": "80"}[scheme] {
			port = ""
		}
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host, nil
}

// splitHostPort splits host[:port], returning the host serialised and the port as
// written ("" when there is none).
func splitHostPort(hp string) (host, port string, err error) {
	if strings.HasPrefix(hp, "[") {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return "", "", notOrigin("an IPv6 address needs its closing ]")
		}
		a, err := netip.ParseAddr(hp[1:end])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", "", notOrigin("not an IPv6 address in brackets")
		}
		host, rest := ipv6(a), hp[end+1:]
		if rest == "" {
			return host, "", nil
		}
		if port, ok := strings.CutPrefix(rest, ":"); ok && port != "" {
			return host, port, nil
		}
		return "", "", notOrigin("after the IPv6 address only :port")
	}
	name, port, hasPort := strings.Cut(hp, ":")
	if hasPort && port == "" {
		return "", "", notOrigin("the port is empty")
	}
	host, err = hostName(name)
	return host, port, err
}

// hostName serialises a host name or IPv4 address as a browser does, or refuses it.
func hostName(h string) (string, error) {
	if h == "" {
		return "", notOrigin("the host is empty")
	}
	ascii := strings.IndexFunc(h, func(r rune) bool { return r >= 0x80 }) < 0
	if !ascii || strings.Contains(strings.ToLower(h), "xn--") {
		// A browser sends an internationalised host in its ASCII form, and checks the
		// one given in that form.
		a, err := idna.Lookup.ToASCII(h)
		if err == nil && a != h {
			// What is sent must read back as itself ("\xac" is no character: it
			// would be replaced, and sent as no browser sends it).
			var again string
			again, err = idna.Lookup.ToASCII(a)
			if err == nil && again != a {
				err = ErrNotOrigin
			}
		}
		if !utf8.ValidString(h) || err != nil {
			return "", notOrigin("not a valid internationalised host name")
		}
		h = a
	}
	h = strings.ToLower(h)
	labels := strings.Split(h, ".")
	last := labels[len(labels)-1]
	if last != "" && (strings.Trim(last, "0123456789") == "" || strings.HasPrefix(last, "0x")) {
		// A browser reads a host ending in a number as an IPv4 address ("127.1" is
		// 127.0.0.1): only the dotted-decimal form is written as it sends it.
		a, err := netip.ParseAddr(h)
		if err != nil || !a.Is4() {
			return "", notOrigin("an IPv4 address must be written a.b.c.d")
		}
		return a.String(), nil
	}
	for _, l := range labels {
		if l == "" || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") ||
			strings.Trim(l, "abcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			return "", notOrigin("not a host name (letters, digits, '-' and '_' in dot-separated labels)")
		}
	}
	return h, nil
}

// ipv6 writes a as the WHATWG URL serialiser does, in brackets: compressed hexadecimal
// pieces, an embedded IPv4 address in hexadecimal too ("[::ffff:7f00:1]").
func ipv6(a netip.Addr) string {
	if !a.Is4In6() {
		return "[" + a.String() + "]"
	}
	b := a.As16()
	return "[::ffff:" + strconv.FormatUint(uint64(b[12])<<8|uint64(b[13]), 16) + ":" +
		strconv.FormatUint(uint64(b[14])<<8|uint64(b[15]), 16) + "]"
}

func notOrigin(why string) error { return &originError{why} }

type originError struct{ why string }

func (e *originError) Error() string { return "not an origin: " + e.why }
func (e *originError) Is(target error) bool {
	return target == ErrNotOrigin
}

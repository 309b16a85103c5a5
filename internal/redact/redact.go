// Package redact gives the forms of secrets-bearing values that errors and logs may
// quote.
package redact

import (
	"net/url"
	"strings"
)

// URL is a URL as an error or a log line may quote it: without the password of its
// userinfo (basic auth in front of a server, which http.Client sends from the URL, or
// one written there by mistake), with the values of its query hidden and their keys
// kept (a server's ?token= or ?key=, sent with every request: the keys say which URL
// it is, the values are the secrets), and not at all when it does not parse as a URL
// with a host and holds an '@' or a '?'.
func URL(s string) string {
	u, err := url.Parse(s)
	switch {
	case err == nil && u.Opaque == "" && u.User == nil && u.RawQuery == "":
		return s
	case err == nil && u.Opaque == "":
		u.RawQuery = query(u.RawQuery)
		return u.Redacted()
	case strings.ContainsAny(s, "@?"):
		return "(not shown: it may hold credentials)"
	}
	return s
}

// Error is err, or, when err is a *url.Error (what http.Client.Do returns), a copy
// that quotes its URL as URL does: the client strips the password from the URL it
// quotes, not the query, and a fetch's error reaches the log.
func Error(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return &url.Error{Op: ue.Op, URL: URL(ue.URL), Err: ue.Err}
	}
	return err
}

// query is raw with each value replaced by xxxxx (as url.URL.Redacted writes a
// password), its keys and their order kept. A part without '=' is hidden whole: it may
// be a bare token ("?s3cret") as well as a key.
func query(raw string) string {
	if raw == "" {
		return ""
	}
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		switch key, _, ok := strings.Cut(p, "="); {
		case ok:
			parts[i] = key + "=xxxxx"
		case p != "":
			parts[i] = "xxxxx"
		}
	}
	return strings.Join(parts, "&")
}

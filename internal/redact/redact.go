// Package redact gives the forms of secrets-bearing values that errors and logs may
// quote.
package redact

import (
	"net/url"
	"strings"
)

// URL is a URL as an error or a log line may quote it: without the password of its
// userinfo (basic auth in front of a server, which http.Client sends from the URL, or
// one written there by mistake), and not at all when it does not parse as a URL with a
// host and holds an '@'.
func URL(s string) string {
	u, err := url.Parse(s)
	switch {
	case err == nil && u.Opaque == "" && u.User == nil:
		return s
	case err == nil && u.Opaque == "":
		return u.Redacted()
	case strings.Contains(s, "@"):
		return "(not shown: it may hold credentials)"
	}
	return s
}

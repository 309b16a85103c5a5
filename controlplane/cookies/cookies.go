// Package cookies describes the control plane's two cookies (access and refresh) as
// values from which both the setting and the clearing Set-Cookie headers are built, so
// the two can never drift apart: a browser ignores a clearing cookie whose Path,
// Domain or prefix differ from the cookie it should remove.
package cookies

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// Prefixes browsers enforce (RFC 6265bis §4.1.3): __Host- requires Secure, Path=/ and
// no Domain; __Secure- requires Secure.
const (
	HostPrefix   = "__Host-"
	SecurePrefix = "__Secure-"
)

// Spec is one cookie's name and attributes. Build it once (config.Config derives
// both specs) and use Set and Clear on it.
type Spec struct {
	// Name is the full cookie name, prefix included.
	Name   string
	Path   string
	Domain string
	Secure bool
	// SameSite is always explicit: Lax, Strict or None.
	SameSite http.SameSite
	// MaxAge is the lifetime given to a set cookie (rounded down to seconds), the
	// longest one when set with SetUntil.
	MaxAge time.Duration
}

// Cookie returns the cookie that sets value with the spec's attributes. HttpOnly is
// always on: no script ever reads an edgeauth token.
func (s Spec) Cookie(value string) *http.Cookie {
	return &http.Cookie{
		Name:     s.Name,
		Value:    value,
		Path:     s.Path,
		Domain:   s.Domain,
		MaxAge:   int(s.MaxAge / time.Second),
		Secure:   s.Secure,
		HttpOnly: true,
		SameSite: s.SameSite,
	}
}

// CookieUntil is Cookie for a value that is worthless after until (a session's expiry):
// its Max-Age is the spec's, or the time left from now to until when shorter (to the
// nearest second: the stored expiry is rounded to microseconds, and the browser counts
// from when it receives the cookie anyway), so the browser does not keep the cookie
// longer than what it names. At least one second: a zero Max-Age would make a cookie
// without one, kept until the browser closes.
func (s Spec) CookieUntil(value string, until, now time.Time) *http.Cookie {
	c := s.Cookie(value)
	if left := int((until.Sub(now) + time.Second/2) / time.Second); left < c.MaxAge {
		c.MaxAge = max(left, 1)
	}
	return c
}

// ClearCookie returns the cookie that removes this one: the same attributes, an empty
// value and Max-Age=0.
func (s Spec) ClearCookie() *http.Cookie {
	c := s.Cookie("")
	c.MaxAge = -1 // net/http writes a negative MaxAge as "Max-Age=0"
	return c
}

// Set adds the Set-Cookie header that stores value.
func (s Spec) Set(w http.ResponseWriter, value string) { http.SetCookie(w, s.Cookie(value)) }

// SetUntil adds the Set-Cookie header that stores value for at most until (CookieUntil).
func (s Spec) SetUntil(w http.ResponseWriter, value string, until, now time.Time) {
	http.SetCookie(w, s.CookieUntil(value, until, now))
}

// Clear adds the Set-Cookie header that removes the cookie.
func (s Spec) Clear(w http.ResponseWriter) { http.SetCookie(w, s.ClearCookie()) }

// Read returns the cookie's value from r. A cookie sent twice under this name is
// refused (ok false) rather than guessed: one of the two was planted.
func (s Spec) Read(r *http.Request) (value string, ok bool) {
	found := 0
	for _, c := range r.CookiesNamed(s.Name) {
		value = c.Value
		found++
	}
	if found != 1 || value == "" {
		return "", false
	}
	return value, true
}

// MaxValues bounds what Values returns: the copies a browser may hold after a
// configuration change or a sibling's planting, without letting one request name
// hundreds of sessions to look up.
const MaxValues = 8

// Values returns the distinct non-empty values r carries under the cookie's name, at
// most MaxValues of them, in the order the browser sent them. It is for logout, which
// ends the session of each (safe whichever copy was planted), where Read refuses to
// choose one.
func (s Spec) Values(r *http.Request) []string {
	var out []string
	for _, c := range r.CookiesNamed(s.Name) {
		if c.Value != "" && !slices.Contains(out, c.Value) && len(out) < MaxValues {
			out = append(out, c.Value)
		}
	}
	return out
}

// SameSiteName is the attribute's value as written in a Set-Cookie header.
func SameSiteName(m http.SameSite) string {
	switch m {
	case http.SameSiteStrictMode:
		return "Strict"
	case http.SameSiteNoneMode:
		return "None"
	default:
		return "Lax"
	}
}

// ParseSameSite reads "lax", "strict" or "none" (any case).
func ParseSameSite(s string) (http.SameSite, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "lax":
		return http.SameSiteLaxMode, true
	case "strict":
		return http.SameSiteStrictMode, true
	case "none":
		return http.SameSiteNoneMode, true
	}
	return 0, false
}

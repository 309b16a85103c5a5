// Package policy holds the gate's validated configuration and its route policy: which
// paths are public, which need a token and which roles, where the login and refresh
// endpoints are, how return_to is built safely, and the exact Set-Cookie values that
// clear the auth cookies.
//
// A Policy is built once by New, which checks the whole configuration and reports
// every problem at once; after that it is read-only, so matching a path allocates
// nothing for the paths browsers normally send.
//
// The package does not import package verifier (which imports the gate through the
// native engine); Config mirrors verifier.Config field for field.
//
// TinyGo-safe: no reflection, no fmt, no goroutines.
package policy

import (
	"strconv"
	"unicode/utf8"

	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/cookie"
)

// Limits on the configuration.
const (
	MaxLeewaySeconds = 300
	MaxCacheEntries  = 1 << 16
	maxRules         = 256
	maxPathLen       = 1024
)

// Algorithms the verifier implements.
var knownAlgorithms = [...]string{"EdDSA", "ES256", "RS256"}

// Config mirrors verifier.Config (same fields, same meaning; see there).
type Config struct {
	Issuer           string
	Audience         string
	Algorithms       []string
	LeewaySeconds    int64
	AllowBearer      bool
	AccessCookie     Cookie
	RefreshCookie    Cookie
	LoginPath        string
	RefreshPath      string
	LogoutPath       string
	AfterLoginPath   string
	PublicPaths      []string
	Protected        []Route
	DefaultProtected bool
	CacheEntries     int
}

// Route is one protected prefix, the roles it needs (any one suffices; none: any valid
// token) and whether it needs a sign-in with a second factor (the token's amr lists
// "mfa").
type Route struct {
	Prefix string
	Roles  []string
	MFA    bool
}

// Cookie names an auth cookie and the attributes the control plane sets it with.
type Cookie struct {
	Name     string
	Path     string
	Domain   string
	Secure   bool
	HTTPOnly bool
	SameSite string // Strict, Lax or None
}

// ConfigError lists every problem found in a configuration. It wraps
// abi.ErrInvalidConfig.
type ConfigError struct {
	Problems []string
}

func (e *ConfigError) Error() string { return abi.ErrInvalidConfig.Error() + ": " + e.Reason() }

// Reason is what to fix: every problem, separated by "; ". The module writes it as
// configure's output (verifier/ABI.md, "configure"), so every host can show it.
func (e *ConfigError) Reason() string {
	s := ""
	for i, p := range e.Problems {
		if i > 0 {
			s += "; "
		}
		s += p
	}
	return s
}

// Unwrap returns abi.ErrInvalidConfig.
func (e *ConfigError) Unwrap() error { return abi.ErrInvalidConfig }

type problems struct{ list []string }

func (p *problems) add(parts ...string) {
	s := ""
	for _, part := range parts {
		s += part
	}
	p.list = append(p.list, s)
}

func q(s string) string { return Quote(s) }

// shortEscapes are Go's one-letter escapes of control characters.
var shortEscapes = [0x20]byte{'\a': 'a', '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't', '\v': 'v'}

// Quote returns s in double quotes for an error message, exactly as
// strconv.QuoteToASCII does: printable ASCII as is (with \" and \\), every other byte
// or character escaped (\n, \x01, \xff for a byte that is not UTF-8, \u00e9,
// \U0001f600). Not strconv itself: its tables of printable characters would add about
// 10 KB to verifier.wasm's data, which every new instance writes (RATIONALE.md,
// "Instance ready").
func Quote(s string) string {
	const hex = "0123456789abcdef"
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			if c == '"' || c == '\\' {
				b = append(b, '\\')
			}
			b = append(b, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, '\\', 'x', hex[c>>4], hex[c&15])
		case r < 0x20 && shortEscapes[r] != 0:
			b = append(b, '\\', shortEscapes[r])
		case r < 0x20 || r == 0x7f:
			b = append(b, '\\', 'x', hex[r>>4], hex[r&15])
		case r < 0x10000:
			b = append(b, '\\', 'u', hex[r>>12], hex[r>>8&15], hex[r>>4&15], hex[r&15])
		default:
			// Up to U+10FFFF: six digits, the first of them r>>20 (plane 16).
			b = append(b, '\\', 'U', '0', '0', hex[r>>20], hex[r>>16&15], hex[r>>12&15], hex[r>>8&15], hex[r>>4&15], hex[r&15])
		}
		i += size
	}
	return string(append(b, '"'))
}

// validate checks c, filling defaults (algorithms ["EdDSA"], after-login path "/").
func validate(c *Config) []string {
	var p problems
	if c.Issuer == "" {
		p.add("issuer is empty: set it to the control plane's issuer URL")
	}
	if c.Audience == "" {
		p.add("audience is empty: set it to the audience the control plane puts in access tokens")
	}
	if len(c.Algorithms) == 0 {
		c.Algorithms = []string{"EdDSA"}
	}
	for _, a := range c.Algorithms {
		ok := false
		for _, k := range knownAlgorithms {
			ok = ok || a == k
		}
		if !ok {
			p.add("algorithms: ", q(a), " is not supported (use EdDSA, ES256 or RS256)")
		}
	}
	if c.LeewaySeconds < 0 || c.LeewaySeconds > MaxLeewaySeconds {
		p.add("leeway_seconds ", strconv.FormatInt(c.LeewaySeconds, 10), " is outside 0..300")
	}
	if c.CacheEntries < 0 || c.CacheEntries > MaxCacheEntries {
		p.add("cache_entries ", strconv.Itoa(c.CacheEntries), " is outside 0..", strconv.Itoa(MaxCacheEntries))
	}
	checkCookie(&p, "access_cookie", c.AccessCookie)
	checkCookie(&p, "refresh_cookie", c.RefreshCookie)
	if c.AccessCookie.Name != "" && c.AccessCookie.Name == c.RefreshCookie.Name {
		p.add("access_cookie and refresh_cookie have the same name ", q(c.AccessCookie.Name), ": give them different names")
	}

	checkEndpoint(&p, "login_path", c.LoginPath)
	checkEndpoint(&p, "refresh_path", c.RefreshPath)
	if c.LogoutPath != "" {
		checkEndpoint(&p, "logout_path", c.LogoutPath)
	}
	if c.AfterLoginPath == "" {
		c.AfterLoginPath = "/"
	}
	if !SafeReturnTo(c.AfterLoginPath) {
		p.add("after_login_path ", q(c.AfterLoginPath), " must be a same-site relative path such as \"/\"")
	} else if pathOf(c.AfterLoginPath) == c.LoginPath {
		p.add("after_login_path is the login path: a signed-in user would be redirected to it forever; use \"/\" or the app's home page")
	}
	if len(c.PublicPaths)+len(c.Protected) > maxRules {
		p.add("more than ", strconv.Itoa(maxRules), " public_paths and protected rules")
	}
	for i, s := range c.PublicPaths {
		checkRulePath(&p, "public_paths["+strconv.Itoa(i)+"]", s)
	}
	for i, r := range c.Protected {
		name := "protected[" + strconv.Itoa(i) + "]"
		checkRulePath(&p, name+".prefix", r.Prefix)
		for _, role := range r.Roles {
			if role == "" {
				p.add(name, ".roles has an empty role")
			}
		}
	}
	return p.list
}

// checkLoops refuses a configuration in which the login or refresh endpoint needs a
// token: an unauthenticated browser would be redirected to it, need a token there, be
// redirected again, and so on. The logout endpoint must not need one either: a browser
// whose token expired must still be able to end its session.
func checkLoops(pol *Policy) []string {
	var p problems
	for _, ep := range [...]struct{ field, path string }{
		{"login_path", pol.cfg.LoginPath},
		{"refresh_path", pol.cfg.RefreshPath},
		{"logout_path", pol.cfg.LogoutPath},
	} {
		if ep.path == "" || !isCanonicalPath(ep.path) {
			continue // already reported
		}
		m := pol.Match(ep.path)
		if !m.Protected {
			continue
		}
		why := "default_protected is true"
		if m.Rule != "" {
			why = "protected prefix " + q(m.Rule) + " covers it"
		}
		p.add(ep.field, " ", q(ep.path), " needs a token (", why, "), so browsers would be redirected to it in a loop: add ",
			q(ep.path), " to public_paths (a longer public rule beats a shorter protected prefix)")
	}
	return p.list
}

func checkCookie(p *problems, field string, c Cookie) {
	if c.Name == "" {
		p.add(field, ".name is empty")
		return
	}
	if !cookie.IsToken(c.Name) {
		p.add(field, ".name ", q(c.Name), " is not a valid cookie name (RFC 9110 token characters only)")
	}
	if c.Path == "" || c.Path[0] != '/' || !attrSafe(c.Path) {
		p.add(field, ".path ", q(c.Path), " must be the Path the cookie is set with, starting with '/' (a cookie can only be cleared with its exact Path)")
	}
	if c.Domain != "" && !domainSafe(c.Domain) {
		p.add(field, ".domain ", q(c.Domain), " is not a host name")
	}
	switch c.SameSite {
	case "Strict", "Lax":
	case "None":
		if !c.Secure {
			p.add(field, ": SameSite=None needs secure: true (browsers refuse it otherwise)")
		}
	default:
		p.add(field, ".same_site ", q(c.SameSite), " must be Strict, Lax or None")
	}
	// Browsers match the prefixes without regard to case (RFC 6265bis), and refuse a
	// Set-Cookie that breaks their rules: such a cookie could never be cleared.
	if hasPrefixFold(c.Name, "__Host-") {
		if !c.Secure || c.Path != "/" || c.Domain != "" {
			p.add(field, ": a __Host- cookie needs secure: true, path \"/\" and no domain (or rename it __Secure-)")
		}
	} else if hasPrefixFold(c.Name, "__Secure-") && !c.Secure {
		p.add(field, ": a __Secure- cookie needs secure: true")
	}
}

// EndpointPath reports whether path may be the login, refresh or logout path of a
// configuration: the rule checkEndpoint applies.
func EndpointPath(path string) bool {
	return path != "" && path[0] == '/' && isCanonicalPath(path) && len(path) <= maxPathLen
}

func checkEndpoint(p *problems, field, path string) {
	switch {
	case path == "":
		p.add(field, " is empty")
	case path[0] != '/':
		p.add(field, " ", q(path), " must start with '/'")
	case !EndpointPath(path):
		p.add(field, " ", q(path), " is not a canonical path (no query, dot segments, '//', backslash or encoded '/', '\\', '.', NUL)")
	}
}

func checkRulePath(p *problems, field, path string) {
	switch {
	case path == "" || path[0] != '/':
		p.add(field, " ", q(path), " must start with '/'")
	case !isCanonicalPath(path) || len(path) > maxPathLen:
		p.add(field, " ", q(path), " is not a canonical path (no query, dot segments, '//', backslash or encoded '/', '\\', '.', NUL)")
	}
}

// attrSafe reports whether s can be written into a Set-Cookie attribute value
// (no ';', no control characters, no spaces, ASCII only).
func attrSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == ';' || c == ',' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func domainSafe(s string) bool {
	if s[0] == '.' {
		s = s[1:]
	}
	if s == "" || len(s) > 253 || s[0] == '.' || s[len(s)-1] == '.' || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
		if c == '.' && s[i-1] == '.' {
			return false
		}
	}
	return true
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// hasPrefixFold is hasPrefix with ASCII letters compared without regard to case.
func hasPrefixFold(s, p string) bool {
	if len(s) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		a, b := s[i], p[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

func pathOf(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '?' || s[i] == '#' {
			return s[:i]
		}
	}
	return s
}

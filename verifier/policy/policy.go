package policy

// Policy is a validated configuration with its route rules, ready to match paths.
// It is read-only after New and may be shared.
type Policy struct {
	cfg          Config
	clearAccess  string
	clearRefresh string
}

// New validates c and builds its Policy. Every problem is reported in one
// *ConfigError (which wraps abi.ErrInvalidConfig), each saying how to fix it.
// Defaults: algorithms ["EdDSA"], after-login path "/".
func New(c Config) (*Policy, error) {
	c.Algorithms = append([]string(nil), c.Algorithms...)
	c.PublicPaths = append([]string(nil), c.PublicPaths...)
	c.Protected = append([]Route(nil), c.Protected...)
	for i := range c.Protected {
		c.Protected[i].Roles = append([]string(nil), c.Protected[i].Roles...)
	}
	list := validate(&c)
	p := &Policy{cfg: c}
	list = append(list, checkLoops(p)...)
	if len(list) > 0 {
		return nil, &ConfigError{Problems: list}
	}
	p.clearAccess = clearCookie(c.AccessCookie)
	p.clearRefresh = clearCookie(c.RefreshCookie)
	return p, nil
}

// Config returns the validated configuration, defaults filled in. Callers must not
// modify its slices.
func (p *Policy) Config() *Config { return &p.cfg }

// ClearCookies returns the Set-Cookie values that delete the access and the refresh
// cookie: the exact Path, Domain, Secure, HttpOnly and SameSite they are set with,
// an empty value, Max-Age=0 and an Expires in the past (for old clients that ignore
// Max-Age). A browser only replaces a cookie whose name, Path and Domain match.
func (p *Policy) ClearCookies() (access, refresh string) { return p.clearAccess, p.clearRefresh }

func clearCookie(c Cookie) string {
	s := c.Name + "=; Path=" + c.Path
	if c.Domain != "" {
		s += "; Domain=" + c.Domain
	}
	s += "; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0"
	if c.HTTPOnly {
		s += "; HttpOnly"
	}
	if c.Secure {
		s += "; Secure"
	}
	return s + "; SameSite=" + c.SameSite
}

// Match is how the policy treats one request path.
type Match struct {
	// Protected is true when the path needs a valid access token.
	Protected bool
	// Login is true for the login path itself (canonical paths only).
	Login bool
	// NonCanonical is true for paths that are not in canonical form (see
	// Policy.Match); they are always Protected.
	NonCanonical bool
	// Rule is the protected prefix that decided ("" for the default rule).
	Rule string
	// Roles lists the roles of the deciding protected rule: the token must carry one
	// of them (none listed: any valid token).
	Roles []string
	// AlsoRoles, for non-canonical paths only, are the roles of the rule matching the
	// path as an origin server might resolve it; the token must carry one of these
	// too.
	AlsoRoles []string
}

// Match classifies a request path (percent-encoded as received, no query).
//
// For a canonical path, the longest matching rule wins: a public path (exact, or a
// prefix when it ends in '/'; "/" alone means the home page only, not every path:
// "everything public" is DefaultProtected false) or a protected prefix (a plain string prefix, so
// "/admin" also covers "/admin-tools"; "/admin/" covers "/admin" and everything
// below it). On a tie the protected rule wins; when nothing matches,
// DefaultProtected decides.
//
// A path that is not canonical (dot segments, "//", a backslash, ';' path parameters,
// encoded '/', '\', '.', NUL, control or unreserved characters, lowercase or invalid
// percent-encoding, an escape for a character that may appear unencoded, characters
// that must be encoded, no leading '/') is never public:
// the edge and the origin may resolve such a path differently ("/public/../admin",
// "/public%2F..%2Fadmin", "/public\..\admin" on a Windows origin, "/admin;x" on a
// servlet container), and a public match at the edge would then expose a protected
// resource. Such paths are treated as protected (fail closed), and the roles of both
// the literal path and the resolved path are required. Browsers send canonical paths,
// so real users are not affected; an odd client gets a redirect to login or a 403.
//
// Matching is case-sensitive: an origin that routes case-insensitively should protect
// its role-restricted areas with DefaultProtected and rules in every casing it serves.
func (p *Policy) Match(path string) Match {
	if !isCanonicalPath(path) {
		m := Match{Protected: true, NonCanonical: true}
		if r, _ := p.longestProtected(path); r != nil {
			m.Rule, m.Roles = r.Prefix, r.Roles
		}
		if r, _ := p.longestProtected(resolve(path)); r != nil {
			if m.Rule == "" {
				m.Rule = r.Prefix
			}
			m.AlsoRoles = r.Roles
		}
		return m
	}
	m := Match{Login: path == p.cfg.LoginPath}
	pubLen := -1
	for _, s := range p.cfg.PublicPaths {
		if len(s) > pubLen && matchPublic(path, s) {
			pubLen = len(s)
		}
	}
	r, n := p.longestProtected(path)
	switch {
	case r != nil && n >= pubLen:
		m.Protected, m.Rule, m.Roles = true, r.Prefix, r.Roles
	case pubLen >= 0:
	default:
		m.Protected = p.cfg.DefaultProtected
	}
	return m
}

// AuthArea reports whether path belongs to the control plane's auth endpoints: the
// refresh and logout paths and everything under the refresh path's directory
// ("/auth/" for "/auth/refresh"), unless that directory is the root. The control plane sets and clears the auth
// cookies in its own responses there (login, refresh, logout), so the gate must not
// add clearing Set-Cookie headers to them: a host appending them after the control
// plane's would delete the cookies a login or refresh has just set.
func (p *Policy) AuthArea(path string) bool {
	rp := p.cfg.RefreshPath
	if path == rp || (path == p.cfg.LogoutPath && path != "") {
		return true
	}
	dir := rp
	for len(dir) > 0 && dir[len(dir)-1] != '/' {
		dir = dir[:len(dir)-1]
	}
	return len(dir) > 1 && hasPrefix(path, dir)
}

// Satisfied reports whether roles meet the match's role requirements.
func (m *Match) Satisfied(roles []string) bool {
	return hasAny(roles, m.Roles) && hasAny(roles, m.AlsoRoles)
}

func hasAny(have, need []string) bool {
	if len(need) == 0 {
		return true
	}
	for _, n := range need {
		for _, h := range have {
			if h == n {
				return true
			}
		}
	}
	return false
}

func matchPublic(path, rule string) bool {
	if rule[len(rule)-1] == '/' && rule != "/" {
		return hasPrefix(path, rule)
	}
	return path == rule
}

func (p *Policy) longestProtected(path string) (*Route, int) {
	var best *Route
	n := -1
	for i := range p.cfg.Protected {
		r := &p.cfg.Protected[i]
		pre := r.Prefix
		if len(pre) <= n {
			continue
		}
		if hasPrefix(path, pre) || (len(pre) > 1 && pre[len(pre)-1] == '/' && path == pre[:len(pre)-1]) {
			best, n = r, len(pre)
		}
	}
	return best, n
}

// isCanonicalPath reports whether path is in the form browsers send and rules are
// written in: see Policy.Match.
func isCanonicalPath(path string) bool {
	if path == "" || path[0] != '/' {
		return false
	}
	segStart := 1
	for i := 0; i < len(path); i++ {
		c := path[i]
		switch {
		case c == '/':
			if i > 0 && !segmentOK(path[segStart:i]) {
				return false
			}
			if i+1 < len(path) && path[i+1] == '/' {
				return false
			}
			segStart = i + 1
		case c == '%':
			if i+2 >= len(path) || !isUpperHex(path[i+1]) || !isUpperHex(path[i+2]) {
				return false
			}
			// Only bytes that cannot appear raw may be encoded: "%21" for '!' or
			// "%61" for 'a' would give one resource two spellings, and a rule
			// written in one would not see the other.
			b := unhex(path[i+1])<<4 | unhex(path[i+2])
			if isPathChar(b) || b == '/' || b == '\\' || b < 0x20 || b == 0x7f {
				return false
			}
			i += 2
		case !isPathChar(c):
			return false
		}
	}
	return segmentOK(path[segStart:])
}

func segmentOK(seg string) bool { return seg != "." && seg != ".." }

// isPathChar: RFC 3986 pchar characters that may appear unencoded, without ';'.
func isPathChar(c byte) bool {
	if isUnreserved(c) {
		return true
	}
	switch c {
	case '!', '$', '&', '\'', '(', ')', '*', '+', ',', '=', ':', '@':
		return true
	}
	return false
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func isUpperHex(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' }
func isHex(c byte) bool      { return isUpperHex(c) || 'a' <= c && c <= 'f' }

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

const upperHex = "0123456789ABCDEF"

// resolve returns the path a lenient origin could make of a non-canonical path:
// backslashes and percent-encoded '/' or '\' as separators, ';' path parameters
// dropped, other escapes decoded once, empty and dot segments removed; then written
// back in canonical form (see isCanonicalPath), so that the protected rules can be
// matched against it. Used only to find the roles a non-canonical path must also
// satisfy. For a canonical path it returns the path itself (a fuzz test checks this:
// a canonical path has exactly one spelling).
func resolve(path string) string {
	var segs []string
	cur := make([]byte, 0, len(path))
	inParam := false
	for i := 0; i <= len(path); i++ {
		if i == len(path) {
			segs = append(segs, string(cur))
			break
		}
		c := path[i]
		sep := c == '/' || c == '\\'
		if c == '%' && i+2 < len(path) && isHex(path[i+1]) && isHex(path[i+2]) {
			c = unhex(path[i+1])<<4 | unhex(path[i+2])
			i += 2
			sep = c == '/' || c == '\\'
		} else if c == ';' {
			inParam = true
			continue
		}
		switch {
		case sep:
			segs = append(segs, string(cur))
			cur, inParam = cur[:0], false
		case !inParam:
			cur = append(cur, c)
		}
	}
	var kept []string
	for _, seg := range segs {
		switch seg {
		case "", ".":
		case "..":
			if len(kept) > 0 {
				kept = kept[:len(kept)-1]
			}
		default:
			kept = append(kept, seg)
		}
	}
	last := segs[len(segs)-1]
	out := make([]byte, 0, len(path)+8)
	for _, seg := range kept {
		out = append(out, '/')
		for i := 0; i < len(seg); i++ {
			if c := seg[i]; isPathChar(c) {
				out = append(out, c)
			} else {
				out = append(out, '%', upperHex[c>>4], upperHex[c&15])
			}
		}
	}
	if len(out) == 0 || last == "" || last == "." || last == ".." {
		out = append(out, '/')
	}
	return string(out)
}

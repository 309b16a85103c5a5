package policy

import (
	"strconv"

	"github.com/edgeauth/edgeauth/verifier/internal/words"
)

// Policy is a validated configuration with its route rules, ready to match paths.
// It is read-only after New and may be shared.
type Policy struct {
	cfg          Config
	clearAccess  string
	clearRefresh string
	// publicFolds and protectedFolds are the folds of the rules' paths (see fold),
	// in the order of cfg.PublicPaths and cfg.Protected.
	publicFolds, protectedFolds []string
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
	p.publicFolds = make([]string, len(c.PublicPaths))
	for i, s := range c.PublicPaths {
		p.publicFolds[i] = foldRule(s)
	}
	p.protectedFolds = make([]string, len(c.Protected))
	for i, r := range c.Protected {
		p.protectedFolds[i] = foldRule(r.Prefix)
		if !words.ASCII(p.protectedFolds[i]) {
			list = append(list, "protected["+strconv.Itoa(i)+"].prefix "+q(c.Protected[i].Prefix)+
				" names non-ASCII characters, which upstreams read in other cases and compositions"+
				" (\"%C3%9C\" for \"%C3%BC\", \"u%CC%88\"): the rule could not hold for every spelling; use an ASCII prefix")
		}
	}
	list = append(list, checkLoops(p)...)
	if len(list) > 0 {
		return nil, &ConfigError{Problems: list}
	}
	p.clearAccess = clearCookie(c.AccessCookie)
	p.clearRefresh = clearCookie(c.RefreshCookie)
	return p, nil
}

// foldRule folds a rule's path (see fold). A canonical path always folds; one that
// does not is refused by validation and kept as it is meanwhile.
func foldRule(path string) string {
	if f, ok := fold(path); ok {
		return f
	}
	return path
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
	// Invalid is true for a path the gate refuses outright: no upstream should be
	// asked to read it (see Policy.Match).
	Invalid bool
	// Rule is the protected prefix that decided ("" for the default rule).
	Rule string
	// MFA is true when a rule that applies needs a sign-in with a second factor.
	MFA bool
	// rules are the protected rules whose roles the token must meet, one role of each
	// (none listed: any valid token). Most paths need one; more spill into extra.
	rules [4]*Route
	n     int
	extra []*Route
}

func (m *Match) require(r *Route) {
	m.MFA = m.MFA || r.MFA
	for i := 0; i < m.n && i < len(m.rules); i++ {
		if m.rules[i] == r {
			return
		}
	}
	for _, e := range m.extra {
		if e == r {
			return
		}
	}
	if m.n < len(m.rules) {
		m.rules[m.n] = r
	} else {
		m.extra = append(m.extra, r)
	}
	m.n++
}

// Roles returns the role lists the token must meet: one role of each list (tests and
// diagnostics; it allocates).
func (m *Match) Roles() [][]string {
	var out [][]string
	for i := 0; i < m.n; i++ {
		if r := m.rule(i); len(r.Roles) > 0 {
			out = append(out, r.Roles)
		}
	}
	return out
}

func (m *Match) rule(i int) *Route {
	if i < len(m.rules) {
		return m.rules[i]
	}
	return m.extra[i-len(m.rules)]
}

// Match classifies a request path (percent-encoded as received, no query).
//
// The gate decides on the path it sees, but the upstream serves the resource the path
// names in its own reading, and upstreams read paths differently: some ignore letter
// case, decode twice, take '\' for '/', drop ";parameters", trim trailing dots and
// spaces, or map "ı" or fullwidth letters to ASCII. So a protected rule must hold for
// every spelling an upstream may serve as its path. The rule, failing closed:
//
//  1. A path that no upstream should be asked to read is Invalid, and refused: control
//     characters or NUL, invalid UTF-8, more than 8 levels of percent-encoding, or a
//     segment of only dots and spaces ("..", "%2E%2E", "..;x", ". ."; browsers resolve
//     dot segments before they send a URL). See fold.
//  2. Public rules match the path literally, and only a canonical path (see
//     isCanonicalPath: the form browsers send) can be public. Public paths are exact,
//     or prefixes when they end in '/'; "/" alone means the home page only.
//  3. Protected rules match the path literally (a plain string prefix: "/admin" also
//     covers "/admin-tools"; "/admin/" covers "/admin" and everything below it) and
//     also its fold (see fold: the path as the most lenient upstream reads it,
//     lower-cased), against the fold of their prefix.
//  4. The literal match decides as before: the longest literal rule wins, the
//     protected one on a tie, DefaultProtected when none matches. On top of it, every
//     protected rule that matches the fold at least as specifically (folded prefix at
//     least as long) as the literally deciding rule applies too: the path is protected
//     and the token must carry one role of each such rule (and a second factor when
//     one of them asks for it). A shorter one does not:
//     every reading of the path still falls under the longer rule the literal match
//     found, so more specific rules keep their meaning ("/admin/" for admin,
//     "/admin/reports" for reports).
//
// So "/ADMIN/", "/admin./", "/admin%20/", "/adm%C4%B1n/", "/%EF%BD%81dmin/" and
// "/admin;x/" all need the roles of "/admin/", while the canonical "/admin/..." keeps
// exactly its configured meaning. A path that is not canonical is never public.
func (p *Policy) Match(path string) Match {
	canonical := isCanonicalPath(path)
	folded := path
	if !canonical || needsFold(path) {
		f, ok := fold(path)
		if !ok {
			return Match{Protected: true, NonCanonical: !canonical, Invalid: true}
		}
		folded = f
	}
	m := Match{Login: canonical && path == p.cfg.LoginPath, NonCanonical: !canonical}

	// The literal decision.
	threshold := -1 // folded length of the literally deciding rule
	pub, pubFolded := -1, -1
	if canonical {
		for i, s := range p.cfg.PublicPaths {
			if len(s) > pub && matchPublic(path, s) {
				pub, pubFolded = len(s), len(p.publicFolds[i])
			}
		}
	}
	lit, litLen := p.longestProtected(path)
	switch {
	case lit >= 0 && litLen >= pub:
		r := &p.cfg.Protected[lit]
		m.Protected, m.Rule = true, r.Prefix
		m.require(r)
		if f := p.protectedFolds[lit]; foldedUnder(folded, f) {
			// Every reading of the path falls under this rule only when its fold
			// does, and the rule's end is not followed by a non-ASCII code point: a
			// combining mark composes with the rule's last letter (NFC/NFKC reads
			// "s"+U+0301 as "ś"), taking the path out of the rule.
			threshold = len(f)
		}
	case pub >= 0:
		threshold = pubFolded
	default:
		m.Protected = p.cfg.DefaultProtected
	}
	// Every protected rule the fold reaches at least as specifically.
	for i := range p.cfg.Protected {
		f := p.protectedFolds[i]
		if len(f) >= threshold && matchFolded(folded, f) {
			r := &p.cfg.Protected[i]
			if !m.Protected || m.Rule == "" {
				m.Rule = r.Prefix
			}
			m.Protected = true
			m.require(r)
		}
	}
	if !canonical {
		m.Protected = true
	}
	return m
}

// needsFold reports whether a canonical path may read differently to an upstream than
// as itself lower-cased: when it has an escape, a ':' or a segment ending in '.'.
// Canonical paths have no control characters, spaces, ';', '\' or non-ASCII bytes.
func needsFold(path string) bool {
	for i := 0; i < len(path); i++ {
		switch path[i] {
		case '%', ':':
			return true
		case '.':
			if i+1 == len(path) || path[i+1] == '/' {
				return true
			}
		}
	}
	return false
}

// matchFolded reports whether the folded path fp falls under the folded protected
// prefix fr (lower-case): fp starts with fr, ignoring ASCII case (fp of a canonical
// path is not lower-cased, see needsFold), or fr is "x/" and fp is "x".
func matchFolded(fp, fr string) bool {
	if len(fp) >= len(fr) {
		return equalFold(fp[:len(fr)], fr)
	}
	return len(fr) > 1 && fr[len(fr)-1] == '/' && len(fp) == len(fr)-1 && equalFold(fp, fr[:len(fp)])
}

// foldedUnder reports whether the folded path fp falls under the folded rule fr so
// that no upstream reading can leave it: fp matches fr (matchFolded) and, unless fr
// ends with '/', what follows fr in fp is not a non-ASCII code point.
func foldedUnder(fp, fr string) bool {
	if !matchFolded(fp, fr) {
		return false
	}
	return len(fp) <= len(fr) || fr[len(fr)-1] == '/' || fp[len(fr)] < 0x80
}

// equalFold compares a with the lower-case b, ignoring the case of ASCII letters in a.
func equalFold(a, b string) bool {
	for i := 0; i < len(a); i++ {
		c := a[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != b[i] {
			return false
		}
	}
	return true
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

// Satisfied reports whether roles meet the match's role requirements: one role of
// every rule that applies.
func (m *Match) Satisfied(roles []string) bool {
	for i := 0; i < m.n; i++ {
		if !hasAny(roles, m.rule(i).Roles) {
			return false
		}
	}
	return true
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

// longestProtected returns the index of the longest protected rule matching path
// literally (-1 for none) and its length.
func (p *Policy) longestProtected(path string) (int, int) {
	best, n := -1, -1
	for i := range p.cfg.Protected {
		pre := p.cfg.Protected[i].Prefix
		if len(pre) <= n {
			continue
		}
		if hasPrefix(path, pre) || (len(pre) > 1 && pre[len(pre)-1] == '/' && path == pre[:len(pre)-1]) {
			best, n = i, len(pre)
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

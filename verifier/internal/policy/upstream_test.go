package policy

import (
	"net/url"
	"path"
	"strings"
	"testing"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// upstreams are readings of a request path by the servers behind an edge, written
// here independently of fold (net/url, x/text): each turns a path into the one the
// server routes on, and the same function applied to a rule's path gives where that
// rule's resources are on that server.
var upstreams = map[string]func(string) string{
	"literal":     func(p string) string { return p },
	"lower case":  strings.ToLower,
	"decoded":     decode,
	"decoded 2x":  func(p string) string { return decode(decode(p)) },
	"cleaned":     func(p string) string { return clean(decode(p)) },
	"servlet":     func(p string) string { return clean(dropParams(decode(p))) },
	"windows":     func(p string) string { return strings.ToLower(trimSegments(strings.ReplaceAll(decode(p), "\\", "/"))) },
	"ntfs stream": func(p string) string { return cutSegments(decode(p), ":") },
	"unicode":     func(p string) string { return nfkcFold(decode(p)) },
	"everything": func(p string) string {
		return clean(strings.ToLower(trimSegments(cutSegments(dropParams(strings.ReplaceAll(nfkcFold(decode(decode(p))), "\\", "/")), ":"))))
	},
}

func decode(p string) string {
	if d, err := url.PathUnescape(p); err == nil {
		return d
	}
	return p
}

func clean(p string) string {
	c := path.Clean("/" + p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

func dropParams(p string) string { return cutSegments(p, ";") }

func cutSegments(p, sep string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i], _, _ = strings.Cut(s, sep)
	}
	return strings.Join(segs, "/")
}

func trimSegments(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = strings.TrimRight(strings.TrimLeft(s, " "), " .")
	}
	return strings.Join(segs, "/")
}

func nfkcFold(p string) string {
	return norm.NFKC.String(cases.Fold().String(norm.NFKC.String(p)))
}

// intent is what the configuration means for the resource a path names on one
// upstream: the longest rule whose path, read by that upstream, is a prefix of the
// path read by it (the protected rule on a tie); protected then needs one of that
// rule's roles; no rule: DefaultProtected.
func intent(p *Policy, read func(string) string, reqPath string) (protected bool, roles []string) {
	q := read(reqPath)
	best, isProt := -1, p.cfg.DefaultProtected
	for _, s := range p.cfg.PublicPaths {
		r := read(s)
		if len(r) > best && (r == q || (strings.HasSuffix(r, "/") && r != "/" && strings.HasPrefix(q, r))) {
			best, isProt, roles = len(r), false, nil
		}
	}
	for _, rule := range p.cfg.Protected {
		r := read(rule.Prefix)
		if len(r) >= best && (strings.HasPrefix(q, r) || (len(r) > 1 && strings.HasSuffix(r, "/") && q == r[:len(r)-1])) {
			best, isProt, roles = len(r), true, rule.Roles
		}
	}
	return isProt, roles
}

// checkNoBypass: whatever the gate lets through for some roles, every upstream reading
// of the path lets through for those roles too, and a path any reading protects is
// protected. Refused paths are exempt: they never reach an upstream.
func checkNoBypass(t *testing.T, p *Policy, reqPath string) {
	t.Helper()
	m := p.Match(reqPath)
	if m.Invalid {
		return
	}
	var roleSets [][]string
	roleSets = append(roleSets, nil)
	for _, r := range p.cfg.Protected {
		for _, role := range r.Roles {
			roleSets = append(roleSets, []string{role})
		}
	}
	for name, read := range upstreams {
		protected, need := intent(p, read, reqPath)
		if protected && !m.Protected {
			t.Fatalf("%q is public at the edge, protected on a %s upstream (as %q)", reqPath, name, read(reqPath))
		}
		for _, roles := range roleSets {
			if m.Satisfied(roles) && !hasAny(roles, need) {
				t.Fatalf("%q: the edge lets roles %q through; a %s upstream serves it (as %q) under a rule needing %q",
					reqPath, roles, name, read(reqPath), need)
			}
		}
	}
}

// bypassSeeds: spellings of the protected paths of validConfig.
var bypassSeeds = []string{
	"/", "/static/x", "/admin/", "/ADMIN/", "/Admin", "/admin./", "/admin%20/", "/admin%2e/", "/admin%2E",
	"/%61dmin/", "/%2561dmin/", "/adm%C4%B1n/", "/%EF%BD%81dmin/", "/ad%C2%ADmin/", "/admin;x/", "/admin::$DATA/",
	"/static%2Fadmin", "/static%5Cadmin", "//admin", "/static/%2E%2E/admin", "/static/..%2Fadmin",
	"/ADMIN/public-ish/reports", "/admin/PUBLIC-ish/reports", "/api/health", "/API/health", "/api/health.",
	"/api/Health", "/login", "/LOGIN", "/auth/refresh", "/AUTH/x", "/static/x%EF%BC%8F..%EF%BC%8Fadmin",
	"/static/x%E2%88%95admin", "/%C0%AE%C0%AE/admin", "/admin%09", "/st%C3%A4tic/",
	"/admin/public-ish/reports%CC%81",
}

// TestNoBypass runs the property of checkNoBypass over every path of up to three
// pieces from a vocabulary of spellings (deterministic; FuzzMatch explores further).
func TestNoBypass(t *testing.T) {
	p := mustNew(t, validConfig())
	pieces := []string{"/", "admin", "ADMIN", "Admin", "adm%C4%B1n", "%EF%BD%81dmin", "%61dmin", "%2561dmin", "api",
		"API", "static", "public-ish", "reports", "health", "login", ".", "..", "%2E", "%20", "%2F", "%5C", "\\", ";x",
		":x", "%C2%AD", "%EF%BC%8F", "%E2%88%95", "x"}
	for _, s := range bypassSeeds {
		checkNoBypass(t, p, s)
	}
	n := 0
	for _, a := range pieces {
		for _, b := range pieces {
			for _, c := range pieces {
				checkNoBypass(t, p, "/"+a+b+c)
				checkNoBypass(t, p, "/"+a+"/"+b+c)
				n += 2
			}
		}
	}
	t.Logf("%d paths", n)
}

// A combining mark right after a protected prefix that does not end in "/" composes,
// in an NFC or NFKC reading, with the prefix's last letter ("reports" + U+0301 reads
// "reportś"): that reading leaves the longer rule and falls under the shorter one, so
// the shorter rule's roles apply too.
func TestNoBypassCombiningMarkAfterRule(t *testing.T) {
	p := mustNew(t, validConfig())
	for _, s := range []string{"/admin/public-ish/reports%CC%81", "/admin/public-ish/reports%CC%81/x"} {
		checkNoBypass(t, p, s)
	}
}

// A protected prefix with a non-ASCII letter cannot hold for every spelling (upstreams
// read "%C3%9C" as "%C3%BC" and "u%CC%88" as "%C3%BC", and the fold models neither), so
// the configuration is refused.
func TestNonASCIIProtectedPrefixRefused(t *testing.T) {
	c := validConfig()
	c.Protected = append(c.Protected, Route{Prefix: "/%C3%BCber/", Roles: []string{"admin"}}) // "/über/"
	if _, err := New(c); err == nil || !strings.Contains(err.Error(), "non-ASCII") {
		t.Fatalf("a protected prefix naming \"über\": %v, want refused", err)
	}
}

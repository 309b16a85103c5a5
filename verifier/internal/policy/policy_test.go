package policy

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/verifier/abi"
)

func validConfig() Config {
	return Config{
		Issuer:   "https://auth.example.com",
		Audience: "app",
		AccessCookie: Cookie{Name: "__Host-edgeauth_at", Path: "/", Secure: true, HTTPOnly: true,
			SameSite: "Lax"},
		RefreshCookie: Cookie{Name: "__Secure-edgeauth_rt", Path: "/auth", Secure: true, HTTPOnly: true,
			SameSite: "Strict"},
		LoginPath:        "/login",
		RefreshPath:      "/auth/refresh",
		PublicPaths:      []string{"/login", "/auth/", "/static/", "/", "/api/health"},
		Protected:        []Route{{Prefix: "/admin/", Roles: []string{"admin", "ops"}}, {Prefix: "/api"}, {Prefix: "/admin/public-ish/reports", Roles: []string{"reports"}}},
		DefaultProtected: true,
		CacheEntries:     1024,
	}
}

func mustNew(t *testing.T, c Config) *Policy {
	t.Helper()
	p, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewValid(t *testing.T) {
	p := mustNew(t, validConfig())
	c := p.Config()
	if len(c.Algorithms) != 1 || c.Algorithms[0] != "EdDSA" || c.AfterLoginPath != "/" {
		t.Fatalf("defaults not filled: %+v", c)
	}
}

func TestNewRefuses(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   []string // substrings of problems, each must appear
	}{
		{"empty issuer and audience", func(c *Config) { c.Issuer, c.Audience = "", "" },
			[]string{"issuer is empty", "audience is empty"}},
		{"unknown algorithm", func(c *Config) { c.Algorithms = []string{"EdDSA", "HS256", "none"} },
			[]string{`"HS256" is not supported`, `"none" is not supported`}},
		{"leeway negative", func(c *Config) { c.LeewaySeconds = -1 }, []string{"leeway_seconds -1 is outside 0..300"}},
		{"leeway too large", func(c *Config) { c.LeewaySeconds = 301 }, []string{"leeway_seconds 301"}},
		{"cache too large", func(c *Config) { c.CacheEntries = MaxCacheEntries + 1 }, []string{"cache_entries 65537"}},
		{"cache negative", func(c *Config) { c.CacheEntries = -1 }, []string{"cache_entries -1"}},
		{"empty cookie names", func(c *Config) { c.AccessCookie.Name, c.RefreshCookie.Name = "", "" },
			[]string{"access_cookie.name is empty", "refresh_cookie.name is empty"}},
		{"cookie name not a token", func(c *Config) { c.RefreshCookie.Name = "rt;x" },
			[]string{`refresh_cookie.name "rt;x" is not a valid cookie name`}},
		{"same cookie names", func(c *Config) { c.RefreshCookie = c.AccessCookie },
			[]string{"have the same name"}},
		{"host cookie with domain", func(c *Config) { c.AccessCookie.Domain = "example.com" },
			[]string{"access_cookie: a __Host- cookie needs secure: true, path \"/\" and no domain"}},
		{"host cookie with path", func(c *Config) { c.AccessCookie.Path = "/app" },
			[]string{"__Host- cookie needs"}},
		{"host cookie not secure", func(c *Config) { c.AccessCookie.Secure = false },
			[]string{"__Host- cookie needs"}},
		{"secure cookie not secure", func(c *Config) { c.RefreshCookie.Secure = false },
			[]string{"refresh_cookie: a __Secure- cookie needs secure: true"}},
		// RFC 6265bis matches the prefixes without regard to case, as browsers do: a
		// cookie named so that they refuse its Set-Cookie could never be cleared.
		{"host cookie, prefix in lower case, with domain", func(c *Config) { c.AccessCookie.Name, c.AccessCookie.Domain = "__host-at", "example.com" },
			[]string{"access_cookie: a __Host- cookie needs"}},
		{"secure cookie, prefix in upper case, not secure", func(c *Config) { c.RefreshCookie.Name, c.RefreshCookie.Secure = "__SECURE-rt", false },
			[]string{"refresh_cookie: a __Secure- cookie needs secure: true"}},
		{"samesite none without secure", func(c *Config) {
			c.RefreshCookie = Cookie{Name: "rt", Path: "/auth", SameSite: "None"}
		}, []string{"refresh_cookie: SameSite=None needs secure: true"}},
		{"samesite missing", func(c *Config) { c.AccessCookie.SameSite = "" },
			[]string{`access_cookie.same_site "" must be Strict, Lax or None`}},
		{"samesite wrong case", func(c *Config) { c.AccessCookie.SameSite = "lax" },
			[]string{`same_site "lax"`}},
		{"cookie path missing", func(c *Config) { c.RefreshCookie.Path = "" },
			[]string{"refresh_cookie.path \"\" must be the Path"}},
		{"cookie path injection", func(c *Config) { c.RefreshCookie.Path = "/auth; Domain=evil.com" },
			[]string{"refresh_cookie.path"}},
		{"cookie domain injection", func(c *Config) {
			c.RefreshCookie.Domain = "example.com; Secure"
		}, []string{`refresh_cookie.domain "example.com; Secure" is not a host name`}},
		{"paths without slash", func(c *Config) {
			c.LoginPath, c.RefreshPath, c.PublicPaths, c.Protected = "login", "", []string{"static/"}, []Route{{Prefix: "admin"}}
		}, []string{`login_path "login" must start with '/'`, "refresh_path is empty",
			`public_paths[0] "static/" must start with '/'`, `protected[0].prefix "admin" must start with '/'`}},
		{"non-canonical rule paths", func(c *Config) {
			c.PublicPaths = append(c.PublicPaths, "/a/../b", "/x//y", "/q?x=1")
			c.Protected = append(c.Protected, Route{Prefix: "/%2e%2e/"})
		}, []string{`public_paths[5] "/a/../b" is not a canonical path`, `public_paths[6] "/x//y"`,
			`public_paths[7] "/q?x=1"`, `protected[3].prefix "/%2e%2e/"`}},
		{"login path with query", func(c *Config) { c.LoginPath = "/login?next=1" },
			[]string{`login_path "/login?next=1" is not a canonical path`}},
		{"empty role", func(c *Config) { c.Protected[0].Roles = []string{""} }, []string{"protected[0].roles has an empty role"}},
		{"login path protected by default", func(c *Config) { c.PublicPaths = []string{"/auth/"} },
			[]string{`login_path "/login" needs a token (default_protected is true), so browsers would be redirected to it in a loop: add "/login" to public_paths`}},
		{"refresh path protected by prefix", func(c *Config) { c.Protected = append(c.Protected, Route{Prefix: "/auth/refresh"}) },
			[]string{`refresh_path "/auth/refresh" needs a token (protected prefix "/auth/refresh" covers it)`}},
		{"login path under protected prefix", func(c *Config) {
			c.LoginPath = "/admin/login"
			c.PublicPaths = append(c.PublicPaths, "/admin/")
		}, []string{`login_path "/admin/login" needs a token (protected prefix "/admin/" covers it)`}},
		{"logout path protected", func(c *Config) { c.LogoutPath = "/logout" },
			[]string{`logout_path "/logout" needs a token (default_protected is true)`}},
		{"logout path not canonical", func(c *Config) { c.LogoutPath = "/auth/../logout" },
			[]string{`logout_path "/auth/../logout" is not a canonical path`}},
		{"after login path is login", func(c *Config) { c.AfterLoginPath = "/login" },
			[]string{"after_login_path is the login path"}},
		{"after login path off-site", func(c *Config) { c.AfterLoginPath = "https://evil.com/" },
			[]string{`after_login_path "https://evil.com/" must be a same-site relative path`}},
		{"after login path protocol-relative", func(c *Config) { c.AfterLoginPath = "//evil.com" },
			[]string{`after_login_path "//evil.com"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.mutate(&c)
			p, err := New(c)
			if err == nil || p != nil {
				t.Fatal("configuration accepted")
			}
			if !errors.Is(err, abi.ErrInvalidConfig) {
				t.Fatalf("error %v does not wrap ErrInvalidConfig", err)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || len(ce.Problems) != len(tt.want) {
				t.Fatalf("problems %q, want %d matching %q", problemsOf(err), len(tt.want), tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func problemsOf(err error) []string {
	var ce *ConfigError
	if errors.As(err, &ce) {
		return ce.Problems
	}
	return nil
}

func TestNewDoesNotAliasInput(t *testing.T) {
	c := validConfig()
	p := mustNew(t, c)
	c.PublicPaths[0] = "/admin/"
	c.Protected[0].Prefix = "/"
	c.Protected[1].Roles = append(c.Protected[1].Roles, "x")
	c.Protected[0].Roles[0] = "user"
	admin := p.Match("/admin/x")
	if m := p.Match("/login"); m.Protected || !admin.Satisfied([]string{"admin"}) || admin.Satisfied([]string{"user"}) {
		t.Fatal("policy changed when the caller's slices did")
	}
}

func TestMatch(t *testing.T) {
	p := mustNew(t, validConfig())
	admin := []string{"admin", "ops"}
	reports := []string{"reports"}
	tests := []struct {
		path         string
		protected    bool
		login        bool
		nonCanonical bool
		invalid      bool
		rule         string
		roles        [][]string // one role of each list
	}{
		{path: "/", protected: false},
		{path: "/login", login: true},
		{path: "/login/", protected: true},    // exact public path only: default applies
		{path: "/loginx", protected: true},    // not the login path
		{path: "/auth/refresh"},               // public prefix
		{path: "/static/app.js"},              // public prefix
		{path: "/static", protected: true},    // "/static/" does not cover "/static"
		{path: "/dashboard", protected: true}, // default_protected
		{path: "/admin", protected: true, rule: "/admin/", roles: [][]string{admin}},
		{path: "/admin/", protected: true, rule: "/admin/", roles: [][]string{admin}},
		{path: "/admin/users", protected: true, rule: "/admin/", roles: [][]string{admin}},
		{path: "/admin/public-ish/reports/1", protected: true, rule: "/admin/public-ish/reports", roles: [][]string{reports}},
		{path: "/api", protected: true, rule: "/api"},
		{path: "/apidocs", protected: true, rule: "/api"}, // plain prefix: fail closed
		{path: "/api/health"}, // longer public rule wins
		{path: "/api/health/deep", protected: true, rule: "/api"},
		{path: "/caf%C3%A9", protected: true},

		// Spellings an upstream may serve as a protected path need its roles (issue 7).
		{path: "/ADMIN/", protected: true, rule: "/admin/", roles: [][]string{admin}},
		{path: "/Admin/users", protected: true, rule: "/admin/", roles: [][]string{admin}},
		{path: "/admin./", protected: true, rule: "/admin/", roles: [][]string{admin}},
		{path: "/admin.", protected: true, rule: "/admin/", roles: [][]string{admin}},
		{path: "/admin%20/", protected: true, rule: "/admin/", roles: [][]string{admin}},
		{path: "/%20admin%20./x", protected: true, rule: "/admin/", roles: [][]string{admin}},
		{path: "/admin%2E/", protected: true, nonCanonical: true, rule: "/admin/", roles: [][]string{admin}},
		{path: "/admin::$DATA/", protected: true, rule: "/admin/", roles: [][]string{admin}},
		{path: "/adm%C4%B1n/", protected: true, rule: "/admin/", roles: [][]string{admin}},    // dotless i
		{path: "/%EF%BD%81dmin/", protected: true, rule: "/admin/", roles: [][]string{admin}}, // fullwidth a
		{path: "/ad%C2%ADmin/", protected: true, rule: "/admin/", roles: [][]string{admin}},   // soft hyphen
		{path: "/x%EF%BC%8F..%EF%BC%8Fadmin/", protected: true, invalid: true},                // fullwidth slashes
		{path: "/static%EF%BC%8Fadmin/", protected: true},                                     // "/static/admin/": no protected rule
		{path: "/%2561dmin/", protected: true, rule: "/admin/", roles: [][]string{admin}},     // decoded twice
		{path: "/API", protected: true, rule: "/api"},
		{path: "/Admin/public-ish/reports/1", protected: true, rule: "/admin/", roles: [][]string{admin, reports}},
		{path: "/admin/Public-ish/reports/1", protected: true, rule: "/admin/", roles: [][]string{admin, reports}},
		{path: "/Static/x", protected: true}, // public rules match literally only
		{path: "/api/health.", protected: true, rule: "/api"},

		// Not canonical: never public, roles of every rule the fold reaches.
		{path: "//admin/x", protected: true, nonCanonical: true, rule: "/admin/", roles: [][]string{admin}},
		{path: "/static//x", protected: true, nonCanonical: true},
		{path: "/%61dmin/x", protected: true, nonCanonical: true, rule: "/admin/", roles: [][]string{admin}},
		{path: "/admin;jsessionid=1/x", protected: true, nonCanonical: true, rule: "/admin/", roles: [][]string{admin}},
		{path: "/static\\admin", protected: true, nonCanonical: true},
		{path: "/static/%zz", protected: true, nonCanonical: true},
		{path: "/static/%4", protected: true, nonCanonical: true},
		{path: "/static/%c3%a9", protected: true, nonCanonical: true},
		{path: "/static/x y", protected: true, nonCanonical: true},
		{path: "/static/\xc3\xa9", protected: true, nonCanonical: true},
		{path: "", protected: true, nonCanonical: true},
		{path: "static/x", protected: true, nonCanonical: true},
		{path: "*", protected: true, nonCanonical: true},

		// Refused: no upstream should be asked to read these.
		{path: "/static/../admin/x", protected: true, nonCanonical: true, invalid: true},
		{path: "/static/%2E%2E/admin/x", protected: true, nonCanonical: true, invalid: true},
		{path: "/static/%2e%2e%2fadmin", protected: true, nonCanonical: true, invalid: true},
		{path: "/static%2F..%2Fadmin", protected: true, nonCanonical: true, invalid: true},
		{path: "/static\\..\\admin", protected: true, nonCanonical: true, invalid: true},
		{path: "/static%5C..%5Cadmin", protected: true, nonCanonical: true, invalid: true},
		{path: "/admin/;x/../../static/", protected: true, nonCanonical: true, invalid: true},
		{path: "/static/..;x/admin", protected: true, nonCanonical: true, invalid: true},
		{path: "/static/%252E%252E/admin", protected: true, invalid: true},
		{path: "/static/%2E%20/admin", protected: true, nonCanonical: true, invalid: true},
		{path: "/static/x%00", protected: true, nonCanonical: true, invalid: true},
		{path: "/admin%09/", protected: true, nonCanonical: true, invalid: true},
		{path: "/admin%0D%0A/", protected: true, nonCanonical: true, invalid: true},
		{path: "/admin%C2%85/", protected: true, invalid: true},       // C1 control
		{path: "/%C0%AE%C0%AE/admin", protected: true, invalid: true}, // overlong "."
		{path: "/%C1%81dmin", protected: true, invalid: true},         // overlong "A"
		{path: "/%ED%A0%80", protected: true, invalid: true},          // surrogate
		{path: "/static/./x", protected: true, nonCanonical: true, invalid: true},
		{path: "/static/.", protected: true, nonCanonical: true, invalid: true},
		{path: "/static/...", protected: true, invalid: true},
		{path: "/login/../login", protected: true, nonCanonical: true, invalid: true},
		{path: "/%25252525252525252561", protected: true, invalid: true}, // more than 8 rounds
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			m := p.Match(tt.path)
			if m.Protected != tt.protected || m.Login != tt.login || m.NonCanonical != tt.nonCanonical || m.Invalid != tt.invalid ||
				(!tt.invalid && m.Rule != tt.rule) || !reflect.DeepEqual(m.Roles(), tt.roles) {
				t.Fatalf("Match(%q) = %+v (roles %q), want %+v", tt.path, m, m.Roles(), tt)
			}
		})
	}
}

func TestMatchDefaultOpen(t *testing.T) {
	c := validConfig()
	c.DefaultProtected = false
	c.PublicPaths = nil
	p := mustNew(t, c)
	other := p.Match("/x%2Fy")
	if p.Match("/anything").Protected || !p.Match("/api/x").Protected || !p.Match("/x/../y").Protected ||
		!p.Match("/API/x").Protected || !other.Protected || !other.Satisfied(nil) {
		t.Fatal("default-open policy matched wrongly")
	}
}

func TestSatisfied(t *testing.T) {
	a, b, ab := &Route{Roles: []string{"a"}}, &Route{Roles: []string{"b"}}, &Route{Roles: []string{"admin", "ops"}}
	match := func(rules ...*Route) Match {
		var m Match
		for _, r := range rules {
			m.require(r)
		}
		return m
	}
	many := make([]*Route, 9)
	for i := range many {
		many[i] = &Route{Roles: []string{string(rune('a' + i))}}
	}
	tests := []struct {
		name  string
		m     Match
		roles []string
		want  bool
	}{
		{"no roles needed", Match{}, nil, true},
		{"rule without roles", match(&Route{}), nil, true},
		{"one of several", match(ab), []string{"user", "ops"}, true},
		{"missing", match(a), []string{"user"}, false},
		{"none held", match(a), nil, false},
		{"both sets met", match(a, b), []string{"a", "b"}, true},
		{"second set missing", match(a, b), []string{"a"}, false},
		{"same rule twice counts once", match(a, a), []string{"a"}, true},
		{"case sensitive", match(ab), []string{"Admin"}, false},
		{"more rules than the array", match(many...), []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}, true},
		{"last of many missing", match(many...), []string{"a", "b", "c", "d", "e", "f", "g", "h"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.Satisfied(tt.roles); got != tt.want {
				t.Fatalf("Satisfied = %v", got)
			}
		})
	}
}

func TestFold(t *testing.T) {
	tests := map[string]string{
		"/Admin/Users":        "/admin/users",
		"/a%2Fb":              "/a/b",
		"/a\\b":               "/a/b",
		"/a;p=1/b;q":          "/a/b",
		"/a:stream/b::$DATA":  "/a/b",
		"/%61":                "/a",
		"/%2561":              "/a",
		"/caf%c3%a9":          "/caf\u00e9",
		"/CAF%C3%89":          "/caf\u00c9", // only ASCII letters are lower-cased; É stays
		"x":                   "/x",
		"":                    "/",
		"//x//y/":             "/x/y/",
		"/a%zz":               "/a%zz",
		"/a.. . /b":           "/a/b",
		"/%20a":               "/a",
		"/a%E2%80%8Bb":        "/ab", // zero-width space dropped
		"/%EF%BC%A1%EF%BD%82": "/ab", // fullwidth
		"/%E2%84%AA":          "/k",  // Kelvin sign
		"/%C5%BF":             "/s",  // long s
		"/%C4%B0":             "/i",  // dotted capital I
		"/stra%C3%9Fe":        "/strasse",
		"/%EF%AC%81le":        "/file", // fi ligature
		"/a%C2%A5b":           "/a/b",  // yen sign: a backslash in code page 932
		"/a%E2%88%95b":        "/a/b",  // division slash
		"/%F0%9D%90%9Aa":      "/aa",   // mathematical bold a
		"/a%E3%80%80":         "/a",    // ideographic space trimmed
		"/a/%3B/b":            "/a/b",  // ";" alone: empty segment
	}
	for in, want := range tests {
		if got, ok := fold(in); !ok || got != want {
			t.Errorf("fold(%q) = %q, %v, want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"/..", "/a/.", "/%2e", "/a/%2E%2E/b", "/a/..;x", "/a/.. /b", "/a/ /b", "/\x00", "/a%00", "/a%7F",
		"/%C0%AF", "/%FF", "/%E2%80%A4%E2%80%A4/x" /* one-dot leaders */, "/a/%EF%BC%8E%EF%BC%8E/b" /* fullwidth dots */} {
		if got, ok := fold(in); ok {
			t.Errorf("fold(%q) = %q, want refused", in, got)
		}
	}
}

func TestClearCookies(t *testing.T) {
	c := validConfig()
	c.RefreshCookie = Cookie{Name: "__Secure-rt", Path: "/auth", Domain: "example.com", Secure: true, HTTPOnly: true, SameSite: "Strict"}
	p := mustNew(t, c)
	a, r := p.ClearCookies()
	if a != "__Host-edgeauth_at=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Secure; SameSite=Lax" {
		t.Errorf("access clear cookie %q", a)
	}
	if r != "__Secure-rt=; Path=/auth; Domain=example.com; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Secure; SameSite=Strict" {
		t.Errorf("refresh clear cookie %q", r)
	}
	c.AccessCookie = Cookie{Name: "at", Path: "/", SameSite: "Lax"}
	a, _ = mustNew(t, c).ClearCookies()
	if a != "at=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; SameSite=Lax" {
		t.Errorf("plain clear cookie %q", a)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestAuthArea(t *testing.T) {
	c := validConfig() // refresh path /auth/refresh
	p := mustNew(t, c)
	for path, want := range map[string]bool{"/auth/refresh": true, "/auth/login": true, "/auth/": true, "/auth": false, "/authx": false, "/login": false, "/": false} {
		if got := p.AuthArea(path); got != want {
			t.Errorf("AuthArea(%q) = %v", path, got)
		}
	}
	c.RefreshPath = "/refresh"
	c.PublicPaths = append(c.PublicPaths, "/refresh")
	p = mustNew(t, c)
	if !p.AuthArea("/refresh") || p.AuthArea("/dashboard") || p.AuthArea("/refresh/x") {
		t.Error("a root-level refresh path must cover only itself")
	}
	c.LogoutPath = "/logout"
	c.PublicPaths = append(c.PublicPaths, "/logout")
	p = mustNew(t, c)
	if !p.AuthArea("/logout") || p.AuthArea("/logout/x") {
		t.Error("the logout path is in the auth area, and only itself")
	}
}

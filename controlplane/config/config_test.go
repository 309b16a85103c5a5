package config

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func prod() Config {
	c := Default()
	c.PublicURL = "https://auth.example.com"
	c.Keys.KEK = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	return c
}

func TestDefaultsValidate(t *testing.T) {
	c := prod()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Issuer != "https://auth.example.com" || c.Audience != c.Issuer {
		t.Fatalf("issuer %q audience %q", c.Issuer, c.Audience)
	}
	d := Default()
	d.Dev = true
	if err := d.Validate(); err != nil {
		t.Fatalf("development defaults: %v", err)
	}
	if d.PublicURL != DevPublicURL || d.Secure() {
		t.Fatalf("dev: public %q secure %v", d.PublicURL, d.Secure())
	}
	if k, err := d.KEKBytes(); err != nil || len(k) != 32 {
		t.Fatalf("dev KEK: %v", err)
	}
}

func TestCookieSpecs(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		mod                     func(*Config)
		access, refresh         string
		accessPath, refreshPath string
		domain                  string
		secure                  bool
	}{
		{"default", func(*Config) {}, "__Host-edgeauth_at", "__Secure-edgeauth_rt", "/", "/auth", "", true},
		{"refresh at root", func(c *Config) { c.Cookies.RefreshPath = "/" }, "__Host-edgeauth_at", "__Host-edgeauth_rt", "/", "/", "", true},
		{"parent domain", func(c *Config) { c.Cookies.Domain = ".Example.com" }, "__Secure-edgeauth_at", "__Secure-edgeauth_rt", "/", "/auth", "example.com", true},
		{"dev over http", func(c *Config) { c.Dev = true; c.PublicURL = "http://localhost:8080" }, "edgeauth_at", "edgeauth_rt", "/", "/auth", "", false},
		{"dev over https keeps Secure", func(c *Config) { c.Dev = true }, "__Host-edgeauth_at", "__Secure-edgeauth_rt", "/", "/auth", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := prod()
			tc.mod(&c)
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			a, r := c.AccessCookie(), c.RefreshCookie()
			if a.Name != tc.access || r.Name != tc.refresh || a.Path != tc.accessPath || r.Path != tc.refreshPath ||
				a.Domain != tc.domain || r.Domain != tc.domain || a.Secure != tc.secure || r.Secure != tc.secure {
				t.Fatalf("access %+v refresh %+v", a, r)
			}
			if a.SameSite != http.SameSiteLaxMode || a.MaxAge != c.Sessions.AbsoluteLifetime {
				t.Fatalf("access %+v", a)
			}
		})
	}
}

// Every problem is reported at once, each naming its key and a fix.
func TestValidateListsEveryProblem(t *testing.T) {
	c := Default()
	c.PublicURL = "http://app.example.com/x"
	c.Cookies.SameSite = "none"
	c.Cookies.Domain = "other.org"
	c.Cookies.AccessName = "__Host-at"
	c.Sessions.AccessTTL = 5 * time.Second
	c.Sessions.RefreshGrace = time.Hour
	c.Sessions.RecentLogin = 10 * time.Second
	c.Keys.JWKSMaxAge = time.Hour
	c.Keys.PrePublish = 30 * time.Minute
	c.Keys.Algorithm = "HS256"
	c.AllowedOrigins = []string{"*"}
	c.LogLevel = "loud"
	c.Passwords.BreachCheckURL = "http://api.pwnedpasswords.com"
	c.Passwords.BreachCheckTimeout = time.Minute
	err := c.Validate()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v", err)
	}
	want := []string{"public_url", "allowed_origins", "cookies.access_name", "sessions.access_ttl",
		"sessions.refresh_grace", "sessions.recent_login", "keys.algorithm", "keys.kek", "keys.pre_publish", "log_level",
		"passwords.breach_check_url", "passwords.breach_check_timeout"}
	got := map[string]bool{}
	for _, p := range ve.Problems {
		got[p.Key] = true
		if p.Fix == "" {
			t.Errorf("%s: no fix given (%s)", p.Key, p.Message)
		}
	}
	for _, k := range want {
		if !got[k] {
			t.Errorf("no problem reported for %s; got:\n%v", k, err)
		}
	}
	if len(ve.Problems) < len(want) || !strings.Contains(err.Error(), "\n  - keys.kek: ") {
		t.Errorf("message:\n%v", err)
	}
}

// /metrics is on the public listener only in development without ops_listen.
func TestMetricsListener(t *testing.T) {
	for _, tc := range []struct {
		dev       bool
		opsListen string
		public    bool
	}{{false, "", false}, {false, "127.0.0.1:9090", false}, {true, "", true}, {true, "127.0.0.1:9090", false}} {
		c := prod()
		c.Dev, c.OpsListen = tc.dev, tc.opsListen
		if got := c.MetricsOnPublicListener(); got != tc.public {
			t.Errorf("dev %v ops_listen %q: public %v", tc.dev, tc.opsListen, got)
		}
	}
}

func TestValidateCookieCombinations(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		key  string // "" = valid
		msg  string
	}{
		{"SameSite=None needs Secure", func(c *Config) { c.Dev = true; c.PublicURL = "http://localhost:8080"; c.Cookies.SameSite = "None" }, "cookies.same_site", "without Secure"},
		{"SameSite=None over https", func(c *Config) { c.Cookies.SameSite = "None" }, "", ""},
		{"unknown SameSite", func(c *Config) { c.Cookies.SameSite = "relaxed" }, "cookies.same_site", "must be lax"},
		{"explicit __Host- prefix with a Domain", func(c *Config) { c.Cookies.Domain = "example.com"; c.Cookies.AccessName = "__Host-at" }, "cookies.access_name", "prefix"},
		{"Domain not a parent", func(c *Config) { c.Cookies.Domain = "example.org" }, "cookies.domain", "not a parent"},
		{"Domain suffix but not a label boundary", func(c *Config) { c.Cookies.Domain = "ample.com" }, "cookies.domain", "not a parent"},
		{"Domain a TLD", func(c *Config) { c.Cookies.Domain = "com" }, "cookies.domain", "registrable"},
		{"Domain equal to host", func(c *Config) { c.Cookies.Domain = "auth.example.com" }, "", ""},
		{"Domain of an upper-case public host", func(c *Config) { c.PublicURL = "https://Auth.Example.COM"; c.Cookies.Domain = "example.com" }, "", ""},
		{"Domain equal to an upper-case public host", func(c *Config) { c.PublicURL = "https://AUTH.example.com"; c.Cookies.Domain = "Auth.Example.com" }, "", ""},
		{"Domain not a parent of an upper-case public host", func(c *Config) { c.PublicURL = "https://Auth.Example.COM"; c.Cookies.Domain = "example.org" }, "cookies.domain", "not a parent"},
		{"Domain in development over plain http", func(c *Config) {
			c.Dev = true
			c.PublicURL = "http://auth.example.com"
			c.Cookies.Domain = "example.com"
		}, "", ""},
		{"Domain not a parent in development over plain http", func(c *Config) {
			c.Dev = true
			c.PublicURL = "http://auth.example.com"
			c.Cookies.Domain = "example.org"
		}, "cookies.domain", "not a parent"},
		{"Domain on an IP host", func(c *Config) { c.PublicURL = "https://10.0.0.1"; c.Cookies.Domain = "example.com" }, "cookies.domain", "IP"},
		{"refresh path misses the endpoint", func(c *Config) { c.Cookies.RefreshPath = "/api" }, "cookies.refresh_path", "/auth/refresh"},
		{"refresh path misses logout", func(c *Config) { c.Cookies.RefreshPath = "/auth/refresh" }, "cookies.refresh_path", "/auth/logout"},
		{"refresh path a prefix but not a segment", func(c *Config) { c.Cookies.RefreshPath = "/au" }, "cookies.refresh_path", "does not cover"},
		{"refresh path with a trailing slash", func(c *Config) { c.Cookies.RefreshPath = "/auth/" }, "", ""},
		{"refresh path at the root", func(c *Config) { c.Cookies.RefreshPath = "/" }, "", ""},
		{"refresh path with an attribute", func(c *Config) { c.Cookies.RefreshPath = "/auth; Domain=evil" }, "cookies.refresh_path", "not a cookie path"},
		{"ops listen malformed", func(c *Config) { c.OpsListen = "9090" }, "ops_listen", "host:port"},
		{"ops listen on the public address", func(c *Config) { c.OpsListen = c.Listen }, "ops_listen", "same address"},
		{"ops listen", func(c *Config) { c.OpsListen = "127.0.0.1:9090" }, "", ""},
		{"throttle ceiling below one address's budget", func(c *Config) { c.Throttle.AccountFailures = 3 }, "throttle.account_failures", "at least"},
		{"throttle account window shorter than the window", func(c *Config) { c.Throttle.AccountWindow = time.Minute }, "throttle.account_window", "out of range"},
		{"same names", func(c *Config) { c.Cookies.RefreshName = c.Cookies.AccessName }, "cookies.refresh_name", "same"},
		{"production over plain http", func(c *Config) { c.PublicURL = "http://auth.example.com" }, "public_url", "plain http"},
		{"production without KEK", func(c *Config) { c.Keys.KEK = "" }, "keys.kek", "not set"},
		{"short KEK", func(c *Config) { c.Keys.KEK = "AAEC" }, "keys.kek", "32 bytes"},
		{"previous KEKs", func(c *Config) { c.Keys.PreviousKEKs = []string{"ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8"} }, "", ""},
		{"previous KEK not base64", func(c *Config) { c.Keys.PreviousKEKs = []string{"AAEC*"} }, "keys.previous_keks", "entry 1 of 1 is not base64"},
		{"short previous KEK", func(c *Config) { c.Keys.PreviousKEKs = []string{c.Keys.KEK, "AAEC"} }, "keys.previous_keks", "entry 2 of 2 must decode to 32 bytes"},
		{"empty previous KEK", func(c *Config) { c.Keys.PreviousKEKs = []string{" "} }, "keys.previous_keks", "entry 1 of 1 is empty"},
		{"idle above absolute", func(c *Config) { c.Sessions.IdleTimeout = 31 * 24 * time.Hour }, "sessions.idle_timeout", "out of range"},
		{"retire shorter than access ttl", func(c *Config) { c.Keys.RetireAfter = time.Minute }, "keys.retire_after", "longest token lifetime"},
		{"pre-publish equal to JWKS max-age", func(c *Config) { c.Keys.PrePublish = c.Keys.JWKSMaxAge }, "keys.pre_publish", "exceed"},
		{"bad listen", func(c *Config) { c.Listen = "8080" }, "listen", "host:port"},
		{"bad database URL", func(c *Config) { c.DatabaseURL = "postgres://%zz" }, "database_url", "valid"},
		{"negative pool size", func(c *Config) { c.DatabasePoolSize = -1 }, "database_pool_size", "out of range"},
		{"pool size beyond any server", func(c *Config) { c.DatabasePoolSize = MaxPoolSize + 1 }, "database_pool_size", "out of range"},
		{"open-redirect login path", func(c *Config) { c.LoginPath = "//evil.example" }, "login_path", "same-site"},
		{"allowed origins", func(c *Config) {
			c.AllowedOrigins = []string{"https://App.example.com:443", "http://localhost:3000", "https://[::1]:8443", "https://10.0.0.1"}
		}, "", ""},
		{"wildcard allowed origin", func(c *Config) { c.AllowedOrigins = []string{"https://*.example.com"} }, "allowed_origins", "not an exact origin"},
		{"second factor for roles joined with a comma", func(c *Config) { c.SecondFactor.RequiredFor = []string{"admin,ops"} }, "second_factor.required_for", "not a role name"},
		{"second factor for an empty role", func(c *Config) { c.SecondFactor.RequiredFor = []string{"admin", ""} }, "second_factor.required_for", "not a role name"},
		{"allowed origin with a fragment", func(c *Config) { c.AllowedOrigins = []string{"https://app.example.com#x"} }, "allowed_origins", "not an exact origin"},
		{"allowed origin with an empty query", func(c *Config) { c.AllowedOrigins = []string{"https://app.example.com?"} }, "allowed_origins", "not an exact origin"},
		{"allowed origin with a port out of range", func(c *Config) { c.AllowedOrigins = []string{"https://app.example.com:99999"} }, "allowed_origins", "not an exact origin"},
		{"allowed origin with an empty port", func(c *Config) { c.AllowedOrigins = []string{"https://app.example.com:"} }, "allowed_origins", "not an exact origin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := prod()
			tc.mod(&c)
			err := c.Validate()
			if tc.key == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want a problem with %s, got %v", tc.key, err)
			}
			for _, p := range ve.Problems {
				if p.Key == tc.key && strings.Contains(p.Message, tc.msg) {
					return
				}
			}
			t.Fatalf("want %s (%q), got:\n%v", tc.key, tc.msg, err)
		})
	}
}

// The pool is sized from the machine unless the configuration or the URL says otherwise.
func TestPoolConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		url  string
		size int
		want int32
	}{
		{"from the machine", "postgres://u@db:5432/edgeauth", 0, int32(DefaultPoolSize())},
		{"from the URL", "postgres://u@db:5432/edgeauth?pool_max_conns=3", 0, 3},
		{"from the key=value form", "host=db user=u dbname=edgeauth pool_max_conns=5", 0, 5},
		{"database_pool_size wins over the URL", "postgres://u@db:5432/edgeauth?pool_max_conns=3", 40, 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			c.DatabaseURL, c.DatabasePoolSize = tc.url, tc.size
			pc, err := c.PoolConfig()
			if err != nil {
				t.Fatal(err)
			}
			if pc.MaxConns != tc.want {
				t.Fatalf("MaxConns %d, want %d", pc.MaxConns, tc.want)
			}
		})
	}
}

// The fix Validate gives for keys.pre_publish must produce a configuration it accepts.
func TestPrePublishFixIsValid(t *testing.T) {
	c := prod()
	c.Keys.JWKSMaxAge = time.Minute
	c.Keys.PrePublish = time.Minute // too short
	err := c.Validate()
	if err == nil {
		t.Fatal("accepted")
	}
	// Take the duration the fix names.
	msg := err.Error()
	_, rest, ok := strings.Cut(msg, "set keys.pre_publish to at least ")
	if !ok {
		t.Fatalf("no fix for keys.pre_publish:\n%s", msg)
	}
	d, perr := time.ParseDuration(strings.Fields(rest)[0])
	if perr != nil {
		t.Fatalf("no duration in the fix: %v\n%s", perr, msg)
	}
	c.Keys.PrePublish = d
	if err := c.Validate(); err != nil {
		t.Fatalf("following the advice still fails:\n%v", err)
	}
}

// keys.previous_keks decode like keys.kek; an entry that does not is named by its
// position, never by its value.
func TestPreviousKEKBytes(t *testing.T) {
	c := prod()
	c.Keys.PreviousKEKs = []string{"ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8", c.Keys.KEK}
	prev, err := c.PreviousKEKBytes()
	if err != nil || len(prev) != 2 || prev[0][0] != 0x20 || prev[1][31] != 0x1f {
		t.Fatalf("%x %v", prev, err)
	}
	c.Keys.PreviousKEKs = []string{c.Keys.KEK, "c2hvcnQgc2VjcmV0"}
	if _, err := c.PreviousKEKBytes(); err == nil || err.Error() != "config: keys.previous_keks: entry 2 of 2 must decode to 32 bytes" {
		t.Fatalf("got %v", err)
	}
	if err := c.Validate(); err == nil || strings.Contains(err.Error(), "c2hvcnQgc2VjcmV0") || strings.Contains(err.Error(), c.Keys.KEK) {
		t.Fatalf("got %v", err)
	}
}

// The allow-list holds each origin as browsers write it in the Origin header (RFC 6454
// section 6.1: lower-case scheme and host, no default port), or no browser request
// from that origin could pass the CSRF check; the spelling configured stays allowed
// for clients that copy it.
func TestOriginsAsBrowsersSendThem(t *testing.T) {
	for _, tc := range []struct {
		name, publicURL string
		allowed         []string
		want            []string
	}{
		{"upper-case host", "https://Auth.Example.COM", nil, []string{"https://auth.example.com", "https://Auth.Example.COM"}},
		{"default https port", "https://auth.example.com:443", nil, []string{"https://auth.example.com", "https://auth.example.com:443"}},
		{"default http port", "http://localhost:80", nil, []string{"http://localhost"}},
		{"other port kept", "https://auth.example.com:8443", nil, []string{"https://auth.example.com:8443"}},
		{"IPv6 literal", "https://[2001:DB8::1]:443", nil, []string{"https://[2001:db8::1]"}},
		{"allowed origins", "https://auth.example.com", []string{"https://App.Example.com:443", "https://auth.example.com"},
			[]string{"https://auth.example.com", "https://app.example.com", "https://App.Example.com:443"}},
		{"internationalised allowed origin: its xn-- form", "https://auth.example.com", []string{"https://Bücher.example"}, []string{"https://xn--bcher-kva.example"}},
		{"IPv6 allowed origin, compressed", "https://auth.example.com", []string{"https://[2001:DB8:0::1]:8443"}, []string{"https://[2001:db8::1]:8443"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := prod()
			c.Dev = true // for the http case
			c.PublicURL, c.AllowedOrigins = tc.publicURL, tc.allowed
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			got := c.Origins()
			for _, w := range tc.want {
				if !slices.Contains(got, w) {
					t.Errorf("Origins() = %q: no %q", got, w)
				}
			}
			if len(got) != len(slices.Compact(slices.Sorted(slices.Values(got)))) {
				t.Errorf("Origins() = %q: repeats", got)
			}
		})
	}
}

// A URL setting written with credentials is reported without them: the message is
// printed and logged, and a password must reach neither.
func TestURLProblemsHideCredentials(t *testing.T) {
	for _, tc := range []struct{ name, publicURL string }{
		{"public_url of another scheme", "ftp://admin:hunter2-secret@auth.example.com"},
		{"public_url that does not parse", "https://admin:hunter2-secret@auth.example.com:port"},
		{"allowed origin", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			if tc.publicURL != "" {
				c.PublicURL = tc.publicURL
			} else {
				c.AllowedOrigins = []string{"https://admin:hunter2-secret@app.example.com"}
			}
			err := c.Validate()
			if err == nil {
				t.Fatal("accepted")
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("the message holds the password:\n%v", err)
			}
		})
	}
}

// Browsers send an internationalised host in its xn-- form, so a public_url written
// with the Unicode form would refuse every browser's Origin: it is refused at start,
// with the form to write.
func TestPublicURLHostMustBeASCII(t *testing.T) {
	c := Default()
	c.PublicURL = "https://bücher.example"
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "public_url") || !strings.Contains(err.Error(), "https://xn--bcher-kva.example") {
		t.Fatalf("got %v", err)
	}
	c.PublicURL = "https://xn--bcher-kva.example"
	if err := c.Validate(); err != nil && strings.Contains(err.Error(), "public_url") {
		t.Fatalf("the ASCII form refused: %v", err)
	}
}

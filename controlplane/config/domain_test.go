package config_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"

	"github.com/edgeauth/edgeauth/controlplane/config"
	"github.com/edgeauth/edgeauth/verifier"
	"golang.org/x/net/publicsuffix"
)

// A cookies.domain that Validate accepts must reach the browser: the Set-Cookie header
// the control plane writes carries exactly that Domain, and the edge accepts the
// published configuration (whose clearing cookies name the same Domain).
func TestAcceptedDomainIsTheDomainSetCookieCarries(t *testing.T) {
	for _, tc := range []struct{ publicURL, domain string }{
		{"https://auth.my_corp.example.com", "my_corp.example.com"}, // underscore label
		{"https://auth.bücher.de", "bücher.de"},                     // IDN not in A-label form
		{"https://auth.example..com", "example..com"},               // empty label
		{"https://a.b.1.2.3", "1.2.3"},                              // no letter
		{"https://auth.example.com.", "example.com."},               // trailing dot
	} {
		cfg := config.Default()
		cfg.PublicURL, cfg.Keys.KEK = tc.publicURL, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
		cfg.Cookies.Domain = tc.domain
		if err := cfg.Validate(); err != nil {
			continue // refused with a message: fine
		}
		for _, spec := range []string{"access", "refresh"} {
			s := cfg.AccessCookie()
			if spec == "refresh" {
				s = cfg.RefreshCookie()
			}
			line := s.Cookie("v").String()
			got, err := http.ParseSetCookie(line)
			if err != nil || got.Domain != s.Domain {
				t.Errorf("domain %q accepted, but the %s cookie goes out as %q (Domain %q, edge config says %q)",
					tc.domain, spec, line, got.Domain, s.Domain)
			}
		}
		engine := verifier.NewNative()
		err := engine.Configure(context.Background(), verifier.Config{EdgeConfig: cfg.EdgeConfig(),
			LocalConfig: verifier.LocalConfig{PublicPaths: []string{"/auth/", cfg.LoginPath}, DefaultProtected: true}})
		if err != nil {
			t.Errorf("domain %q accepted, but edges refuse the published configuration: %v", tc.domain, err)
		}
		engine.Close(context.Background())
	}
}

// A cookies.domain that Validate accepts is one the public host can set: a browser
// (here net/http/cookiejar with the Public Suffix List, as browsers use it) stores the
// cookie and sends it to a sibling subdomain. A public suffix (co.uk, herokuapp.com,
// github.io) is refused by browsers as a Domain.
func TestAcceptedDomainIsNotAPublicSuffix(t *testing.T) {
	for _, tc := range []struct{ publicURL, domain, sibling string }{
		{"https://auth.example.co.uk", "co.uk", "https://app.example.co.uk/"},
		{"https://myauth.herokuapp.com", "herokuapp.com", "https://myapp.herokuapp.com/"},
		{"https://auth.example.co.uk", "example.co.uk", "https://app.example.co.uk/"}, // control: must work
	} {
		cfg := config.Default()
		cfg.PublicURL, cfg.Keys.KEK = tc.publicURL, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
		cfg.Cookies.Domain = tc.domain
		if err := cfg.Validate(); err != nil {
			if tc.domain == "example.co.uk" {
				t.Errorf("a registrable parent refused: %v", err)
			}
			continue // refused: fine
		}
		jar, _ := cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List})
		pub, _ := url.Parse(tc.publicURL + "/auth/login")
		resp := &http.Response{Header: http.Header{"Set-Cookie": {cfg.AccessCookie().Cookie("tok").String()}}}
		jar.SetCookies(pub, resp.Cookies())
		sib, _ := url.Parse(tc.sibling)
		if len(jar.Cookies(pub)) == 0 || len(jar.Cookies(sib)) == 0 {
			t.Errorf("cookies.domain %q accepted for %s, but a browser drops %q: the public host cannot set a cookie for a public suffix",
				tc.domain, tc.publicURL, cfg.AccessCookie().Cookie("tok").String())
		}
	}
}

// In development over plain HTTP, cookies have no prefix and no Secure (README, "Run it
// locally"), so a cookies.domain needs neither: the cookies go out with that Domain, a
// browser over http stores them and sends them to a sibling subdomain, and edges accept
// the published configuration.
func TestDomainInPlainHTTPDevelopment(t *testing.T) {
	cfg := config.Default()
	cfg.Dev, cfg.PublicURL, cfg.Cookies.Domain = true, "http://auth.example.test:8080", "example.test"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List})
	pub, _ := url.Parse(cfg.PublicURL + "/auth/login")
	var lines []string
	for _, s := range []struct{ name, line string }{
		{"edgeauth_at", cfg.AccessCookie().Cookie("a").String()},
		{"edgeauth_rt", cfg.RefreshCookie().Cookie("r").String()},
	} {
		c, err := http.ParseSetCookie(s.line)
		if err != nil || c.Name != s.name || c.Domain != "example.test" || c.Secure {
			t.Fatalf("Set-Cookie %q: %+v %v", s.line, c, err)
		}
		lines = append(lines, s.line)
	}
	jar.SetCookies(pub, (&http.Response{Header: http.Header{"Set-Cookie": lines}}).Cookies())
	sib, _ := url.Parse("http://app.example.test:3000/")
	if got := jar.Cookies(sib); len(got) != 1 || got[0].Name != "edgeauth_at" {
		t.Fatalf("a sibling over http gets %v", got)
	}
	engine := verifier.NewNative()
	defer engine.Close(context.Background())
	if err := engine.Configure(context.Background(), verifier.Config{EdgeConfig: cfg.EdgeConfig(),
		LocalConfig: verifier.LocalConfig{PublicPaths: []string{"/auth/", cfg.LoginPath}, DefaultProtected: true}}); err != nil {
		t.Fatalf("edges refuse the published configuration: %v", err)
	}
}

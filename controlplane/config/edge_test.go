package config_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/edgeauth/edgeauth/controlplane/config"
	"github.com/edgeauth/edgeauth/verifier"
)

// The published edge configuration is accepted by the verifier for every cookie layout
// the control plane can produce, and the gate clears each cookie with exactly the
// attributes the control plane's own clearing cookie has (else the browser would keep
// it).
func TestEdgeConfigMatchesTheControlPlanesCookies(t *testing.T) {
	for name, mod := range map[string]func(*config.Config){
		"development": func(c *config.Config) { c.Dev, c.PublicURL, c.Keys.KEK = true, "http://127.0.0.1:8000", "" },
		"production":  func(c *config.Config) {},
		"domain":      func(c *config.Config) { c.Cookies.Domain = "example.com" },
		"strict, refresh cookie on /": func(c *config.Config) {
			c.Cookies.SameSite, c.Cookies.RefreshPath, c.LoginPath = "strict", "/", "/sign-in"
		},
		"none": func(c *config.Config) { c.Cookies.SameSite = "none" },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := config.Default()
			cfg.PublicURL, cfg.Keys.KEK = "https://auth.example.com", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
			mod(&cfg)
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			ec := cfg.EdgeConfig()
			var doc verifier.EdgeConfig
			if err := json.Unmarshal(cfg.EdgeConfigDocument(), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Issuer != cfg.Issuer || doc.Audience != cfg.Audience || doc.LoginPath != cfg.LoginPath ||
				doc.RefreshPath != config.RefreshEndpoint || doc.LogoutPath != config.LogoutEndpoint || doc.LeewaySeconds != 60 {
				t.Fatalf("document %+v", doc)
			}
			engine := verifier.NewNative()
			defer engine.Close(context.Background())
			full := verifier.Config{EdgeConfig: ec, LocalConfig: verifier.LocalConfig{
				PublicPaths: []string{"/auth/", cfg.LoginPath}, DefaultProtected: true}}
			if err := engine.Configure(context.Background(), full); err != nil {
				t.Fatalf("the verifier refuses the published configuration: %v", err)
			}
			// A malformed access cookie on a protected path: the gate clears both cookies.
			d, err := engine.Decide(context.Background(), verifier.Request{Method: "GET", Path: "/app/",
				Cookies: []string{ec.AccessCookie.Name + "=not-a-token"}}, 1767225600)
			if err != nil || len(d.ClearCookies) != 2 {
				t.Fatalf("decision %+v, %v", d, err)
			}
			for i, spec := range [...]struct {
				name string
				want *http.Cookie
			}{{"access", cfg.AccessCookie().ClearCookie()}, {"refresh", cfg.RefreshCookie().ClearCookie()}} {
				got, err := http.ParseSetCookie(d.ClearCookies[i])
				if err != nil {
					t.Fatal(err)
				}
				w := spec.want
				if got.Name != w.Name || got.Path != w.Path || got.Domain != w.Domain || got.Secure != w.Secure ||
					got.HttpOnly != w.HttpOnly || got.SameSite != w.SameSite || got.MaxAge >= 0 || got.Value != "" {
					t.Errorf("%s cookie cleared by the gate with %q, the control plane clears it with %q", spec.name, d.ClearCookies[i], w.String())
				}
			}
		})
	}
}

package config_test

import (
	"context"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/controlplane/config"
	"github.com/edgeauth/edgeauth/verifier"
)

// A login_path that Validate accepts is one edges accept in the published edge
// configuration: a canonical path, as the edge checks its login, refresh and logout
// paths. One it refuses is refused with the fix to make.
func TestAcceptedLoginPathIsOneEdgesAccept(t *testing.T) {
	for _, path := range []string{
		"/login",                        // control: accepted everywhere
		"/account/sign-in",              // control
		"/login?next=/",                 // a query
		"/auth/../login",                // a dot segment
		"/login/.",                      // a dot segment at the end
		"/a//login",                     // an empty segment
		"/log in",                       // a space
		"/login%2Fx",                    // an encoded '/'
		"/login%2f",                     // lower-case percent-encoding
		"/login#top",                    // a fragment
		"/\tlogin",                      // a control character
		"/" + strings.Repeat("l", 1100), // longer than an edge takes
	} {
		cfg := config.Default()
		cfg.PublicURL, cfg.Keys.KEK = "https://auth.example.com", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
		cfg.LoginPath = path
		if err := cfg.Validate(); err != nil {
			if !strings.Contains(err.Error(), "login_path") || !strings.Contains(err.Error(), "Fix:") {
				t.Errorf("login_path %q: refused without naming it and a fix: %v", path, err)
			}
			if path == "/login" || path == "/account/sign-in" {
				t.Errorf("login_path %q refused: %v", path, err)
			}
			continue
		}
		engine := verifier.NewNative()
		err := engine.Configure(context.Background(), verifier.Config{EdgeConfig: cfg.EdgeConfig()})
		engine.Close(context.Background())
		if err != nil {
			t.Errorf("login_path %q accepted, but edges refuse the published configuration: %v", path, err)
		}
	}
}

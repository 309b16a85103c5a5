package sessionauth_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/sessionauth"
)

// An AllowedOrigins entry with a password in it (basic auth written into the origin
// by mistake) is refused without the password: the error is printed at start-up, as
// NewSource's ControlPlane is (redact.URL).
func TestCheckerAllowedOriginsErrorHoldsNoPassword(t *testing.T) {
	const password = "Origin-Passw0rd"
	src, err := sessionauth.NewSource(sessionauth.SourceConfig{ControlPlane: "http://cp.invalid", NoStream: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"https://app:" + password + "@app.example", "https://app:" + password + "@app.example/path", "https://app:" + password + "@[::1"} {
		_, err := sessionauth.NewChecker(src, sessionauth.CheckerConfig{AllowedOrigins: []string{bad}})
		if err == nil {
			t.Fatalf("%q accepted", strings.ReplaceAll(bad, password, "<secret>"))
		}
		if msg := err.Error(); strings.Contains(msg, password) || !strings.Contains(msg, "AllowedOrigins") {
			t.Errorf("the error quotes the password: %s", strings.ReplaceAll(msg, password, "<secret>"))
		}
	}
}

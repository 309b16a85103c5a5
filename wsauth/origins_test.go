package wsauth_test

import (
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/internal/redact"
	"github.com/edgeauth/edgeauth/sessionauth"
	"github.com/edgeauth/edgeauth/wsauth"
)

// offlineChecker is a Checker whose source has fetched nothing: enough for Origin,
// which is checked before any token.
func offlineChecker(t *testing.T) *sessionauth.Checker {
	t.Helper()
	src, err := sessionauth.NewSource(sessionauth.SourceConfig{ControlPlane: "http://cp.invalid", NoStream: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	chk, err := sessionauth.NewChecker(src, sessionauth.CheckerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return chk
}

// AllowedOrigins are kept as a browser writes Origin, whatever their spelling: an
// entry a browser would never send as written still lets its pages in, and an Origin
// is compared as it comes (not folded, no default port dropped).
func TestAllowedOriginsAreKeptAsBrowsersSendThem(t *testing.T) {
	srv, err := wsauth.New(wsauth.Config{Checker: offlineChecker(t), Logger: slog.New(slog.DiscardHandler), AllowedOrigins: []string{
		" https://App.Example:443/", "HTTP://localhost:8080", "http://pages.example:80", "https://Bücher.example", "http://[2001:DB8:0::1]:8080",
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"https://app.example", true},
		{"http://localhost:8080", true},
		{"http://pages.example", true},
		{"https://xn--bcher-kva.example", true},
		{"http://[2001:db8::1]:8080", true},
		{"https://App.Example:443", false}, // no browser writes it so
		{"https://app.example:443", false},
		{"https://App.example", false},
		{"http://app.example", false},
		{"https://bücher.example", false},
		{"http://localhost:8081", false},
		{"null", false},
	} {
		r := httptest.NewRequest("GET", "/live", nil)
		r.Header.Set("Origin", tc.origin)
		if err := srv.CheckOrigin(r); (err == nil) != tc.ok {
			t.Errorf("Origin %q: %v, want allowed %v", tc.origin, err, tc.ok)
		}
	}
}

// New refuses an entry that is not an origin, naming it and saying what to write.
func TestAllowedOriginsThatAreNotOrigins(t *testing.T) {
	for i, bad := range []string{
		"https://a.example?x", "https://a.example?", "https://user@a.example", "https://user:pw@a.example", "https://a.example/path",
		"https://a.example#f", "https://a.example#", "https://*.example", "wss://a.example", "a.example", "//a.example",
		"https://a.example:99999", "https://a.example:0", "https://a.example:", "https://a.example:x", "https://", "null", "", "*",
		"https://a.example\\b", "https://a%2eexample", "https://a example", "https://[::1", "https://[fe80::1%25eth0]", "https://127.1",
		"https://a..example", "https://-a.example",
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			_, err := wsauth.New(wsauth.Config{Checker: offlineChecker(t), AllowedOrigins: []string{"https://ok.example", bad}})
			if err == nil {
				t.Fatalf("%q: accepted", bad)
			}
			if msg := err.Error(); !strings.Contains(msg, "AllowedOrigins: "+strconv.Quote(redact.URL(bad))) || !strings.Contains(msg, "not an origin") ||
				!strings.Contains(msg, "https://app.example.com") {
				t.Errorf("%q: %v", bad, err)
			}
		})
	}
}

// An AllowedOrigins entry with a password in it (basic auth written into the origin
// by mistake) is refused without the password: the error is printed at start-up
// (hostdemo --ws-origins), as sessionauth's ControlPlane is (redact.URL).
func TestAllowedOriginsErrorHoldsNoPassword(t *testing.T) {
	const password = "Origin-Passw0rd"
	for _, bad := range []string{"https://app:" + password + "@app.example", "https://app:" + password + "@app.example/path", "https://app:" + password + "@[::1"} {
		_, err := wsauth.New(wsauth.Config{Checker: offlineChecker(t), AllowedOrigins: []string{bad}})
		if err == nil {
			t.Fatalf("%q accepted", strings.ReplaceAll(bad, password, "<secret>"))
		}
		if msg := err.Error(); strings.Contains(msg, password) || !strings.Contains(msg, "AllowedOrigins") {
			t.Errorf("the error quotes the password: %s", strings.ReplaceAll(msg, password, "<secret>"))
		}
	}
}

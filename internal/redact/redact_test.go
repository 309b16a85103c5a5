package redact

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://auth.example.com", "https://auth.example.com"},
		{"https://edge:s3cret@auth.example.com/x", "https://edge:xxxxx@auth.example.com/x"},
		{"https://edge:s3cret@auth.example.com:port", "(not shown: it may hold credentials)"},
		{"mailto:edge:s3cret@example.com", "(not shown: it may hold credentials)"},
		{"not a url", "not a url"},
		// A query's values are secrets as often as a password (an API key, a token):
		// hidden, their keys kept.
		{"https://auth.example.com/?key=s3cret", "https://auth.example.com/?key=xxxxx"},
		{"wss://chat.example.com/socket?room=1&token=s3cret", "wss://chat.example.com/socket?room=xxxxx&token=xxxxx"},
		{"https://edge:s3cret@auth.example.com/x?a=s3cret&&b", "https://edge:xxxxx@auth.example.com/x?a=xxxxx&&xxxxx"},
		{"https://auth.example.com?s3cret", "https://auth.example.com?xxxxx"},
		{"https://auth.example.com:port/?token=s3cret", "(not shown: it may hold credentials)"},
		{"urn:edge?token=s3cret", "(not shown: it may hold credentials)"},
	} {
		got := URL(tc.in)
		if got != tc.want || strings.Contains(got, "s3cret") {
			t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// A *url.Error quotes its URL as URL does, and still unwraps to its cause.
func TestError(t *testing.T) {
	cause := errors.New("connection refused")
	err := Error(&url.Error{Op: "Get", URL: "http://127.0.0.1:1/x?key=s3cret", Err: cause})
	if want := `Get "http://127.0.0.1:1/x?key=xxxxx": connection refused`; err.Error() != want || !errors.Is(err, cause) {
		t.Errorf("Error = %q (errors.Is cause: %v), want %q", err, errors.Is(err, cause), want)
	}
	if err := Error(cause); err != cause {
		t.Errorf("Error(%v) = %v, want it unchanged", cause, err)
	}
}

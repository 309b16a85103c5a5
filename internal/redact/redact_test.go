package redact

import (
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
	} {
		got := URL(tc.in)
		if got != tc.want || strings.Contains(got, "s3cret") {
			t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

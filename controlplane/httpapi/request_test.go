package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/controlplane/store"
	"github.com/edgeauth/edgeauth/keys"
)

func TestIsJSON(t *testing.T) {
	t.Parallel()
	for ct, want := range map[string]bool{
		"application/json":                  true,
		"application/json; charset=utf-8":   true,
		"Application/JSON; charset=UTF-8":   true,
		"application/json; charset=latin1":  false,
		"application/json; boundary=x":      false,
		"application/x-www-form-urlencoded": false,
		"multipart/form-data; boundary=x":   false,
		"text/plain":                        false,
		"application/jsonx":                 false,
		"":                                  false,
	} {
		if got := isJSON(ct); got != want {
			t.Errorf("isJSON(%q) = %v", ct, got)
		}
	}
}

func TestETagMatch(t *testing.T) {
	t.Parallel()
	const tag = `"abc"`
	for h, want := range map[string]bool{
		`"abc"`:          true,
		`W/"abc"`:        true,
		`"x", "abc"`:     true,
		` "x" ,W/"abc" `: true,
		`*`:              true,
		`"abcd"`:         false,
		`abc`:            false,
		`"x"`:            false,
	} {
		if got := etagMatch(h, tag); got != want {
			t.Errorf("etagMatch(%q) = %v", h, got)
		}
	}
}

// Every declared error has a distinct code and a 4xx/5xx status.
func TestErrorTable(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, e := range allErrors {
		if seen[e.Code] || e.Status < 400 || e.Status > 599 || e.Message == "" {
			t.Errorf("%+v", e)
		}
		seen[e.Code] = true
	}
}

// Storage failures are told apart by the store's classification (store.Classify),
// never here: an unavailable database is 503, bad stored input 400, anything else 500.
func TestTransient(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		err    error
		status int
	}{
		{"stale keys", fmt.Errorf("sign: %w", keys.ErrStale), 503},
		{"database unavailable", fmt.Errorf("login: %w: %w", store.ErrUnavailable, io.ErrUnexpectedEOF), 503},
		{"deadline", context.DeadlineExceeded, 503},
		{"value not storable", fmt.Errorf("user by email: %w", store.ErrInvalidInput), 400},
		{"internal database error", fmt.Errorf("x: %w", store.ErrInternal), 500},
		{"programming error", errors.New("nil map"), 500},
	} {
		if e := asAPIError(tc.err); e.Status != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, e.Status, tc.status)
		}
	}
}

// A refused Origin is quoted back in the error message: printable ASCII only (an origin
// is ASCII: browsers send the xn-- form), so no bidi override, invisible character or
// half of a cut multi-byte character reaches the answer or the log.
func TestQuoteHeaderIsPlainASCII(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://app.example":         `"https://app.example"`,
		"https://\u202eelpmaxe.evil":  `"https://?elpmaxe.evil"`,
		"https://a\u200bb.example":    `"https://a?b.example"`,
		"https://bücher.example":      `"https://b?cher.example"`,
		"a\"b\x00c\x7f":               `"a?b?c?"`,
		strings.Repeat("a", 99) + "é": `"` + strings.Repeat("a", 99) + `?"`,
		strings.Repeat("b", 150):      `"` + strings.Repeat("b", 100) + `"`,
	} {
		if got := quoteHeader(in); got != want {
			t.Errorf("quoteHeader(%q) = %q, want %q", in, got, want)
		}
	}
}

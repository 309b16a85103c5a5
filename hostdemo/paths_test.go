package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// "//" is no more canonical than "/app//", which the gate decides: the gate decides it
// too, as the JS edge does, rather than http.ServeMux answering it with a redirect to
// "/" that no gate decided (canonicalOrGate). A path that is not canonical is never
// public (ABI.md, "Paths"): sign-in first, then forwarded as it is.
func TestBinaryDecidesADoubleSlashRoot(t *testing.T) {
	upstream, seen := recordingApp(t)
	d := startDemo(t, demoOptions{args: []string{"--upstream", upstream}})
	resp, body := d.do(http.MethodGet, "//", "", nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "/login") {
		t.Errorf("GET // signed out: %s, Location %q, %q; want the gate's redirect to the login page", resp.Status, loc, body)
	}
	d.signIn("member@example.test")
	resp, body = d.do(http.MethodGet, "//", "", nil)
	if resp.StatusCode != http.StatusOK || body != "upstream" || !slices.Contains(seen(), "//") {
		t.Errorf("GET // signed in: %s, Location %q, %q (upstream saw %q); want the upstream's answer",
			resp.Status, resp.Header.Get("Location"), body, seen())
	}
}

package metrics_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/controlplane/metrics"
)

// Every label value the handlers record (controlplane/httpapi/auth.go) is named in its
// metric's HELP, which is what an operator reading /metrics has to go by.
func TestHelpNamesEveryLabelValue(t *testing.T) {
	m := metrics.New()
	for _, r := range []string{"ok", "invalid_credentials", "throttled", "error"} {
		m.Login(r)
	}
	for _, r := range []string{"ok", "user_exists", "invalid", "throttled", "error"} {
		m.Signup(r)
	}
	for _, r := range []string{"ok", "invalid_credentials", "throttled", "invalid", "error"} {
		m.PasswordChange(r)
	}
	for _, r := range []string{"missing", "rotated", "reused", "invalid", "error"} {
		m.Refresh(r)
	}
	for _, r := range []string{"logout", "logout_all", "logout_others", "revoke"} {
		m.Revocation(r, 1)
	}
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range families {
		switch f.GetName() {
		case "edgeauth_logins_total", "edgeauth_signups_total", "edgeauth_password_changes_total", "edgeauth_refreshes_total", "edgeauth_session_revocations_total":
		default:
			continue
		}
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				checked++
				if !slices.Contains(words(f.GetHelp()), l.GetValue()) {
					t.Errorf("%s{%s=%q}: HELP %q does not name the value", f.GetName(), l.GetName(), l.GetValue(), f.GetHelp())
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no labelled series gathered")
	}
}

// words splits a HELP text into its words (letters and underscores).
func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || r == '_') })
}

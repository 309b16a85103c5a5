package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/controlplane/config"
)

// loadGrace loads a configuration file whose sessions.refresh_grace is written as grace.
func loadGrace(t *testing.T, grace string) (config.Config, error) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "edgeauth.yaml")
	body := "public_url: https://auth.example.com\nkeys:\n  kek: " + testKEK + "\nsessions:\n  refresh_grace: " + grace + "\n"
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	fs := serveFlags()
	if err := fs.Parse([]string{"--config", file}); err != nil {
		t.Fatal(err)
	}
	return loadConfig(fs, nil)
}

// A duration written as a bare number in the YAML file (refresh_grace: 30) must not be
// read as 30 nanoseconds and accepted; a bare 0 is the one number that needs no unit
// (refresh_grace: 0 means no grace), and "30s" is what was meant.
func TestLoadConfigDurationsNeedAUnit(t *testing.T) {
	if cfg, err := loadGrace(t, "30"); err == nil || !strings.Contains(err.Error(), "sessions.refresh_grace: 30 has no unit") {
		t.Fatalf("refresh_grace: 30 gave %d ns, %v; want refused for its missing unit", cfg.Sessions.RefreshGrace, err)
	}
	for grace, want := range map[string]string{"0": "0s", "30s": "30s"} {
		if cfg, err := loadGrace(t, grace); err != nil || cfg.Sessions.RefreshGrace.String() != want {
			t.Fatalf("refresh_grace: %s gave %v, %v; want %s", grace, cfg.Sessions.RefreshGrace, err, want)
		}
	}
}

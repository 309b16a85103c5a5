package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A duration written as a bare number in the YAML file (refresh_grace: 30) must not be
// read as 30 nanoseconds and accepted.
func TestLoadConfigRefusesABareNumberForADuration(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "edgeauth.yaml")
	if err := os.WriteFile(file, []byte("public_url: https://auth.example.com\nkeys:\n  kek: "+testKEK+"\nsessions:\n  refresh_grace: 30\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fs := serveFlags()
	if err := fs.Parse([]string{"--config", file}); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(fs, nil)
	if err == nil || !strings.Contains(err.Error(), "sessions.refresh_grace: 30 has no unit") {
		t.Fatalf("sessions.refresh_grace: 30 gave %v (%d ns), %v; want refused for its missing unit", cfg.Sessions.RefreshGrace, cfg.Sessions.RefreshGrace, err)
	}
}

// A bare 0 is the one number that needs no unit (refresh_grace: 0 means no grace).
func TestLoadConfigTakesABareZeroDuration(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "edgeauth.yaml")
	if err := os.WriteFile(file, []byte("public_url: https://auth.example.com\nkeys:\n  kek: "+testKEK+"\nsessions:\n  refresh_grace: 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fs := serveFlags()
	if err := fs.Parse([]string{"--config", file}); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(fs, nil)
	if err != nil || cfg.Sessions.RefreshGrace != 0 {
		t.Fatalf("refresh_grace: 0: %v %v", cfg.Sessions.RefreshGrace, err)
	}
}

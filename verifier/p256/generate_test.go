package p256

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedFieldCode checks that field_mul.go is what gen_field.go writes, so the
// generator stays the source of truth.
func TestGeneratedFieldCode(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go tool not found: %v", err)
	}
	out := filepath.Join(t.TempDir(), "field_mul.go")
	cmd := exec.Command(goTool, "run", "gen_field.go", "-o", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run gen_field.go: %v\n%s", err, msg)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("field_mul.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("field_mul.go is stale: run go generate in verifier/p256")
	}
}

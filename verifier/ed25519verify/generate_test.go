package ed25519verify

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedCode checks that field_mul.go and table_base.go are what their
// generators write, so the generators stay the source of truth.
func TestGeneratedCode(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go tool not found: %v", err)
	}
	for _, c := range []struct{ gen, file string }{
		{"gen_field.go", "field_mul.go"},
		{"gen_table.go", "table_base.go"},
	} {
		out := filepath.Join(t.TempDir(), c.file)
		cmd := exec.Command(goTool, "run", c.gen, "-o", out)
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go run %s: %v\n%s", c.gen, err, msg)
		}
		want, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s is stale: run go generate in verifier/ed25519verify", c.file)
		}
	}
}

package policy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedFoldTable checks that fold_table.go is what gen_fold.go writes from the
// Unicode data of this Go and golang.org/x/text, so the generator stays the source of
// truth.
func TestGeneratedFoldTable(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go tool not found: %v", err)
	}
	out := filepath.Join(t.TempDir(), "fold_table.go")
	cmd := exec.Command(goTool, "run", "gen_fold.go", "-o", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run gen_fold.go: %v\n%s", err, msg)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("fold_table.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("fold_table.go is stale: run go generate in verifier/policy")
	}
}

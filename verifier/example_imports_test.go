package verifier_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The Examples are the public Go API's documentation: a reader pastes them into a
// program of their own, outside this module, where no internal package can be
// imported (verifier/internal/vectors was). Every example_test.go of the module
// imports only what any program can.
func TestExamplesImportNoInternalPackage(t *testing.T) {
	root := ".." // the module's root
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".") && path != root) {
			return filepath.SkipDir
		}
		if d.IsDir() || d.Name() != "example_test.go" {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.Contains("/"+p+"/", "/internal/") {
				t.Errorf("%s imports %s, which a program outside this module cannot", path, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

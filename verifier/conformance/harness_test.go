package conformance

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
	"github.com/edgeauth/edgeauth/verifier/wasmhost"
)

// cache shares wazero's compilation of verifier.wasm between the hosts of this test
// binary, so each test gets a fresh host without compiling the module again.
var cache = sync.OnceValue(wazero.NewCompilationCache)

// newWasm returns a fresh wasm host on the committed module, closed with the test.
func newWasm(tb testing.TB, opts wasmhost.Options) *wasmhost.Host {
	tb.Helper()
	opts.CompilationCache = cache()
	h, err := wasmhost.NewEmbedded(context.Background(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { h.Close(context.Background()) })
	return h
}

// newNative returns a fresh native engine, closed with the test.
func newNative(tb testing.TB) verifier.Engine {
	e := verifier.NewNative()
	tb.Cleanup(func() { e.Close(context.Background()) })
	return e
}

// engines names the two engines every conformance test runs against.
var engines = []struct {
	name string
	new  func(tb testing.TB) verifier.Engine
}{
	{"go", newNative},
	{"wasm", func(tb testing.TB) verifier.Engine { return newWasm(tb, wasmhost.Options{}) }},
}

// eachEngine runs fn as t.Run("go", ...) with the native engine and t.Run("wasm", ...)
// with the module in wazero, each with a fresh engine.
func eachEngine(t *testing.T, fn func(t *testing.T, e verifier.Engine)) {
	t.Helper()
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) { fn(t, eng.new(t)) })
	}
}

// wycheproofDir is the directory of the Wycheproof files the project carries.
func wycheproofDir(tb testing.TB) string {
	tb.Helper()
	dir, err := vectors.WycheproofDir()
	if err != nil {
		tb.Fatal(err)
	}
	return dir
}

// repoRoot walks up from the test's directory to the one holding go.mod.
func repoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

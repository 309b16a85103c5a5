package conformance

import (
	"context"
	"os"
	"path/filepath"
	"strings"
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

// moduleSigs returns opts with every signature checked inside the module (its own
// crypto, the reference); without it the host checks RS256 signatures (the two-phase
// path, wasmhost's default).
func moduleSigs(opts wasmhost.Options) wasmhost.Options {
	opts.ModuleSignatures = true
	return opts
}

// engines names the engines and paths every conformance test runs against: the native
// engine, the module with its own crypto, and the module on the two-phase path (RS256
// signatures checked by the host with crypto/rsa, every other check in the module).
var engines = []struct {
	name string
	new  func(tb testing.TB) verifier.Engine
}{
	{"go", newNative},
	{"wasm", func(tb testing.TB) verifier.Engine { return newWasm(tb, moduleSigs(wasmhost.Options{})) }},
	{"wasm-twophase", func(tb testing.TB) verifier.Engine { return newWasm(tb, wasmhost.Options{}) }},
}

// eachEngine runs fn as t.Run("go", ...) with the native engine, t.Run("wasm", ...)
// with the module in wazero and t.Run("wasm-twophase", ...) with the module on the
// two-phase path, each with a fresh engine.
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

// checkHostChecked checks that the path under test is the one named: on
// "wasm-twophase" the host checked signatures for the module, on "wasm" none. Call it
// (deferred) in suites that verify RS256 tokens.
func checkHostChecked(t *testing.T, e verifier.Engine) {
	t.Helper()
	h, ok := e.(*wasmhost.Host)
	if !ok {
		return
	}
	switch n := h.HostSignatureChecks(); {
	case strings.HasSuffix(t.Name(), "/wasm-twophase") && n == 0:
		t.Error("wasm-twophase: the host checked no signature: the two-phase path did not run")
	case strings.HasSuffix(t.Name(), "/wasm") && n != 0:
		t.Errorf("wasm: the host checked %d signatures: the module's own crypto did not run", n)
	}
}

package conformance

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/gate"
	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
)

var update = flag.Bool("update", false, "rewrite the generated sections of verifier/CONFORMANCE.md")

// TestWycheproof runs every Wycheproof signature case through the raw-signature path of
// both engines (gate.VerifySignature natively, the verify_signature export in wazero,
// with the module's own crypto and on the two-phase path, where the host checks RS256):
// all three must return the same status on every case, "valid" cases must verify and
// "invalid" ones must not ("acceptable" ones may go either way, identically). The
// counts are kept in verifier/CONFORMANCE.md; the test fails when they change
// (go test ./verifier/conformance -run TestWycheproof -update rewrites them).
func TestWycheproof(t *testing.T) {
	dir := wycheproofDir(t)
	cases, err := vectors.Wycheproof(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no Wycheproof cases loaded from " + dir)
	}
	h, twoPhase := newWasm(t, moduleSigs(wasmOpts1)), newWasm(t, wasmOpts1)
	type counts struct{ valid, invalid, acceptable, accepted, rejected int }
	perFile := map[string]*counts{}
	for _, c := range cases {
		in := abi.EncodeSignatureCheck(c.JWK, c.Msg, c.Sig)
		native := abi.StatusOf(gate.VerifySignature(in))
		wasm := abi.StatusOf(h.VerifySignature(context.Background(), in))
		wasm2 := abi.StatusOf(twoPhase.VerifySignature(context.Background(), in))
		id := fmt.Sprintf("%s tcId %d (%s)", c.File, c.TcID, c.Comment)
		if native != wasm || native != wasm2 {
			t.Errorf("%s: engines differ: go %v, wasm %v, wasm-twophase %v", id, native.Err(), wasm.Err(), wasm2.Err())
		}
		if native == abi.StatusInternal || native == abi.StatusInputTooLarge {
			t.Errorf("%s: %v", id, native.Err())
		}
		n := perFile[c.File]
		if n == nil {
			n = &counts{}
			perFile[c.File] = n
		}
		switch c.Result {
		case "valid":
			n.valid++
			if native != abi.StatusOK {
				t.Errorf("%s: valid case rejected: %v", id, native.Err())
			}
		case "invalid":
			n.invalid++
			if native == abi.StatusOK {
				t.Errorf("%s: invalid case accepted", id)
			}
		case "acceptable":
			n.acceptable++
		default:
			t.Errorf("%s: unknown result %q", id, c.Result)
		}
		if native == abi.StatusOK {
			n.accepted++
		} else {
			n.rejected++
		}
	}
	if h.HostSignatureChecks() != 0 || twoPhase.HostSignatureChecks() == 0 {
		t.Errorf("host signature checks: %d with the module's crypto, %d on the two-phase path",
			h.HostSignatureChecks(), twoPhase.HostSignatureChecks())
	}
	t.Logf("the host checked %d RS256 signatures on the two-phase path", twoPhase.HostSignatureChecks())
	var b strings.Builder
	b.WriteString("| file | cases | valid | invalid | acceptable | accepted | rejected |\n|---|---:|---:|---:|---:|---:|---:|\n")
	files := slices.Sorted(maps.Keys(perFile))
	var total counts
	for _, f := range files {
		n := perFile[f]
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %d |\n", f, n.valid+n.invalid+n.acceptable,
			n.valid, n.invalid, n.acceptable, n.accepted, n.rejected)
		total.valid += n.valid
		total.invalid += n.invalid
		total.acceptable += n.acceptable
		total.accepted += n.accepted
		total.rejected += n.rejected
	}
	fmt.Fprintf(&b, "| **total** | %d | %d | %d | %d | %d | %d |\n", len(cases),
		total.valid, total.invalid, total.acceptable, total.accepted, total.rejected)
	checkSection(t, "wycheproof", b.String())

	var d strings.Builder
	for _, id := range slices.Sorted(maps.Keys(vectors.DefectiveJWS)) {
		fmt.Fprintf(&d, "- tcId %d: %s\n", id, vectors.DefectiveJWS[id])
	}
	checkSection(t, "defective", d.String())
}

// checkSectionSoft is checkSection for counts that legitimately change with other
// packages' vectors: a difference is logged, and rewritten under -update.
func checkSectionSoft(t *testing.T, name, want string) {
	t.Helper()
	if *update {
		checkSection(t, name, want)
		return
	}
	if got, ok := section(t, name); !ok || got != want {
		t.Logf("CONFORMANCE.md section %q is stale (go test ./verifier/conformance -run %s -update):\n%s", name, t.Name(), want)
	}
}

func section(t *testing.T, name string) (string, bool) {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(repoRoot(t), "verifier", "CONFORMANCE.md"))
	if err != nil {
		t.Fatal(err)
	}
	begin, end := "<!-- "+name+":begin -->\n", "<!-- "+name+":end -->"
	i, j := strings.Index(string(doc), begin), strings.Index(string(doc), end)
	if i < 0 || j < i {
		return "", false
	}
	return string(doc[i+len(begin) : j]), true
}

// checkSection compares a generated section of CONFORMANCE.md (between
// <!-- name:begin --> and <!-- name:end -->) with want, or rewrites it under -update.
func checkSection(t *testing.T, name, want string) {
	t.Helper()
	path := filepath.Join(repoRoot(t), "verifier", "CONFORMANCE.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	begin, end := "<!-- "+name+":begin -->\n", "<!-- "+name+":end -->"
	i, j := strings.Index(string(doc), begin), strings.Index(string(doc), end)
	if i < 0 || j < i {
		t.Fatalf("CONFORMANCE.md lacks the markers of section %q", name)
	}
	got := string(doc[i+len(begin) : j])
	if got == want {
		return
	}
	if !*update {
		t.Fatalf("CONFORMANCE.md section %q is out of date (run with -update):\n%s", name, want)
	}
	out := string(doc[:i+len(begin)]) + want + string(doc[j:])
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
}

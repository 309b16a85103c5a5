package conformance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/gate/gatetest"
	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
	"github.com/edgeauth/edgeauth/verifier/jose"
	"github.com/tetratelabs/wazero"
)

// statusTable is the status vocabulary as ABI.md and the JS helper must spell it.
// The test checks it against package abi first, so a new code cannot be forgotten here.
var statusTable = []struct {
	status   abi.Status
	name     string
	err      error
	sentinel string
}{
	{abi.StatusOK, "OK", nil, "(nil)"},
	{abi.StatusMalformed, "Malformed", abi.ErrMalformed, "ErrMalformed"},
	{abi.StatusTooLarge, "TooLarge", abi.ErrTooLarge, "ErrTooLarge"},
	{abi.StatusUnsupportedHeader, "UnsupportedHeader", abi.ErrUnsupportedHeader, "ErrUnsupportedHeader"},
	{abi.StatusAlgorithmNotAllowed, "AlgorithmNotAllowed", abi.ErrAlgorithmNotAllowed, "ErrAlgorithmNotAllowed"},
	{abi.StatusUnknownKey, "UnknownKey", abi.ErrUnknownKey, "ErrUnknownKey"},
	{abi.StatusSignatureInvalid, "SignatureInvalid", abi.ErrSignatureInvalid, "ErrSignatureInvalid"},
	{abi.StatusExpired, "Expired", abi.ErrExpired, "ErrExpired"},
	{abi.StatusNotValidYet, "NotValidYet", abi.ErrNotValidYet, "ErrNotValidYet"},
	{abi.StatusIssuedInFuture, "IssuedInFuture", abi.ErrIssuedInFuture, "ErrIssuedInFuture"},
	{abi.StatusInvalidIssuer, "InvalidIssuer", abi.ErrInvalidIssuer, "ErrInvalidIssuer"},
	{abi.StatusInvalidAudience, "InvalidAudience", abi.ErrInvalidAudience, "ErrInvalidAudience"},
	{abi.StatusInvalidType, "InvalidType", abi.ErrInvalidType, "ErrInvalidType"},
	{abi.StatusInvalidClaims, "InvalidClaims", abi.ErrInvalidClaims, "ErrInvalidClaims"},
	{abi.StatusRevoked, "Revoked", abi.ErrRevoked, "ErrRevoked"},
	{abi.StatusInvalidConfig, "InvalidConfig", abi.ErrInvalidConfig, "ErrInvalidConfig"},
	{abi.StatusInvalidKeySet, "InvalidKeySet", abi.ErrInvalidKeySet, "ErrInvalidKeySet"},
	{abi.StatusInvalidRevocationList, "InvalidRevocationList", abi.ErrInvalidRevocationList, "ErrInvalidRevocationList"},
	{abi.StatusInvalidRequest, "InvalidRequest", abi.ErrInvalidRequest, "ErrInvalidRequest"},
	{abi.StatusInputTooLarge, "InputTooLarge", abi.ErrInputTooLarge, "ErrInputTooLarge"},
	{abi.StatusNotConfigured, "NotConfigured", abi.ErrNotConfigured, "ErrNotConfigured"},
	{abi.StatusInternal, "Internal", abi.ErrInternal, "ErrInternal"},
	{abi.StatusNeedSignature, "NeedSignature", abi.ErrNeedSignature, "ErrNeedSignature"},
}

func TestStatusTableMatchesPackageABI(t *testing.T) {
	for i, row := range statusTable {
		if int(row.status) != i || row.status.Err() != row.err || abi.StatusOf(row.err) != row.status {
			t.Errorf("row %d (%s) does not match package abi", i, row.name)
		}
	}
	// The code after the last row must be unknown (mapped to ErrInternal), otherwise
	// package abi grew a status this table, ABI.md and the JS helper lack.
	next := abi.Status(len(statusTable))
	if next.Err() != abi.ErrInternal || abi.StatusOf(abi.StatusInternal.Err()) != abi.StatusInternal {
		t.Errorf("package abi knows status %d, missing from the table", next)
	}
}

func readRepoFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestABIDocumentListsEveryExportAndStatus(t *testing.T) {
	doc := readRepoFile(t, "verifier/ABI.md")
	if !strings.Contains(doc, fmt.Sprintf("# verifier.wasm ABI (version %d)", abi.Version)) {
		t.Errorf("title does not name ABI version %d", abi.Version)
	}
	params := map[int]string{0: "()", 1: "(len i32)", 2: "(len i32, now i64)"}
	for _, e := range abi.RequiredExports {
		results := "()"
		if e.Results == 1 {
			results = "i64"
			if e.Params == 0 && e.Name != abi.ExportIdentity && e.Name != abi.ExportHeapAllocs {
				results = "i32"
			}
		}
		row := fmt.Sprintf("| `%s` | `%s -> %s` |", e.Name, params[e.Params], results)
		if !strings.Contains(doc, row) {
			t.Errorf("ABI.md lacks the export row %q", row)
		}
	}
	if !strings.Contains(doc, "| `"+abi.ExportMemory+"` | memory |") {
		t.Error("ABI.md lacks the memory export")
	}
	if !strings.Contains(doc, fmt.Sprintf("(%d = %d KiB)", abi.BufferCap, abi.BufferCap>>10)) {
		t.Error("ABI.md does not state buf_cap")
	}
	for _, row := range []string{
		"| `" + abi.ExportHostSignatures + "` | `(mask i32) -> i64` |",
		"| `" + abi.ExportSignatureVerdict + "` | `(valid i32) -> i64` |",
	} {
		if !strings.Contains(doc, row) {
			t.Errorf("ABI.md lacks the export row %q", row)
		}
	}
	if len(abi.TwoPhaseExports) != 2 {
		t.Errorf("package abi has %d two-phase exports, the test knows 2", len(abi.TwoPhaseExports))
	}
	for _, row := range statusTable {
		sentinel := row.sentinel
		if row.err != nil {
			sentinel = "`" + sentinel + "`"
		}
		want := fmt.Sprintf("| %d | `%s` | %s |", row.status, row.name, sentinel)
		if !strings.Contains(doc, want) {
			t.Errorf("ABI.md lacks the status row %q", want)
		}
	}
}

func TestABIDocumentListsEveryDecisionReason(t *testing.T) {
	doc := readRepoFile(t, "verifier/ABI.md")
	for _, r := range abi.Reasons {
		if !strings.Contains(doc, "\n| `"+string(r)+"` |") {
			t.Errorf("ABI.md lacks the decision reason %q", r)
		}
	}
	section := doc[strings.Index(doc, "## Decision reasons"):strings.Index(doc, "## Host state")]
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\|").FindAllStringSubmatch(section, -1) {
		if !slices.Contains(abi.Reasons[:], abi.Reason(m[1])) {
			t.Errorf("ABI.md documents reason %q, which package gate does not have", m[1])
		}
	}
}

func TestJSHelperMirrorsTheABI(t *testing.T) {
	js := readRepoFile(t, "js/src/verifier.mjs")
	m := regexp.MustCompile(`(?s)export const STATUS = \[(.*?)\];`).FindStringSubmatch(js)
	if m == nil {
		t.Fatal("edgeauth.mjs: STATUS array not found")
	}
	names := regexp.MustCompile(`"([A-Za-z]+)"`).FindAllStringSubmatch(m[1], -1)
	if len(names) != len(statusTable) {
		t.Fatalf("edgeauth.mjs lists %d statuses, package abi has %d", len(names), len(statusTable))
	}
	for i, n := range names {
		if n[1] != statusTable[i].name {
			t.Errorf("edgeauth.mjs status %d is %q, want %q", i, n[1], statusTable[i].name)
		}
	}
	if !strings.Contains(js, fmt.Sprintf("export const ABI_VERSION = %d;", abi.Version)) {
		t.Error("edgeauth.mjs ABI_VERSION differs from abi.Version")
	}
	for _, e := range append(slices.Clip(abi.RequiredExports), abi.TwoPhaseExports...) {
		m := regexp.MustCompile(`\n  ` + e.Name + `: \[\[([^\]]*)\], \[([^\]]*)\]\],`).FindStringSubmatch(js)
		if m == nil {
			t.Errorf("edgeauth.mjs REQUIRED_EXPORTS or TWO_PHASE_EXPORTS lacks %s", e.Name)
			continue
		}
		if got := count(m[1]); got != e.Params {
			t.Errorf("edgeauth.mjs: %s has %d params, want %d", e.Name, got, e.Params)
		}
		if got := count(m[2]); got != e.Results {
			t.Errorf("edgeauth.mjs: %s has %d results, want %d", e.Name, got, e.Results)
		}
	}
	// The compact record's codes: actions and reasons by index.
	for name, want := range map[string][]string{"ACTIONS": abi.Actions[:], "REASONS": reasonNames()} {
		m := regexp.MustCompile(`(?s)export const ` + name + ` = \[(.*?)\];`).FindStringSubmatch(js)
		if m == nil {
			t.Errorf("verifier.mjs: %s not found", name)
			continue
		}
		var got []string
		for _, q := range regexp.MustCompile(`"([a-z_]+)"`).FindAllStringSubmatch(m[1], -1) {
			got = append(got, q[1])
		}
		if !slices.Equal(got, want) {
			t.Errorf("verifier.mjs %s = %v, package abi has %v", name, got, want)
		}
	}
	if code := strings.Index(js, "new EdgeauthError(19,"); code < 0 || statusTable[19].name != "InputTooLarge" {
		t.Error("edgeauth.mjs must refuse oversized inputs with status 19 (InputTooLarge)")
	}
}

func reasonNames() []string {
	var out []string
	for _, r := range abi.Reasons {
		out = append(out, string(r))
	}
	return out
}

func count(list string) int {
	if strings.TrimSpace(list) == "" {
		return 0
	}
	return strings.Count(list, ",") + 1
}

// TestModuleExportsOnlyTheABI checks that the committed verifier.wasm exports the
// ABI's functions and memory and nothing else (TinyGo's runtime carries `//export`
// stubs that wasm.mk's post-link step removes), and that wasm.mk keeps the same list.
func TestModuleExportsOnlyTheABI(t *testing.T) {
	want := []string{abi.ExportMemory}
	for _, e := range abi.RequiredExports {
		want = append(want, e.Name)
	}
	for _, e := range abi.TwoPhaseExports {
		want = append(want, e.Name)
	}
	slices.Sort(want)

	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	m, err := rt.CompileModule(ctx, verifier.Module)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for name := range m.ExportedFunctions() {
		got = append(got, name)
	}
	for name := range m.ExportedMemories() {
		got = append(got, name)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("verifier.wasm exports %v, the ABI lists %v", got, want)
	}

	mk := regexp.MustCompile(`(?m)^WASM_EXPORTS := ((?:.*\\\n)*.*)$`).FindStringSubmatch(readRepoFile(t, "wasm.mk"))
	if mk == nil {
		t.Fatal("wasm.mk: WASM_EXPORTS not found")
	}
	listed := strings.Fields(strings.ReplaceAll(mk[1], "\\", " "))
	slices.Sort(listed)
	if !slices.Equal(listed, want) {
		t.Errorf("wasm.mk WASM_EXPORTS is %v, the ABI lists %v", listed, want)
	}
}

// docRows returns the rows of the Markdown table that follows heading in ABI.md, each
// as its cells (trimmed, header and separator rows skipped).
func docRows(t *testing.T, doc, heading string) [][]string {
	t.Helper()
	i := strings.Index(doc, heading)
	if i < 0 {
		t.Fatalf("ABI.md has no %q", heading)
	}
	var rows [][]string
	inTable := false
	for _, line := range strings.Split(doc[i:], "\n")[1:] {
		if !strings.HasPrefix(line, "|") {
			if inTable {
				break
			}
			continue
		}
		inTable = true
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		for k := range cells {
			cells[k] = strings.TrimSpace(cells[k])
		}
		if strings.HasPrefix(cells[0], "---") || strings.HasPrefix(cells[0], "--:") || cells[0] == "code" || cells[0] == "reason" {
			continue
		}
		rows = append(rows, cells)
	}
	return rows
}

var backticked = regexp.MustCompile("`([^`]+)`")

// Each status row names its code's sentinel, as package abi does.
func TestABIDocumentStatusRowsMeanWhatTheCodeDoes(t *testing.T) {
	doc := readRepoFile(t, "verifier/ABI.md")
	rows := docRows(t, doc, "## Status codes")
	if len(rows) != len(statusTable) {
		t.Fatalf("ABI.md lists %d status rows, package abi has %d codes", len(rows), len(statusTable))
	}
	for i, row := range rows {
		want := statusTable[i]
		if row[0] != fmt.Sprint(int(want.status)) || row[1] != "`"+want.name+"`" ||
			strings.Trim(row[2], "`") != want.sentinel {
			t.Errorf("ABI.md row %v, want code %d %s %s", row[:3], want.status, want.name, want.sentinel)
		}
	}

	// UnsupportedHeader: the members the row names are exactly the code's list, and
	// each is refused by both engines.
	var members []string
	for _, m := range backticked.FindAllStringSubmatch(rows[abi.StatusUnsupportedHeader][3], -1) {
		members = append(members, m[1])
	}
	slices.Sort(members)
	code := jose.UnsupportedHeaderMembers()
	slices.Sort(code)
	if !slices.Equal(members, code) {
		t.Errorf("ABI.md's UnsupportedHeader row lists %v, the code refuses %v", members, code)
	}
	eachEngine(t, func(t *testing.T, e verifier.Engine) {
		loadGateTable(t, e)
		for _, m := range code {
			h := map[string]any{"alg": "EdDSA", "kid": vectors.KIDEdDSA, "typ": "at+jwt", m: "x"}
			tok := vectors.EdDSAKey().Sign(gatetest.MustJSON(h), gatetest.MustJSON(gatetest.Claims(nil)))
			if _, err := e.VerifyToken(context.Background(), tok, gatetest.Now); !errors.Is(err, abi.ErrUnsupportedHeader) {
				t.Errorf("header member %q: %v, want UnsupportedHeader", m, err)
			}
		}
	})

	// NotConfigured: what the row says happens before configure, and after configure
	// without load_keys.
	notConfigured := rows[abi.StatusNotConfigured][3]
	for _, phrase := range []string{"`redirect`/`unknown_key`", "`verify_token` `UnknownKey`", "`load_revocations` `InvalidRevocationList`"} {
		if !strings.Contains(notConfigured, phrase) {
			t.Errorf("ABI.md's NotConfigured row lacks %q", phrase)
		}
	}
	eachEngine(t, func(t *testing.T, e verifier.Engine) {
		ctx := context.Background()
		protected := verifier.Request{Method: "GET", Path: "/dashboard", Cookies: []string{gatetest.AccessName + "=" + gatetest.Valid}}
		if _, err := e.Decide(ctx, protected, gatetest.Now); !errors.Is(err, abi.ErrNotConfigured) {
			t.Errorf("decide before configure: %v", err)
		}
		if _, err := e.VerifyToken(ctx, gatetest.Valid, gatetest.Now); !errors.Is(err, abi.ErrNotConfigured) {
			t.Errorf("verify_token before configure: %v", err)
		}
		if err := e.LoadRevocations(ctx, gatetest.Revocations(), gatetest.Now); !errors.Is(err, abi.ErrNotConfigured) {
			t.Errorf("load_revocations before configure: %v", err)
		}
		if err := e.Configure(ctx, gatetest.Config()); err != nil {
			t.Fatal(err)
		}
		if d, err := e.Decide(ctx, protected, gatetest.Now); err != nil || d.Action != verifier.ActionRedirect || d.Reason != verifier.ReasonUnknownKey {
			t.Errorf("decide without keys: %+v %v", d, err)
		}
		if _, err := e.VerifyToken(ctx, gatetest.Valid, gatetest.Now); !errors.Is(err, abi.ErrUnknownKey) {
			t.Errorf("verify_token without keys: %v", err)
		}
		if err := e.LoadRevocations(ctx, gatetest.Revocations(), gatetest.Now); !errors.Is(err, abi.ErrInvalidRevocationList) {
			t.Errorf("load_revocations without keys: %v", err)
		}
	})
}

// Every decision of the gate's table has the action ABI.md's reasons table gives for
// its reason, and every reason is emitted by some case.
func TestABIDocumentReasonsMeanWhatTheGateDoes(t *testing.T) {
	rows := docRows(t, readRepoFile(t, "verifier/ABI.md"), "## Decision reasons")
	action := map[abi.Reason]string{}
	for _, row := range rows {
		action[abi.Reason(strings.Trim(row[0], "`"))] = row[2]
	}
	for r, doc := range action { // "as `invalid_token` (...)": that row's actions
		if m := backticked.FindStringSubmatch(doc); strings.HasPrefix(doc, "as `") && m != nil {
			action[r] = action[abi.Reason(m[1])]
		}
	}
	if len(action) != len(abi.Reasons) {
		t.Errorf("ABI.md's reasons table has %d rows, package abi %d reasons", len(action), len(abi.Reasons))
	}
	emitted := map[abi.Reason]bool{}
	for _, c := range gatetest.Cases() {
		emitted[c.Want.Reason] = true
		doc, ok := action[c.Want.Reason]
		if !ok {
			t.Errorf("%s: reason %q is not in ABI.md", c.Name, c.Want.Reason)
			continue
		}
		if !strings.Contains(doc, "`"+string(c.Want.Action)+"`") {
			t.Errorf("%s: reason %s gets action %s, ABI.md says %q", c.Name, c.Want.Reason, c.Want.Action, doc)
		}
	}
	for _, r := range abi.Reasons {
		if !emitted[r] {
			t.Errorf("no case of the gate's decision table (gatetest.Cases) emits %q", r)
		}
	}
}

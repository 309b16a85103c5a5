package wsauth_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/wsauth"
)

// closeConstants are the package's exported close-code constants by name. The test
// below checks that this list is the package's whole list, so a new constant must be
// added here (and so to the documentation) before the tests pass.
var closeConstants = map[string]int{
	"CloseSessionRevoked":       wsauth.CloseSessionRevoked,
	"CloseLogout":               wsauth.CloseLogout,
	"CloseLogoutAll":            wsauth.CloseLogoutAll,
	"CloseLogoutOthers":         wsauth.CloseLogoutOthers,
	"CloseRevokedByUser":        wsauth.CloseRevokedByUser,
	"CloseRefreshReused":        wsauth.CloseRefreshReused,
	"ClosePasswordChanged":      wsauth.ClosePasswordChanged,
	"CloseEndedByOperator":      wsauth.CloseEndedByOperator,
	"CloseAccountDisabled":      wsauth.CloseAccountDisabled,
	"CloseSessionExpired":       wsauth.CloseSessionExpired,
	"CloseSigningKeyGone":       wsauth.CloseSigningKeyGone,
	"CloseSessionReplaced":      wsauth.CloseSessionReplaced,
	"CloseTokenSuperseded":      wsauth.CloseTokenSuperseded,
	"CloseSecondFactorRequired": wsauth.CloseSecondFactorRequired,
	"CloseAuthUnavailable":      wsauth.CloseAuthUnavailable,
	"CloseServerGoingAway":      wsauth.CloseServerGoingAway,
	"CloseUpstreamGone":         wsauth.CloseUpstreamGone,
}

// The close codes and reasons sockets are closed with are exactly the documented ones:
// controlplane/README.md's "WebSockets" table lists every (code, reason) wsauth sends
// and nothing else, and so does the OpenAPI file's description; the README's mentions
// agree. wsauth's pairs are read from its source (every place a Close constant is
// passed or returned with its reason) and valued by the compiled constants, so
// changing a constant's number or a reason without the documentation fails here.
func TestCloseCodesAreTheDocumentedOnes(t *testing.T) {
	used := closeCodesInSource(t)

	documented := closeCodeTable(t, "../controlplane/README.md")
	if len(documented) == 0 {
		t.Fatal(`no close-code table under "## WebSockets" in controlplane/README.md`)
	}
	for code, reason := range used {
		if doc, ok := documented[code]; !ok {
			t.Errorf("wsauth closes with %d %s; controlplane/README.md does not document %d", code, reason, code)
		} else if doc != reason {
			t.Errorf("wsauth closes with %d %s; controlplane/README.md documents %d as %s", code, reason, code, doc)
		}
	}
	for code, reason := range documented {
		if _, ok := used[code]; !ok {
			t.Errorf("controlplane/README.md documents %d %s; wsauth has no such close code", code, reason)
		}
	}

	openapi := closeCodeMentions(t, "../controlplane/openapi.yaml")
	if !maps.Equal(openapi, used) {
		t.Errorf("controlplane/openapi.yaml lists the close codes\n%v\nwsauth closes with\n%v", openapi, used)
	}
	for code, reason := range closeCodeMentions(t, "../README.md") {
		if used[code] != reason {
			t.Errorf("README.md mentions %d %s; wsauth closes with %d %q", code, reason, code, used[code])
		}
	}
}

// closeCodesInSource returns code -> reason for every close the package sends: each
// exported Close* constant declared in its (non-test) source, with the string literal
// that follows it wherever it is passed, returned or assigned (c.end(CloseSessionExpired,
// "session_expired"), return CloseLogout, "logout"). Every constant must be sent with
// exactly one reason, and no two constants may share a number.
func closeCodesInSource(t *testing.T) map[int]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	declared := map[string]bool{}
	reasons := map[string]map[string]bool{} // constant -> reasons sent with it
	pairs := func(list []ast.Expr) {
		for i := 0; i+1 < len(list); i++ {
			id, ok := list[i].(*ast.Ident)
			lit, isLit := list[i+1].(*ast.BasicLit)
			if !ok || !isLit || lit.Kind != token.STRING || !strings.HasPrefix(id.Name, "Close") {
				continue
			}
			reason, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			if reasons[id.Name] == nil {
				reasons[id.Name] = map[string]bool{}
			}
			reasons[id.Name][reason] = true
		}
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GenDecl:
				if n.Tok == token.CONST {
					for _, spec := range n.Specs {
						for _, id := range spec.(*ast.ValueSpec).Names {
							if id.IsExported() && strings.HasPrefix(id.Name, "Close") {
								declared[id.Name] = true
							}
						}
					}
				}
			case *ast.CallExpr:
				pairs(n.Args)
			case *ast.ReturnStmt:
				pairs(n.Results)
			case *ast.AssignStmt:
				pairs(n.Rhs)
			case *ast.CompositeLit:
				pairs(n.Elts)
			}
			return true
		})
	}
	if got, want := slices.Sorted(maps.Keys(declared)), slices.Sorted(maps.Keys(closeConstants)); !slices.Equal(got, want) {
		t.Fatalf("the package declares the close constants %v; this test knows %v (update closeConstants)", got, want)
	}
	used := map[int]string{}
	for name := range declared {
		rs := slices.Sorted(maps.Keys(reasons[name]))
		if len(rs) != 1 {
			t.Errorf("%s is sent with the reasons %q, want exactly one", name, rs)
			continue
		}
		code := closeConstants[name]
		if prev, dup := used[code]; dup {
			t.Errorf("%s is %d, which is already %s's code", name, code, prev)
		}
		used[code] = rs[0]
	}
	if t.Failed() {
		t.FailNow()
	}
	return used
}

// tableRow is a row of the close-code table: | 4002 | `logout_all` | ... |.
var tableRow = regexp.MustCompile("^\\|\\s*(\\d+)\\s*\\|\\s*`([a-z_]+)`\\s*\\|")

// closeCodeTable reads the table under "## WebSockets" whose header begins
// "| code | reason |" and returns code -> reason.
func closeCodeTable(t *testing.T, path string) map[int]string {
	t.Helper()
	b := readDoc(t, path)
	_, section, ok := strings.Cut(b, "\n## WebSockets\n")
	if !ok {
		t.Fatalf("%s has no \"## WebSockets\" section", path)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	table := map[int]string{}
	in := false
	for _, line := range strings.Split(section, "\n") {
		switch {
		case strings.HasPrefix(strings.ReplaceAll(line, " ", ""), "|code|reason|"):
			in = true
		case in && strings.HasPrefix(line, "|---"): // the header's underline
		case in && strings.HasPrefix(line, "|"):
			m := tableRow.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("%s: a close-code row this test cannot read: %q", path, line)
			}
			code, _ := strconv.Atoi(m[1])
			if _, dup := table[code]; dup {
				t.Fatalf("%s: %d is in the table twice", path, code)
			}
			table[code] = m[2]
		case in:
			return table
		}
	}
	return table
}

// mention is a close code followed by its reason in backquotes, as prose writes them
// ("4002 `logout_all`"), possibly across a line break.
var mention = regexp.MustCompile("\\b([14]\\d{3})\\s+`([a-z_]+)`")

// closeCodeMentions returns code -> reason for every mention in the file; a code
// mentioned with two reasons is an error.
func closeCodeMentions(t *testing.T, path string) map[int]string {
	t.Helper()
	b := readDoc(t, path)
	got := map[int]string{}
	for _, m := range mention.FindAllStringSubmatch(b, -1) {
		code, _ := strconv.Atoi(m[1])
		if prev, ok := got[code]; ok && prev != m[2] {
			t.Errorf("%s: %d is both %s and %s", path, code, prev, m[2])
		}
		got[code] = m[2]
	}
	return got
}

// readDoc returns the text of a documentation file the test checks.
func readDoc(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

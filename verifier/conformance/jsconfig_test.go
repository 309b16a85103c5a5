package conformance

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
)

// TestJSEdgeMirrorsTheConfig checks the JS package's two hand-written lists against the
// Go declaration of the configuration: MODULE_MEMBERS (what createEdge takes from the
// control plane's published edge configuration) must name every member of
// verifier.EdgeConfig, and LOCAL_RULES (what an edge may set itself) every member of
// verifier.LocalConfig. A field added in Go and forgotten in JS would otherwise be
// dropped silently on its way to the module.
func TestJSEdgeMirrorsTheConfig(t *testing.T) {
	js := readRepoFile(t, "js/src/edge.mjs")
	for _, c := range []struct {
		list string
		typ  reflect.Type
	}{
		{"MODULE_MEMBERS", reflect.TypeFor[verifier.EdgeConfig]()},
		{"LOCAL_RULES", reflect.TypeFor[verifier.LocalConfig]()},
	} {
		m := regexp.MustCompile(`const ` + c.list + ` = (?:Object\.freeze\()?\[([^\]]*)\]`).FindStringSubmatch(js)
		if m == nil {
			t.Errorf("js/src/edge.mjs: %s not found", c.list)
			continue
		}
		var got []string
		for _, q := range regexp.MustCompile(`"([a-z_]+)"`).FindAllStringSubmatch(m[1], -1) {
			got = append(got, q[1])
		}
		want := jsonNames(c.typ)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("js/src/edge.mjs %s = %v, want the JSON members of %s: %v", c.list, got, c.typ, want)
		}
	}
}

// jsonNames lists the JSON member names of a struct's fields.
func jsonNames(typ reflect.Type) []string {
	var names []string
	for f := range typ.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}

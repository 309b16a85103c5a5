package httpapi_test

import (
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/controlplane/httpapi"
	"go.yaml.in/yaml/v3"
)

// The OpenAPI document and the served routes agree: every route documented, every
// documented operation served, every error code documented.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI    string                               `yaml:"openapi"`
		Paths      map[string]map[string]map[string]any `yaml:"paths"`
		Components struct {
			Schemas struct {
				Error struct {
					Properties struct {
						Error struct {
							Properties struct {
								Code struct {
									Enum []string `yaml:"enum"`
								} `yaml:"code"`
							} `yaml:"properties"`
						} `yaml:"error"`
					} `yaml:"properties"`
				} `yaml:"Error"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	sort.Strings(documented)

	e := newEnv(t, envOptions{}) // metrics on, as by default
	var served []string
	for _, r := range e.app.Handler.Routes() {
		served = append(served, r.Method+" "+r.Path)
	}
	sort.Strings(served)
	for _, s := range served {
		if !slices.Contains(documented, s) {
			t.Errorf("served but not documented: %s", s)
		}
	}
	for _, d := range documented {
		if !slices.Contains(served, d) {
			t.Errorf("documented but not served: %s", d)
		}
	}
	codes := doc.Components.Schemas.Error.Properties.Error.Properties.Code.Enum
	for _, c := range httpapi.ErrorCodes() {
		if !slices.Contains(codes, c) {
			t.Errorf("error code %s not in the document's Error schema", c)
		}
	}
	if len(codes) != len(httpapi.ErrorCodes()) {
		t.Errorf("document lists %d codes, the API declares %d", len(codes), len(httpapi.ErrorCodes()))
	}
}

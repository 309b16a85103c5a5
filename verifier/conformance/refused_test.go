package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/abi"
)

// refusedConfigs is verifier/testdata/refused-configs.json: configurations the gate
// refuses, with the reason every engine gives. js/test/verifier.test.mjs reads it too,
// so the module's reason reaches a JS host word for word.
type refusedConfigs struct {
	Base  map[string]any `json:"base"`
	Cases []struct {
		Name   string         `json:"name"`
		Set    map[string]any `json:"set"`
		Reason string         `json:"reason"`
	} `json:"cases"`
}

func TestRefusedConfigurationSaysWhy(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "verifier", "testdata", "refused-configs.json"))
	if err != nil {
		t.Fatal(err)
	}
	var table refusedConfigs
	if err := json.Unmarshal(raw, &table); err != nil {
		t.Fatal(err)
	}
	eachEngine(t, func(t *testing.T, e verifier.Engine) {
		for _, c := range table.Cases {
			doc := maps.Clone(table.Base)
			maps.Copy(doc, c.Set)
			b, _ := json.Marshal(doc)
			var cfg verifier.Config
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&cfg); err != nil {
				t.Fatalf("%s: %v", c.Name, err)
			}
			err := e.Configure(context.Background(), cfg)
			var refused *abi.Error
			if !errors.Is(err, verifier.ErrInvalidConfig) || !errors.As(err, &refused) {
				t.Fatalf("%s: got %v, want an *abi.Error wrapping ErrInvalidConfig", c.Name, err)
			}
			if refused.Reason != c.Reason || err.Error() != "edgeauth: invalid configuration: "+c.Reason {
				t.Errorf("%s:\n got reason %q (message %q)\n want       %q", c.Name, refused.Reason, err.Error(), c.Reason)
			}
		}
	})
}

package conformance

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
)

// TestAttacks runs the attack suite (vectors.Attacks) through every engine's
// VerifyToken (the module with its own crypto and on the two-phase path): each case
// must fail with its sentinel (or pass when it has none), the same on all. A key set the engine refuses counts as the case's result; so does a
// configuration the gate refuses (an allow-list naming "none" or HS256 cannot even be
// loaded), as long as the case expects a rejection.
func TestAttacks(t *testing.T) {
	cases := vectors.Attacks()
	if len(cases) == 0 {
		t.Fatal("vectors.Attacks is empty")
	}
	results := map[string][3]abi.Status{}
	for i, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			e := eng.new(t)
			defer checkHostChecked(t, e)
			for _, c := range cases {
				err := runAttack(t, e, c)
				if errors.Is(err, abi.ErrInvalidConfig) && c.WantErr != nil {
					t.Logf("%s: refused at configuration: %v", c.Name, err)
				} else if !errors.Is(err, c.WantErr) || (c.WantErr == nil) != (err == nil) {
					t.Errorf("%s: got %v, want %v", c.Name, err, c.WantErr)
				}
				r := results[c.Name]
				r[i] = abi.StatusOf(err)
				results[c.Name] = r
			}
		})
	}
	perStatus := map[abi.Status]int{}
	for name, r := range results {
		if r[0] != r[1] || r[0] != r[2] {
			t.Errorf("%s: engines differ: go %v, wasm %v, wasm-twophase %v", name, r[0].Err(), r[1].Err(), r[2].Err())
		}
		perStatus[r[0]]++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d cases, identical status on every engine and path (go, wasm, wasm-twophase):\n\n| status | cases |\n|---|---:|\n", len(cases))
	for _, st := range slices.Sorted(maps.Keys(perStatus)) {
		name := "accepted (positive controls)"
		if st != abi.StatusOK {
			name = "`" + statusTable[st].name + "`"
		}
		fmt.Fprintf(&b, "| %s | %d |\n", name, perStatus[st])
	}
	// The suite grows with the vectors package: a stale count is reported, not a failure
	// (-update rewrites it); the engines' agreement above is what must hold.
	checkSectionSoft(t, "attacks", b.String())
}

func runAttack(t *testing.T, e verifier.Engine, c vectors.TokenCase) error {
	t.Helper()
	cfg := testConfig(0, c.Config.Algorithms...)
	cfg.Issuer, cfg.Audience, cfg.LeewaySeconds = c.Config.Issuer, c.Config.Audience, c.Config.Leeway
	if err := e.Configure(context.Background(), cfg); err != nil {
		return err
	}
	if err := e.LoadKeys(context.Background(), c.JWKS); err != nil {
		return err
	}
	_, err := e.VerifyToken(context.Background(), c.Token, c.Config.Now)
	return err
}

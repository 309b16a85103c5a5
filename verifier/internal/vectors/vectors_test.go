package vectors

import (
	"bytes"
	"testing"
)

func TestAttacksDeterministicAndNamed(t *testing.T) {
	a, b := Attacks(), Attacks()
	if len(a) != len(b) || len(a) < 150 {
		t.Fatalf("Attacks() gave %d then %d cases", len(a), len(b))
	}
	seen := map[string]bool{}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Token != b[i].Token || !bytes.Equal(a[i].JWKS, b[i].JWKS) {
			t.Errorf("case %d (%s) differs between calls", i, a[i].Name)
		}
		if seen[a[i].Name] {
			t.Errorf("duplicate case name %q", a[i].Name)
		}
		seen[a[i].Name] = true
	}
}

func TestWycheproofLoads(t *testing.T) {
	dir, err := WycheproofDir()
	if err != nil {
		t.Fatal(err)
	}
	sig, err := Wycheproof(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(sig) != 262+151+259 {
		t.Errorf("loaded %d signature cases, want %d", len(sig), 262+151+259)
	}
	jws, err := WycheproofJWS(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(jws) == 0 {
		t.Error("no JWS cases")
	}
}

package jose_test

import (
	"errors"
	"testing"

	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
	"github.com/edgeauth/edgeauth/verifier/jose"
)

// validatorFor builds the Validator a TokenCase describes.
func validatorFor(c vectors.ValidatorConfig) *jose.Validator {
	v := &jose.Validator{Issuer: c.Issuer, Audience: c.Audience, Leeway: c.Leeway}
	for _, a := range c.Algorithms {
		v.Algorithms = append(v.Algorithms, jose.Algorithm(a))
	}
	return v
}

// TestAttacks runs the attack suite natively: every case must end with exactly its
// sentinel (abi.StatusOf equal), the JWKS being refused when that is the sentinel.
func TestAttacks(t *testing.T) {
	cases := vectors.Attacks()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			ks, err := jose.ParseJWKS(tc.JWKS)
			if err == nil {
				_, err = validatorFor(tc.Config).Verify([]byte(tc.Token), ks, tc.Config.Now)
			} else if !errors.Is(tc.WantErr, abi.ErrInvalidKeySet) {
				t.Fatalf("JWKS refused: %v", err)
			}
			if abi.StatusOf(err) != abi.StatusOf(tc.WantErr) {
				t.Fatalf("error = %v, want %v", err, tc.WantErr)
			}
		})
	}
	t.Logf("%d attack cases", len(cases))
}

package keys

import (
	"context"
	"testing"
	"time"
)

// Every algorithm signs the same claims under the same key to the same token (a
// refresh's grace replay returns the rotation's access token by signing again), and the
// token verifies.
func TestSignIsDeterministic(t *testing.T) {
	t.Parallel()
	for _, alg := range []string{AlgEdDSA, AlgES256, AlgRS256} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			c := newClock()
			cfg := testConfig(t, c)
			cfg.Algorithm = alg
			m := newManager(t, newPool(t), cfg)
			now := c.Now()
			a, err := m.Sign(context.Background(), claims(now, time.Minute), "at+jwt")
			if err != nil {
				t.Fatal(err)
			}
			b, err := m.Sign(context.Background(), claims(now, time.Minute), "at+jwt")
			if err != nil {
				t.Fatal(err)
			}
			if a != b {
				t.Fatalf("two signatures of the same claims differ:\n%s\n%s", a, b)
			}
			body, _ := m.JWKS()
			if err := verify(a, publicKeys(t, body), now); err != nil {
				t.Fatal(err)
			}
		})
	}
}

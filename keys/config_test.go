package keys

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	kek := make([]byte, KEKSize)
	for _, tc := range []struct {
		name  string
		cfg   Config
		wants []string // substrings, one per expected problem; none = valid
	}{
		{name: "defaults with KEK", cfg: Config{KEK: kek}},
		{name: "plaintext allowed without KEK", cfg: Config{AllowPlaintext: true}},
		{name: "each algorithm", cfg: Config{KEK: kek, Algorithm: AlgRS256}},
		{name: "no KEK", cfg: Config{}, wants: []string{"key-encryption key (KEK, 32 bytes) is required"}},
		{name: "short KEK", cfg: Config{KEK: kek[:16]}, wants: []string{"is 16 bytes, want 32"}},
		{name: "short KEK even in development", cfg: Config{KEK: kek[:31], AllowPlaintext: true}, wants: []string{"is 31 bytes, want 32"}},
		{name: "KEK rotation", cfg: Config{KEK: kek, PreviousKEKs: [][]byte{kek}}},
		{name: "short previous KEK", cfg: Config{KEK: kek, PreviousKEKs: [][]byte{kek[:8]}}, wants: []string{"previous key-encryption key 1 is 8 bytes"}},
		{name: "previous KEK without a current one", cfg: Config{AllowPlaintext: true, PreviousKEKs: [][]byte{kek}}, wants: []string{"no current KEK"}},
		{name: "unknown algorithm", cfg: Config{KEK: kek, Algorithm: "HS256"}, wants: []string{`algorithm "HS256"`}},
		{name: "pre-publication within the JWKS cache time",
			cfg:   Config{KEK: kek, JWKSMaxAge: time.Hour, PrePublish: time.Hour},
			wants: []string{"PrePublish (1h0m0s) must exceed JWKSMaxAge + ReloadEvery (1h1m0s)"}},
		{name: "retired too early",
			cfg:   Config{KEK: kek, MaxTokenLifetime: time.Hour, RetireAfter: 30 * time.Minute},
			wants: []string{"RetireAfter (30m0s) must be at least MaxTokenLifetime + ReloadEvery (1h1m0s)"}},
		{name: "rotation faster than pre-publication",
			cfg:   Config{KEK: kek, RotateEvery: 30 * time.Minute},
			wants: []string{"RotateEvery (30m0s) must exceed PrePublish (1h0m0s)"}},
		{name: "negative duration", cfg: Config{KEK: kek, JWKSMaxAge: -time.Second}, wants: []string{"JWKSMaxAge is negative"}},
		{name: "every problem listed at once",
			cfg:   Config{Algorithm: "none", KEK: kek[:3], JWKSMaxAge: 2 * time.Hour, RetireAfter: time.Minute},
			wants: []string{`algorithm "none"`, "is 3 bytes", "PrePublish", "RetireAfter"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if len(tc.wants) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate() = %v, want ErrInvalidConfig", err)
			}
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, missing %q", err, w)
				}
			}
			if got := strings.Count(err.Error(), "\n"); got != len(tc.wants) {
				t.Errorf("Validate() listed %d problems, want %d:\n%v", got, len(tc.wants), err)
			}
		})
	}
}

func ExampleConfig_Validate() {
	cfg := Config{
		Algorithm:  "HS256",
		KEK:        []byte("too short"),
		JWKSMaxAge: time.Hour,
		PrePublish: 30 * time.Minute,
	}
	fmt.Println(cfg.Validate())
	// Output:
	// keys: invalid configuration
	// keys: algorithm "HS256" is not one of EdDSA, ES256, RS256
	// keys: key-encryption key is 9 bytes, want 32
	// keys: PrePublish (30m0s) must exceed JWKSMaxAge + ReloadEvery (1h1m0s): edges must cache a new key before it signs
}

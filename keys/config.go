package keys

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Algorithms a Config may name. Each key has exactly one algorithm, published as the
// JWK "alg" member, so a verifier never has to guess.
const (
	AlgEdDSA = "EdDSA" // Ed25519; the default: small keys, fastest inside the wasm verifier
	AlgES256 = "ES256" // ECDSA P-256 with SHA-256, signatures as raw 64-byte R||S
	AlgRS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256, 3072-bit modulus; for interoperability
)

// KEKSize is the length of the key-encryption key: AES-256.
const KEKSize = 32

// Default values used for zero Config fields.
const (
	DefaultAlgorithm        = AlgEdDSA
	DefaultJWKSMaxAge       = 5 * time.Minute
	DefaultReloadEvery      = time.Minute
	DefaultPrePublish       = time.Hour
	DefaultRotateEvery      = 7 * 24 * time.Hour
	DefaultMaxTokenLifetime = 15 * time.Minute
	DefaultRetireAfter      = 24 * time.Hour
)

// Config says how signing keys are made, protected and rotated. A zero duration or an
// empty Algorithm means the default; Validate reports every problem at once.
//
// The durations are tied together so that no verifier ever sees a token signed by a
// key it cannot find, even with several control-plane replicas that learn of changes
// only when they reload (every ReloadEvery) and edges that cache the JWKS for
// JWKSMaxAge:
//
//	PrePublish  > JWKSMaxAge + ReloadEvery        (a new key is in every edge's cache before it signs)
//	RetireAfter >= MaxTokenLifetime + ReloadEvery (a retired key stays published until all it signed expired)
//	RotateEvery > PrePublish
type Config struct {
	// Algorithm of new keys: AlgEdDSA (default), AlgES256 or AlgRS256 (3072 bits).
	// Changing it affects only keys created afterwards.
	Algorithm string

	// KEK is the key-encryption key: 32 bytes (AES-256-GCM) that seal every private key
	// before it is written to PostgreSQL. Required unless AllowPlaintext.
	KEK []byte

	// PreviousKEKs are other key-encryption keys that may have sealed stored keys:
	// rows sealed under one of them are opened, and the next Advance re-seals them
	// under KEK. Rotating the KEK across replicas takes three rolling deploys:
	// (1) add the new KEK here, (2) make it KEK with the old one here (rows are
	// re-sealed), (3) drop the old one. Then every replica can open every row at
	// every step.
	PreviousKEKs [][]byte

	// AllowPlaintext lets private keys be stored unencrypted when KEK is empty.
	// Development only: the control plane refuses it in production.
	AllowPlaintext bool

	// Issuer is the token issuer the keys sign for. Informational (logs); the claims
	// passed to Sign carry "iss" themselves.
	Issuer string

	// RotateEvery is how long a key stays active before its successor takes over.
	RotateEvery time.Duration

	// PrePublish is how long a new key is published (pending) before it signs.
	PrePublish time.Duration

	// RetireAfter is how long a retired key stays published after it stopped signing.
	RetireAfter time.Duration

	// MaxTokenLifetime is the longest validity of anything signed with these keys,
	// leeway included: max(access-token TTL + leeway, revocation-list lifetime + leeway).
	MaxTokenLifetime time.Duration

	// JWKSMaxAge is the Cache-Control max-age the HTTP layer sends with the JWKS, so
	// the longest an edge may keep an old key set.
	JWKSMaxAge time.Duration

	// ReloadEvery is the longest a replica goes without reloading the key set from
	// PostgreSQL (other replicas may have rotated) and advancing the lifecycle. Run
	// does it twice per ReloadEvery, so one slow or failed attempt stays within it.
	ReloadEvery time.Duration

	// Now is the clock (time.Now when nil). Tests inject their own.
	Now func() time.Time

	// Logger receives lifecycle events (nil: discarded). Nothing logged ever contains
	// key material.
	Logger *slog.Logger
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.Algorithm == "" {
		c.Algorithm = DefaultAlgorithm
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.JWKSMaxAge, DefaultJWKSMaxAge)
	def(&c.ReloadEvery, DefaultReloadEvery)
	def(&c.PrePublish, DefaultPrePublish)
	def(&c.RotateEvery, DefaultRotateEvery)
	def(&c.MaxTokenLifetime, DefaultMaxTokenLifetime)
	def(&c.RetireAfter, DefaultRetireAfter)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports every problem of the configuration (after defaults are applied),
// joined in one error that wraps ErrInvalidConfig, or nil.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("keys: "+format, args...))
	}
	switch c.Algorithm {
	case AlgEdDSA, AlgES256, AlgRS256:
	default:
		bad("algorithm %q is not one of EdDSA, ES256, RS256", c.Algorithm)
	}
	switch {
	case len(c.KEK) == 0 && !c.AllowPlaintext:
		bad("a key-encryption key (KEK, %d bytes) is required to store private keys; plaintext storage is for development only", KEKSize)
	case len(c.KEK) != 0 && len(c.KEK) != KEKSize:
		bad("key-encryption key is %d bytes, want %d", len(c.KEK), KEKSize)
	}
	for i, p := range c.PreviousKEKs {
		if len(p) != KEKSize {
			bad("previous key-encryption key %d is %d bytes, want %d", i+1, len(p), KEKSize)
		}
	}
	if len(c.PreviousKEKs) != 0 && len(c.KEK) == 0 {
		bad("previous key-encryption keys are set but no current KEK")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"RotateEvery", c.RotateEvery}, {"PrePublish", c.PrePublish}, {"RetireAfter", c.RetireAfter},
		{"MaxTokenLifetime", c.MaxTokenLifetime}, {"JWKSMaxAge", c.JWKSMaxAge}, {"ReloadEvery", c.ReloadEvery},
	} {
		if d.v < 0 {
			bad("%s is negative (%s)", d.name, d.v)
		}
	}
	if min := c.JWKSMaxAge + c.ReloadEvery; c.PrePublish <= min {
		bad("PrePublish (%s) must exceed JWKSMaxAge + ReloadEvery (%s): edges must cache a new key before it signs", c.PrePublish, min)
	}
	if min := c.MaxTokenLifetime + c.ReloadEvery; c.RetireAfter < min {
		bad("RetireAfter (%s) must be at least MaxTokenLifetime + ReloadEvery (%s): a retired key stays published until every token it signed has expired", c.RetireAfter, min)
	}
	if c.RotateEvery <= c.PrePublish {
		bad("RotateEvery (%s) must exceed PrePublish (%s)", c.RotateEvery, c.PrePublish)
	}
	if len(errs) == 0 {
		return nil
	}
	return errors.Join(append([]error{ErrInvalidConfig}, errs...)...)
}

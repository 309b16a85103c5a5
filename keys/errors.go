package keys

import "errors"

// Errors returned by this package, wrapped with context; test with errors.Is.
var (
	// ErrInvalidConfig: Config.Validate found problems (listed in the error).
	ErrInvalidConfig = errors.New("keys: invalid configuration")
	// ErrNoKEK: a stored private key is encrypted but no key-encryption key is configured.
	ErrNoKEK = errors.New("keys: stored private key is encrypted but no key-encryption key is configured")
	// ErrWrongKEK: a stored private key was sealed under another key-encryption key.
	ErrWrongKEK = errors.New("keys: stored private key was encrypted under a different key-encryption key")
	// ErrDecrypt: a stored private key failed authentication (tampered, corrupt or moved to another kid).
	ErrDecrypt = errors.New("keys: stored private key failed authentication (tampered or corrupt)")
	// ErrPlaintextKey: a stored private key is unencrypted while a KEK is configured and plaintext is not allowed.
	ErrPlaintextKey = errors.New("keys: stored private key is not encrypted")
	// ErrNoActiveKey: there is no active key to sign with.
	ErrNoActiveKey = errors.New("keys: no active signing key")
	// ErrStale: the in-memory key set has not been reloaded for longer than MaxStale.
	ErrStale = errors.New("keys: signing keys not reloaded recently (database unreachable?)")
	// ErrUnknownAlgorithm: a stored key names an algorithm this build does not know.
	ErrUnknownAlgorithm = errors.New("keys: unknown algorithm")
)

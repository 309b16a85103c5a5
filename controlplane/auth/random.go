package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// randomToken returns n random bytes, base64url without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand does not fail on supported platforms; never continue without it.
		panic("auth: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Sizes of the random identifiers.
const (
	sessionIDBytes    = 24 // 192 bits
	refreshTokenBytes = 32 // 256 bits
	jtiBytes          = 16
)

// refreshTokenLen is the length of an encoded refresh token.
var refreshTokenLen = base64.RawURLEncoding.EncodedLen(refreshTokenBytes)

// decodeRefreshToken returns the token's bytes and their SHA-256 (the stored form), or
// false if the string is not a canonical encoding of 32 bytes.
func decodeRefreshToken(tok string) (raw []byte, hash []byte, ok bool) {
	if len(tok) != refreshTokenLen {
		return nil, nil, false
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(tok)
	if err != nil || len(raw) != refreshTokenBytes {
		return nil, nil, false
	}
	h := sha256.Sum256(raw)
	return raw, h[:], true
}

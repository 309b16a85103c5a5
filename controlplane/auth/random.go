package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
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

// Refresh tokens.
//
// A refresh token is <session id>.<generation>.<secret>: the session's id (base64url of
// sessionIDBytes), the token's generation in its session's chain (decimal, no leading
// zero), and refreshTokenBytes random bytes (base64url). Only the secret is secret: the
// id is also the access token's sid claim, and the generation counts refreshes. The
// database keeps SHA-256 of the secret, which a reader cannot turn back into a token;
// naming the session and generation lets a refresh find the token's row by the
// session's primary key and (session_id, generation) instead of searching by hash, and
// compare the hash there (a timing difference in that comparison could only reveal bytes
// of a SHA-256 of 256 random bits, which no one can invert; there is no secret for a
// constant-time comparison to protect). Tokens of the earlier format (43 characters,
// the secret alone) are malformed now: migration 005.
var (
	sessionIDLen    = base64.RawURLEncoding.EncodedLen(sessionIDBytes)
	refreshTokenLen = base64.RawURLEncoding.EncodedLen(refreshTokenBytes)
	// refreshTokenMax is the longest refresh token: id, dot, 10 digits, dot, secret.
	refreshTokenMax = sessionIDLen + 1 + 10 + 1 + refreshTokenLen
)

// refreshToken is a parsed refresh token.
type refreshToken struct {
	sessionID  string
	generation int
	secret     []byte // refreshTokenBytes
	hash       []byte // SHA-256 of secret: the stored form
}

// newRefreshToken returns a fresh token of the session's generation.
func newRefreshToken(sessionID string, generation int) (string, refreshToken) {
	tok := sessionID + "." + strconv.Itoa(generation) + "." + randomToken(refreshTokenBytes)
	t, ok := parseRefreshToken(tok)
	if !ok {
		panic("auth: minted an unparsable refresh token")
	}
	return tok, t
}

// parseRefreshToken reads a refresh token, or returns false if tok is not exactly the
// format's canonical form (a session id that is the canonical encoding of
// sessionIDBytes, a generation from 1 to 2^31-1 without leading zeros or sign, a secret
// that is the canonical encoding of refreshTokenBytes).
func parseRefreshToken(tok string) (refreshToken, bool) {
	if len(tok) > refreshTokenMax {
		return refreshToken{}, false
	}
	sid, rest, ok1 := strings.Cut(tok, ".")
	gen, secret, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || len(sid) != sessionIDLen || len(secret) != refreshTokenLen ||
		len(gen) == 0 || len(gen) > 10 || gen[0] == '0' {
		return refreshToken{}, false
	}
	for i := range len(gen) {
		if gen[i] < '0' || gen[i] > '9' {
			return refreshToken{}, false
		}
	}
	n, err := strconv.ParseInt(gen, 10, 32)
	if err != nil || n < 1 {
		return refreshToken{}, false
	}
	if id, err := base64.RawURLEncoding.Strict().DecodeString(sid); err != nil || len(id) != sessionIDBytes {
		return refreshToken{}, false
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(secret)
	if err != nil || len(raw) != refreshTokenBytes {
		return refreshToken{}, false
	}
	h := sha256.Sum256(raw)
	return refreshToken{sessionID: sid, generation: int(n), secret: raw, hash: h[:]}, true
}

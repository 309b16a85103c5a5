package auth

import (
	"bytes"
	"crypto/hmac"
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
	refreshTokenBytes = 32 // a refresh token's secret: 128 random bits and a 128-bit tag
	jtiBytes          = 16
)

// Refresh tokens.
//
// A refresh token is <session id>.<generation>.<secret>: the session's id (base64url of
// sessionIDBytes), the token's generation in its session's chain (decimal, no leading
// zero), and refreshTokenBytes bytes (base64url): tagNonceBytes random bytes followed by
// a tag, HMAC-SHA256 under Config.RefreshTagKey over the session id, the generation and
// those random bytes. Only the secret is secret: the id is also the access token's sid
// claim, and the generation counts refreshes.
//
// The session row keeps SHA-256 of its live token's secret and of that token's parent
// (store.RefreshSQL), which a reader of the database cannot turn back into tokens: a
// refresh is decided by the live hash, a grace replay by the parent's. The tag answers
// the one question the row cannot: is a token of an older generation one this service
// issued (reuse: the session is revoked) or made up by someone who knows the session
// id (refused, nothing changes)? The key never reaches the database, so its readers
// cannot make such a token either. Comparing hashes needs no constant time (a timing
// difference could only reveal bytes of a SHA-256 of a secret no one can guess);
// comparing tags does (hmac.Equal).
//
// Tokens of the first format (43 characters, the secret alone) are malformed since
// migration 005; tokens of migration 005's format (random secrets, no tag) keep
// working as the live token or its parent (migration 006 moved their hashes into the
// session row), and an older one is refused rather than counted as reuse.
var (
	sessionIDLen    = base64.RawURLEncoding.EncodedLen(sessionIDBytes)
	refreshTokenLen = base64.RawURLEncoding.EncodedLen(refreshTokenBytes)
	// refreshTokenMax is the longest refresh token: id, dot, 10 digits, dot, secret.
	refreshTokenMax = sessionIDLen + 1 + 10 + 1 + refreshTokenLen
)

const (
	tagNonceBytes = 16                                // random part of a secret
	tagBytes      = refreshTokenBytes - tagNonceBytes // HMAC-SHA256 truncated to 128 bits
	tagContext    = "edgeauth refresh token v3\x00"   // domain separation (the third token format)
)

// refreshToken is a parsed refresh token.
type refreshToken struct {
	sessionID  string
	generation int
	secret     []byte // refreshTokenBytes
	hash       []byte // SHA-256 of secret: the stored form
}

// tagger mints refresh tokens under its key and recognises the ones minted under it
// or under one of the previous keys.
type tagger struct {
	key      []byte
	previous [][]byte
}

func newTagger(key []byte, previous [][]byte) tagger {
	g := tagger{key: bytes.Clone(key)}
	for _, k := range previous {
		g.previous = append(g.previous, bytes.Clone(k))
	}
	return g
}

// mint returns a fresh token of the session's generation.
func (g tagger) mint(sessionID string, generation int) (string, refreshToken) {
	secret := make([]byte, tagNonceBytes, refreshTokenBytes)
	if _, err := rand.Read(secret); err != nil {
		panic("auth: no randomness: " + err.Error()) // see randomToken
	}
	secret = append(secret, g.tag(sessionID, generation, secret)...)
	tok := sessionID + "." + strconv.Itoa(generation) + "." + base64.RawURLEncoding.EncodeToString(secret)
	t, ok := parseRefreshToken(tok)
	if !ok {
		panic("auth: minted an unparsable refresh token")
	}
	return tok, t
}

// issued reports whether t's tag is the one mint gave it: whether this service (or
// another replica with the same key) issued t, under the current key or a previous one.
func (g tagger) issued(t refreshToken) bool {
	nonce := t.secret[:tagNonceBytes]
	if hmac.Equal(t.secret[tagNonceBytes:], tag(g.key, t.sessionID, t.generation, nonce)) {
		return true
	}
	for _, k := range g.previous {
		if hmac.Equal(t.secret[tagNonceBytes:], tag(k, t.sessionID, t.generation, nonce)) {
			return true
		}
	}
	return false
}

func (g tagger) tag(sessionID string, generation int, nonce []byte) []byte {
	return tag(g.key, sessionID, generation, nonce)
}

// tag is the HMAC under key of a token's session id (fixed length), generation and
// nonce.
func tag(key []byte, sessionID string, generation int, nonce []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(tagContext + sessionID + "." + strconv.Itoa(generation) + "."))
	m.Write(nonce)
	return m.Sum(nil)[:tagBytes]
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

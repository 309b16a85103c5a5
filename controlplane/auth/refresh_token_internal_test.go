package auth

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
)

// testTags mints the internal tests' tokens.
var testTags = tagger{key: bytes.Repeat([]byte{7}, 32)}

// A token's tag covers its session, generation and random part under the key: change
// any of them, or the key, and the token is no longer recognised as issued; a random
// secret (migration 005's tokens) never is.
func TestRefreshTokenTag(t *testing.T) {
	t.Parallel()
	sid := randomToken(sessionIDBytes)
	tok, p := testTags.mint(sid, 7)
	if !testTags.issued(p) {
		t.Fatalf("%q: its own tag is not recognised", tok)
	}
	if other := (tagger{key: bytes.Repeat([]byte{8}, 32)}); other.issued(p) {
		t.Fatal("recognised under another key")
	}
	parse := func(s string) refreshToken {
		t.Helper()
		q, ok := parseRefreshToken(s)
		if !ok {
			t.Fatalf("%q does not parse", s)
		}
		return q
	}
	secret := strings.SplitN(tok, ".", 3)[2]
	otherSid := randomToken(sessionIDBytes)
	for name, q := range map[string]refreshToken{
		"another generation": parse(sid + ".8." + secret),
		"another session":    parse(otherSid + ".7." + secret),
		"random secret":      parse(sid + ".7." + randomToken(refreshTokenBytes)),
	} {
		if testTags.issued(q) {
			t.Errorf("%s: recognised as issued", name)
		}
	}
	flipped := bytes.Clone(p.secret)
	flipped[0] ^= 1 // the random part
	if testTags.issued(refreshToken{sessionID: sid, generation: 7, secret: flipped}) {
		t.Error("a changed random part keeps its tag")
	}
	if _, q := testTags.mint(sid, 7); bytes.Equal(q.secret, p.secret) {
		t.Error("two mints gave the same secret")
	}
}

func TestRefreshTokenFormat(t *testing.T) {
	t.Parallel()
	sid := randomToken(sessionIDBytes)
	tok, parsed := testTags.mint(sid, 7)
	if parsed.sessionID != sid || parsed.generation != 7 || len(parsed.secret) != refreshTokenBytes {
		t.Fatalf("minted %q parsed as %+v", tok, parsed)
	}
	if h := sha256.Sum256(parsed.secret); !bytes.Equal(h[:], parsed.hash) {
		t.Fatal("hash is not SHA-256 of the secret")
	}
	secret := strings.SplitN(tok, ".", 3)[2]
	cases := []struct {
		name string
		tok  string
		ok   bool
	}{
		{"minted", tok, true},
		{"largest generation", sid + ".2147483647." + secret, true},
		{"old format: the secret alone", secret, false},
		{"empty", "", false},
		{"generation 0", sid + ".0." + secret, false},
		{"leading zero", sid + ".07." + secret, false},
		{"sign", sid + ".+7." + secret, false},
		{"generation beyond int32", sid + ".2147483648." + secret, false},
		{"generation not a number", sid + ".x." + secret, false},
		{"no generation", sid + ".." + secret, false},
		{"two parts", sid + "." + secret, false},
		{"four parts", sid + ".7." + secret + ".x", false},
		{"short session id", sid[1:] + ".7." + secret, false},
		{"session id not base64url", "!" + sid[1:] + ".7." + secret, false},
		{"session id not canonical", sid[:len(sid)-1] + "B.7." + secret, sidCanonical(sid[:len(sid)-1] + "B")},
		{"short secret", sid + ".7." + secret[1:], false},
		{"padded secret", sid + ".7." + secret + "=", false},
		{"secret not canonical", sid + ".7." + secret[:len(secret)-1] + "B", secretCanonical(secret[:len(secret)-1] + "B")},
		{"too long", sid + ".12345678901." + secret, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, ok := parseRefreshToken(c.tok); ok != c.ok {
				t.Fatalf("parseRefreshToken(%q) ok = %v, want %v", c.tok, ok, c.ok)
			}
		})
	}
}

// sidCanonical and secretCanonical report whether s is the canonical encoding of its
// size (a last character chosen at random may or may not be).
func sidCanonical(s string) bool {
	_, ok := parseRefreshToken(s + ".1." + randomToken(refreshTokenBytes))
	return ok
}
func secretCanonical(s string) bool {
	_, ok := parseRefreshToken(randomToken(sessionIDBytes) + ".1." + s)
	return ok
}

// Whatever parses prints back as itself (one token, one spelling: the id, the
// generation in decimal and the secret in canonical base64url, nothing else), names a
// generation in range and carries a secret of the right size with its hash.
func FuzzRefreshToken(f *testing.F) {
	tok, _ := testTags.mint(randomToken(sessionIDBytes), 1)
	f.Add(tok)
	f.Add(randomToken(refreshTokenBytes))
	f.Add("a.1.b")
	// The last character of a 32-byte secret carries two padding bits: set one.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	f.Add(tok[:len(tok)-1] + string(alphabet[strings.IndexByte(alphabet, tok[len(tok)-1])^1]))
	f.Fuzz(func(t *testing.T, s string) {
		p, ok := parseRefreshToken(s)
		if !ok {
			return
		}
		if p.generation < 1 || len(p.secret) != refreshTokenBytes || len(p.sessionID) != sessionIDLen {
			t.Fatalf("%q parsed as %+v", s, p)
		}
		if again := p.sessionID + "." + strconv.Itoa(p.generation) + "." + base64.RawURLEncoding.EncodeToString(p.secret); again != s {
			t.Fatalf("%q parsed as %+v, which prints as %q", s, p, again)
		}
		if h := sha256.Sum256(p.secret); !bytes.Equal(p.hash, h[:]) {
			t.Fatalf("%q: hash %x is not the secret's", s, p.hash)
		}
	})
}

// A successor sealed under its parent opens only with the parent.
func TestSealOpensOnlyWithTheParent(t *testing.T) {
	t.Parallel()
	sid := randomToken(sessionIDBytes)
	_, parent := testTags.mint(sid, 3)
	succ, succTok := testTags.mint(sid, 4)
	box, err := seal(parent, succ)
	if err != nil {
		t.Fatal(err)
	}
	got, gotTok, err := unseal(parent, box)
	if err != nil || got != succ || successorTokenID(gotTok) != successorTokenID(succTok) {
		t.Fatalf("unseal: %q, %v", got, err)
	}
	_, other := testTags.mint(sid, 3)
	if _, _, err := unseal(other, box); err == nil {
		t.Fatal("opened with another token of the same generation")
	}
	// A box holding a token of another generation is refused.
	wrong, _ := testTags.mint(sid, 9)
	box, _ = seal(parent, wrong)
	if _, _, err := unseal(parent, box); err == nil {
		t.Fatal("accepted a successor of the wrong generation")
	}
}

package jose

import "github.com/edgeauth/edgeauth/verifier/internal/strictjson"

// Header members that carry or point at a key. A verifier that used them would let the
// token choose the key that verifies it; this one never does, and our issuer never
// sets them, so their presence marks a forged or foreign token (RFC 8725 §3.10).
var keyCarryingMembers = [...]string{"jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256"}

// Header members that change how the payload is read (RFC 7797 b64, RFC 7516 zip).
var otherEncodingMembers = [...]string{"b64", "zip"}

// UnsupportedHeaderMembers lists every header member whose presence is
// ErrUnsupportedHeader: crit, the key-carrying members and the encoding members
// (verifier/ABI.md, status 3; a doc test compares the two).
func UnsupportedHeaderMembers() []string {
	m := append([]string{"crit"}, keyCarryingMembers[:]...)
	return append(m, otherEncodingMembers[:]...)
}

// checkHeader applies the header rules and returns the key to verify with:
//
//  1. alg: a string (else ErrMalformed), implemented and in algs (else
//     ErrAlgorithmNotAllowed). Comparison is exact, so "none", "None", "NONE", HS256,
//     PS256 and "es256" are all refused;
//  2. crit: any presence is ErrUnsupportedHeader (we understand no extension, and RFC
//     7515 §4.1.11 makes a token with a misunderstood crit invalid);
//  3. jwk, jku, x5u, x5c, x5t, x5t#S256: ErrUnsupportedHeader; b64 and zip, which
//     change how the payload is read: ErrUnsupportedHeader;
//  4. typ: when want is not empty, typ must equal want or "application/"+want with
//     only the "application/" prefix compared case-insensitively (RFC 7515 §4.1.9,
//     RFC 9068 §4); else ErrInvalidType;
//  5. kid: required string (missing: ErrUnknownKey, not a string: ErrMalformed), and a
//     key with that exact kid and that alg must exist in ks, else ErrUnknownKey.
func checkHeader(h strictjson.Value, ks *KeySet, algs []Algorithm, want string) (*Key, error) {
	algStr, ok := str(h, "alg")
	if !ok {
		return nil, errAlgMissing
	}
	alg := Algorithm(algStr)
	if !allowed(alg, algs) {
		return nil, errAlgNotAllowed
	}
	if h.Has("crit") {
		return nil, errCrit
	}
	for _, m := range keyCarryingMembers {
		if h.Has(m) {
			return nil, errKeyInHeader
		}
	}
	for _, m := range otherEncodingMembers {
		if h.Has(m) {
			return nil, errOtherEncoding
		}
	}
	if want != "" {
		typ, ok := str(h, "typ")
		if !ok {
			return nil, errTypMissing
		}
		if !typMatches(typ, want) {
			return nil, errTypWrong
		}
	}
	kidV, ok := h.Get("kid")
	if !ok {
		return nil, errKidMissing
	}
	kid, ok := kidV.Str()
	if !ok {
		return nil, errKidNotString
	}
	if ks == nil {
		return nil, errNoKeySet
	}
	key, ok := ks.Lookup(kid, alg)
	if !ok {
		return nil, errKidUnknown
	}
	return key, nil
}

func allowed(alg Algorithm, algs []Algorithm) bool {
	if !alg.implemented() {
		return false
	}
	for _, a := range algs {
		if a == alg {
			return true
		}
	}
	return false
}

// typMatches compares a typ header with the expected media type: exact, or with an
// "application/" prefix in any letter case (media type names are case-insensitive,
// RFC 7515 lets the prefix be omitted). The rest must match exactly: we compare what
// our own issuer writes, not arbitrary media types.
func typMatches(got, want string) bool {
	if got == want {
		return true
	}
	const prefix = "application/"
	if len(got) != len(prefix)+len(want) || got[len(prefix):] != want {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := got[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

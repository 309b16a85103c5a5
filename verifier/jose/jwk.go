package jose

import (
	"errors"

	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/ed25519verify"
	"github.com/edgeauth/edgeauth/verifier/internal/strictjson"
	"github.com/edgeauth/edgeauth/verifier/p256"
)

// Algorithm is a JWS "alg" value this package implements.
type Algorithm string

// The implemented algorithms. Anything else ("none" in any spelling, HS*, PS*, ES384,
// ...) is refused with abi.ErrAlgorithmNotAllowed, whatever an allow-list says.
const (
	EdDSA Algorithm = "EdDSA" // Ed25519 (RFC 8037)
	ES256 Algorithm = "ES256" // ECDSA P-256 SHA-256, 64-byte R||S
	RS256 Algorithm = "RS256" // RSASSA-PKCS1-v1_5 SHA-256, modulus >= 2048 bits
)

func (a Algorithm) implemented() bool { return a == EdDSA || a == ES256 || a == RS256 }

// Limits on a JWKS document. Keys are parsed (and ES256 keys precomputed) once per
// load, so the count is bounded to keep a hostile JWKS from costing much.
const (
	MaxJWKSBytes = abi.BufferCap
	MaxKeys      = 64
	jwksDepth    = 5 // object > keys array > key object > key_ops or x5c array (+1 spare)
)

// Key is one public verification key with exactly one algorithm. Binding the
// algorithm to the key (the JWK's required "alg") makes algorithm confusion impossible:
// a token is checked only with a key whose Alg equals the token's alg.
type Key struct {
	KID string
	Alg Algorithm

	ed  *ed25519verify.PublicKey
	ec  *p256.PublicKey
	rsa rsaKey

	index int    // position among the set's usable keys; -1 outside a set (ParseJWK)
	rsaN  []byte // RS256: the modulus as the JWK gave it (big-endian, no leading zero)
	rsaE  uint32 // RS256: the public exponent
}

// KeySet is a parsed JWKS: the usable keys, kids unique. It is immutable, so one set
// may be shared by concurrent verifications.
type KeySet struct {
	keys []*Key
}

// Keys returns the usable keys in document order. The slice must not be modified.
func (ks *KeySet) Keys() []*Key { return ks.keys }

// Lookup returns the key whose kid is byte-equal to kid and whose algorithm is alg.
func (ks *KeySet) Lookup(kid string, alg Algorithm) (*Key, bool) {
	if ks == nil {
		return nil, false
	}
	for _, k := range ks.keys {
		if k.KID == kid && k.Alg == alg {
			return k, true
		}
	}
	return nil, false
}

// VerifySignature checks a raw signature over msg with the key's algorithm. It returns
// nil or an error wrapping abi.ErrSignatureInvalid.
//
// The material is checked against Alg, so a Key whose exported Alg was changed after
// parsing refuses to verify rather than misuse another algorithm's key.
func (k *Key) VerifySignature(msg, sig []byte) error {
	switch {
	case k == nil:
		return errKidUnknown
	case k.Alg == EdDSA && k.ed != nil:
		return verifyEd25519(k.ed, msg, sig)
	case k.Alg == ES256 && k.ec != nil:
		return verifyES256(k.ec, msg, sig)
	case k.Alg == RS256 && k.rsa.pub != nil:
		return verifyRS256(k.rsa, msg, sig)
	}
	return errAlgUnsupported
}

// Index returns the key's position among the usable keys of its set (KeySet.Keys),
// stable for the set's life; -1 for a key parsed alone (ParseJWK).
func (k *Key) Index() int { return k.index }

// RSAPublic returns an RS256 key's public exponent and modulus (big-endian, no leading
// zero, as the JWK gave it), for a host that checks the signature itself (the
// two-phase path); ok is false for any other key. The modulus must not be modified.
func (k *Key) RSAPublic() (e uint32, n []byte, ok bool) {
	if k == nil || k.Alg != RS256 || k.rsa.pub == nil {
		return 0, nil, false
	}
	return k.rsaE, k.rsaN, true
}

// CheckSignatureLength runs the checks of VerifySignature that need no arithmetic: the
// signature's length for the algorithm (Ed25519 and ES256 64 bytes, RS256 the modulus's
// length), and the key's material matching Alg. A caller that has the arithmetic done
// elsewhere (SignatureChecker) runs this first, as VerifyWith does.
func (k *Key) CheckSignatureLength(sig []byte) error {
	want := 0
	switch {
	case k == nil:
		return errKidUnknown
	case k.Alg == EdDSA && k.ed != nil:
		want = ed25519verify.SignatureSize
	case k.Alg == ES256 && k.ec != nil:
		want = p256.SignatureSize
	case k.Alg == RS256 && k.rsa.pub != nil:
		want = k.rsa.Size()
	default:
		return errAlgUnsupported
	}
	if len(sig) != want {
		return errSignatureSize
	}
	return nil
}

// ParseJWKS parses a JWK Set (RFC 7517 §5) for verification. Rules, strictest first:
//
//   - the document is strict JSON (see strictjson) of at most MaxJWKSBytes, an object
//     whose "keys" member is an array of at most MaxKeys objects; otherwise
//     abi.ErrInvalidKeySet;
//   - a symmetric key (kty "oct") anywhere refuses the whole set: an HMAC secret must
//     never sit beside public keys, where it would invite algorithm confusion;
//   - two keys with the same kid refuse the whole set: a kid must name one key;
//   - every other key that is not usable is skipped, so that one odd key (a future
//     algorithm, an encryption key) does not take the set down. Unusable means: kty
//     or crv not one of OKP/Ed25519, EC/P-256, RSA; "alg" missing or not the one
//     algorithm that fits (EdDSA, ES256, RS256 respectively); "use" present and not
//     "sig"; "key_ops" present without "verify"; no non-empty string kid (a token
//     must name its key); invalid material (wrong length, point not on the curve,
//     RSA modulus outside 2048..8192 bits, exponent not odd >= 3); or private key
//     members present ("d", "p", "q", "dp", "dq", "qi", "oth", "k"): a published
//     private key is a leak, and trusting it would accept tokens anyone can forge;
//   - no usable key left: abi.ErrInvalidKeySet.
func ParseJWKS(data []byte) (*KeySet, error) {
	doc, err := strictjson.Parse(data, strictjson.Limits{MaxBytes: MaxJWKSBytes, MaxDepth: jwksDepth})
	if err != nil {
		if errors.Is(err, strictjson.ErrTooLarge) || errors.Is(err, strictjson.ErrTooDeep) {
			return nil, errKeySetTooLarge
		}
		return nil, errKeySetJSON
	}
	list, ok := doc.Get("keys")
	if !ok || list.Kind() != strictjson.Array {
		return nil, errKeySetJSON
	}
	elems := list.Array()
	if len(elems) > MaxKeys {
		return nil, errKeySetTooLarge
	}
	for i, e := range elems {
		if e.Kind() != strictjson.Object {
			return nil, errKeySetJSON
		}
		if kty, _ := str(e, "kty"); kty == "oct" {
			return nil, errKeySetSymmetric
		}
		kid, ok := str(e, "kid")
		if !ok {
			continue
		}
		for _, prev := range elems[:i] {
			if pk, ok := str(prev, "kid"); ok && pk == kid {
				return nil, errKeySetDupKid
			}
		}
	}
	ks := &KeySet{}
	for _, e := range elems {
		k, err := parseKey(e)
		if err != nil || k.KID == "" {
			continue // unusable: skipped, see above
		}
		k.index = len(ks.keys)
		ks.keys = append(ks.keys, k)
	}
	if len(ks.keys) == 0 {
		return nil, errKeySetEmpty
	}
	return ks, nil
}

// ParseJWK parses one JWK with the same rules as a member of a set (ParseJWKS), except
// that kid may be absent. Any rule broken is an error wrapping abi.ErrInvalidKeySet.
// It serves raw signature checks (conformance vectors, the verify_signature export).
func ParseJWK(data []byte) (*Key, error) {
	v, err := strictjson.Parse(data, strictjson.Limits{MaxBytes: MaxJWKSBytes, MaxDepth: jwksDepth - 2})
	if err != nil || v.Kind() != strictjson.Object {
		return nil, errKeyJSON
	}
	return parseKey(v)
}

var privateMembers = [...]string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

func parseKey(v strictjson.Value) (*Key, error) {
	kty, ok := str(v, "kty")
	if !ok {
		return nil, errKeyKty
	}
	if kty == "oct" {
		return nil, errKeySetSymmetric
	}
	for _, m := range privateMembers {
		if v.Has(m) {
			return nil, errKeyPrivate
		}
	}
	if use, ok := v.Get("use"); ok {
		if s, _ := use.Str(); s != "sig" {
			return nil, errKeyUse
		}
	}
	if ops, ok := v.Get("key_ops"); ok {
		if !hasString(ops, "verify") {
			return nil, errKeyUse
		}
	}
	k := &Key{index: -1}
	if kid, ok := v.Get("kid"); ok {
		if k.KID, ok = kid.Str(); !ok {
			return nil, errKeyKid
		}
	}
	alg, _ := str(v, "alg")
	k.Alg = Algorithm(alg)
	crv, _ := str(v, "crv")
	switch kty {
	case "OKP":
		if crv != "Ed25519" {
			return nil, errKeyKty
		}
		if k.Alg != EdDSA {
			return nil, errKeyAlg
		}
		x, ok := b64Member(v, "x")
		if !ok {
			return nil, errKeyMaterial
		}
		return keyOrNil(k, parseEd25519(k, x))
	case "EC":
		if crv != "P-256" {
			return nil, errKeyKty
		}
		if k.Alg != ES256 {
			return nil, errKeyAlg
		}
		x, okx := b64Member(v, "x")
		y, oky := b64Member(v, "y")
		if !okx || !oky {
			return nil, errKeyMaterial
		}
		return keyOrNil(k, parseES256(k, x, y))
	case "RSA":
		if k.Alg != RS256 {
			return nil, errKeyAlg
		}
		n, okn := b64Member(v, "n")
		e, oke := b64Member(v, "e")
		if !okn || !oke {
			return nil, errKeyMaterial
		}
		return keyOrNil(k, parseRS256(k, n, e))
	}
	return nil, errKeyKty
}

func keyOrNil(k *Key, err error) (*Key, error) {
	if err != nil {
		return nil, err
	}
	return k, nil
}

// str returns an object member that is a string.
func str(v strictjson.Value, name string) (string, bool) {
	m, ok := v.Get(name)
	if !ok {
		return "", false
	}
	return m.Str()
}

// b64Member decodes an object member holding canonical unpadded base64url.
func b64Member(v strictjson.Value, name string) ([]byte, bool) {
	s, ok := str(v, name)
	if !ok {
		return nil, false
	}
	return decodeB64String(s)
}

// hasString reports whether v is an array of strings that contains want. An array
// holding anything but strings does not count.
func hasString(v strictjson.Value, want string) bool {
	if v.Kind() != strictjson.Array {
		return false
	}
	found := false
	for _, e := range v.Array() {
		s, ok := e.Str()
		if !ok {
			return false
		}
		found = found || s == want
	}
	return found
}

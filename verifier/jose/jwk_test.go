package jose_test

import (
	"errors"
	"testing"

	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
	"github.com/edgeauth/edgeauth/verifier/jose"
)

func jwk(k vectors.TestKey, kv ...any) map[string]any {
	m := k.PublicJWK()
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(m, kv[i].(string))
		} else {
			m[kv[i].(string)] = kv[i+1]
		}
	}
	return m
}

// TestParseJWK checks each key rule on a single JWK (ParseJWK reports what ParseJWKS
// would silently skip).
func TestParseJWK(t *testing.T) {
	ed, es, rs := vectors.EdDSAKey(), vectors.ES256Key(), vectors.RS256Key()
	esPub := es.PublicJWK()
	cases := []struct {
		name string
		key  map[string]any
		ok   bool
	}{
		{"EdDSA", jwk(ed), true},
		{"ES256", jwk(es), true},
		{"RS256", jwk(rs), true},
		{"no kid is fine for a single key", jwk(ed, "kid", nil), true},
		{"no use is fine", jwk(ed, "use", nil), true},
		{"key_ops with verify", jwk(ed, "key_ops", []string{"verify"}), true},
		{"key_ops with verify and sign", jwk(ed, "key_ops", []string{"sign", "verify"}), true},
		{"alg missing", jwk(ed, "alg", nil), false},
		{"alg not a string", jwk(ed, "alg", 1), false},
		{"Ed25519 key with alg ES256", jwk(ed, "alg", "ES256"), false},
		{"Ed25519 key with alg Ed25519", jwk(ed, "alg", "Ed25519"), false},
		{"P-256 key with alg ES384", jwk(es, "alg", "ES384"), false},
		{"RSA key with alg PS256", jwk(rs, "alg", "PS256"), false},
		{"RSA key with alg HS256", jwk(rs, "alg", "HS256"), false},
		{"use enc", jwk(ed, "use", "enc"), false},
		{"use not a string", jwk(ed, "use", true), false},
		{"key_ops without verify", jwk(ed, "key_ops", []string{"sign"}), false},
		{"key_ops not an array", jwk(ed, "key_ops", "verify"), false},
		{"key_ops with a number", jwk(ed, "key_ops", []any{"verify", 1}), false},
		{"kid not a string", jwk(ed, "kid", 7), false},
		{"private d on OKP", jwk(ed, "d", "AAAA"), false},
		{"private d on EC", jwk(es, "d", "AAAA"), false},
		{"private p on RSA", jwk(rs, "p", "AAAA"), false},
		{"oct", map[string]any{"kty": "oct", "alg": "HS256", "k": "AAAA"}, false},
		{"kty missing", jwk(ed, "kty", nil), false},
		{"kty unknown", jwk(ed, "kty", "OKP2"), false},
		{"crv X25519", jwk(ed, "crv", "X25519"), false},
		{"crv P-384", jwk(es, "crv", "P-384"), false},
		{"Ed25519 x short", jwk(ed, "x", "AAAA"), false},
		{"Ed25519 x padded", jwk(ed, "x", ed.PublicJWK()["x"].(string)+"="), false},
		{"EC x missing", jwk(es, "x", nil), false},
		{"EC point off curve", jwk(es, "y", esPub["x"]), false},
		{"EC x with leading zero byte (33 bytes)", jwk(es, "x", "AA"+esPub["x"].(string)), false},
		{"RSA 1024-bit", jwk(rs, "n", rs.PublicJWK()["n"].(string)[:172]), false},
		{"RSA e = 1", jwk(rs, "e", "AQ"), false},
		{"RSA e = 2", jwk(rs, "e", "Ag"), false},
		{"RSA e = 3", jwk(rs, "e", "Aw"), true},
		{"RSA e leading zero", jwk(rs, "e", "AAEAAQ"), false},
		{"RSA n leading zero", jwk(rs, "n", "AA"+rs.PublicJWK()["n"].(string)), false},
		{"RSA e too large", jwk(rs, "e", "AQAAAAAB"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, err := jose.ParseJWK(vectors.MustJSON(tc.key))
			if tc.ok {
				if err != nil || k == nil {
					t.Fatalf("ParseJWK: %v", err)
				}
				return
			}
			if err == nil || k != nil {
				t.Fatal("ParseJWK accepted an unusable key")
			}
			if !errors.Is(err, abi.ErrInvalidKeySet) {
				t.Fatalf("error %v does not wrap ErrInvalidKeySet", err)
			}
		})
	}
	for _, bad := range []string{``, `[]`, `{"kty":"OKP","kty":"OKP"}`, "{\"kty\":\"\xff\"}"} {
		if _, err := jose.ParseJWK([]byte(bad)); !errors.Is(err, abi.ErrInvalidKeySet) {
			t.Errorf("ParseJWK(%q) = %v", bad, err)
		}
	}
}

func TestParseJWKS(t *testing.T) {
	ed, es, rs := vectors.EdDSAKey(), vectors.ES256Key(), vectors.RS256Key()
	many := []map[string]any{}
	for i := range jose.MaxKeys + 1 {
		many = append(many, jwk(ed, "kid", "k"+itoa(i)))
	}
	cases := []struct {
		name     string
		jwks     []byte
		wantErr  bool
		wantKIDs []string
	}{
		{"all three", vectors.JWKS(jwk(ed), jwk(es), jwk(rs)), false, []string{vectors.KIDEdDSA, vectors.KIDES256, vectors.KIDRS256}},
		{"unusable keys skipped", vectors.JWKS(jwk(ed, "alg", nil), jwk(es), jwk(rs, "use", "enc"), map[string]any{"kty": "EC", "crv": "P-521", "kid": "p521", "alg": "ES512"}), false, []string{vectors.KIDES256}},
		{"key without kid skipped", vectors.JWKS(jwk(ed, "kid", nil), jwk(es)), false, []string{vectors.KIDES256}},
		{"key with empty kid skipped", vectors.JWKS(jwk(ed, "kid", ""), jwk(es)), false, []string{vectors.KIDES256}},
		{"key with private member skipped", vectors.JWKS(jwk(ed, "d", "AAAA"), jwk(es)), false, []string{vectors.KIDES256}},
		{"unknown members ignored", append([]byte(`{"extra":1,`), vectors.JWKS(jwk(ed))[1:]...), false, []string{vectors.KIDEdDSA}},
		{"nothing usable", vectors.JWKS(jwk(ed, "alg", nil)), true, nil},
		{"empty keys", []byte(`{"keys":[]}`), true, nil},
		{"oct key refuses the set", vectors.JWKS(jwk(ed), map[string]any{"kty": "oct", "kid": "h", "alg": "HS256", "k": "AAAA"}), true, nil},
		{"oct key without alg refuses the set", vectors.JWKS(jwk(ed), map[string]any{"kty": "oct", "k": "AAAA"}), true, nil},
		{"duplicate kid refuses the set", vectors.JWKS(jwk(ed), jwk(es, "kid", vectors.KIDEdDSA)), true, nil},
		{"duplicate kid on an unusable key refuses the set", vectors.JWKS(jwk(ed), jwk(es, "kid", vectors.KIDEdDSA, "alg", nil)), true, nil},
		{"keys not an array", []byte(`{"keys":{}}`), true, nil},
		{"keys missing", []byte(`{}`), true, nil},
		{"key not an object", []byte(`{"keys":["x"]}`), true, nil},
		{"not an object", []byte(`[]`), true, nil},
		{"duplicate member", []byte(`{"keys":[],"keys":[]}`), true, nil},
		{"trailing data", append(vectors.JWKS(jwk(ed)), '{', '}'), true, nil},
		{"too many keys", vectors.JWKS(many...), true, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ks, err := jose.ParseJWKS(tc.jwks)
			if tc.wantErr {
				if !errors.Is(err, abi.ErrInvalidKeySet) {
					t.Fatalf("ParseJWKS error = %v, want ErrInvalidKeySet", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, k := range ks.Keys() {
				got = append(got, k.KID)
			}
			if len(got) != len(tc.wantKIDs) {
				t.Fatalf("kids %v, want %v", got, tc.wantKIDs)
			}
			for i := range got {
				if got[i] != tc.wantKIDs[i] {
					t.Fatalf("kids %v, want %v", got, tc.wantKIDs)
				}
			}
		})
	}
}

func TestLookupOneAlgorithmPerKey(t *testing.T) {
	ks := mustKeySet(t, vectors.JWKS())
	if k, ok := ks.Lookup(vectors.KIDEdDSA, jose.EdDSA); !ok || k.Alg != jose.EdDSA {
		t.Fatal("EdDSA key not found")
	}
	for _, alg := range []jose.Algorithm{jose.ES256, jose.RS256, "HS256", "none", ""} {
		if _, ok := ks.Lookup(vectors.KIDEdDSA, alg); ok {
			t.Errorf("EdDSA key returned for alg %q", alg)
		}
	}
	var nilSet *jose.KeySet
	if _, ok := nilSet.Lookup(vectors.KIDEdDSA, jose.EdDSA); ok {
		t.Error("nil set found a key")
	}
}

func TestVerifySignatureRefusesMismatchedKey(t *testing.T) {
	ks := mustKeySet(t, vectors.JWKS())
	k, _ := ks.Lookup(vectors.KIDEdDSA, jose.EdDSA)
	forged := *k
	forged.Alg = jose.ES256
	if err := forged.VerifySignature([]byte("m"), make([]byte, 64)); err == nil {
		t.Fatal("verified with mismatched material")
	}
	var nilKey *jose.Key
	if err := nilKey.VerifySignature([]byte("m"), nil); err == nil {
		t.Fatal("nil key verified")
	}
}

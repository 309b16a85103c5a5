package rsaverify

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"testing"

	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
)

// TestWycheproof runs Wycheproof's RSA 2048 PKCS#1 v1.5 SHA-256 file (the copy the
// project carries) through VerifySHA256 natively: valid cases verify, invalid ones do
// not, and every verdict, "acceptable" ones included, is crypto/rsa's. The module runs
// the same file through its own path in the conformance suites and the JS tests.
func TestWycheproof(t *testing.T) {
	dir, err := vectors.WycheproofDir()
	if err != nil {
		t.Fatal(err)
	}
	cases, err := vectors.Wycheproof(dir)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]*PublicKey{}
	n := 0
	for _, tc := range cases {
		if tc.File != "rsa_signature_2048_sha256_test.json" {
			continue
		}
		var jwk struct{ N, E string }
		if err := json.Unmarshal(tc.JWK, &jwk); err != nil {
			t.Fatal(err)
		}
		nb, err1 := base64.RawURLEncoding.DecodeString(jwk.N)
		eb, err2 := base64.RawURLEncoding.DecodeString(jwk.E)
		if err1 != nil || err2 != nil {
			t.Fatalf("tcId %d: JWK %s", tc.TcID, tc.JWK)
		}
		e := new(big.Int).SetBytes(eb)
		std := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(e.Int64())}
		k := keys[string(tc.JWK)]
		if k == nil {
			if k, err = NewPublicKey(nb, uint32(e.Uint64())); err != nil {
				t.Fatalf("tcId %d: key refused: %v", tc.TcID, err)
			}
			keys[string(tc.JWK)] = k
		}
		digest := sha256.Sum256(tc.Msg)
		got := k.VerifySHA256(&digest, tc.Sig)
		want := rsa.VerifyPKCS1v15(std, crypto.SHA256, digest[:], tc.Sig) == nil
		if got != want {
			t.Errorf("tcId %d (%s): rsaverify %v, crypto/rsa %v", tc.TcID, tc.Comment, got, want)
		}
		if (tc.Result == "valid" && !got) || (tc.Result == "invalid" && got) {
			t.Errorf("tcId %d (%s): %s, but rsaverify says %v", tc.TcID, tc.Comment, tc.Result, got)
		}
		n++
	}
	if n != 259 {
		t.Fatalf("ran %d cases, want 259", n)
	}
}

package jose_test

import (
	"testing"

	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
	"github.com/edgeauth/edgeauth/verifier/jose"
)

// BenchmarkVerify measures one full access-token verification per algorithm
// (structure, header, signature, claims), natively.
func BenchmarkVerify(b *testing.B) {
	ks := mustKeySet(b, vectors.JWKS())
	v := defaultValidator()
	for _, k := range []vectors.TestKey{vectors.EdDSAKey(), vectors.ES256Key(), vectors.RS256Key()} {
		token := []byte(k.Token(vectors.Claims(vectors.Now)))
		b.Run(k.Alg, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(token, ks, vectors.Now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRejectMalformed measures how cheaply a garbage token is refused.
func BenchmarkRejectMalformed(b *testing.B) {
	ks := mustKeySet(b, vectors.JWKS())
	v := defaultValidator()
	token := []byte(vectors.EdDSAKey().Token(vectors.Claims(vectors.Now)) + "=")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(token, ks, vectors.Now); err == nil {
			b.Fatal("accepted")
		}
	}
}

// BenchmarkParseJWKS measures loading the three-algorithm test JWKS.
func BenchmarkParseJWKS(b *testing.B) {
	jwks := vectors.JWKS()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := jose.ParseJWKS(jwks); err != nil {
			b.Fatal(err)
		}
	}
}

package ed25519verify

import (
	"crypto/ed25519"
	"testing"
)

// benchKey returns a key, a message and a valid signature for benchmarks.
func benchKey() (ed25519.PublicKey, []byte, []byte) {
	priv := ed25519.NewKeyFromSeed(make([]byte, 32))
	msg := []byte("eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIiwidHlwIjoiYXQrand0In0.eyJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZSJ9")
	return priv.Public().(ed25519.PublicKey), msg, ed25519.Sign(priv, msg)
}

func BenchmarkVerify(b *testing.B) {
	pub, msg, sig := benchKey()
	b.Run("ed25519verify", func(b *testing.B) {
		k, err := ParsePublicKey(pub)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if !k.Verify(msg, sig) {
				b.Fatal("rejected")
			}
		}
	})
	b.Run("crypto-ed25519", func(b *testing.B) {
		for b.Loop() {
			if !ed25519.Verify(pub, msg, sig) {
				b.Fatal("rejected")
			}
		}
	})
}

func BenchmarkParsePublicKey(b *testing.B) {
	pub, _, _ := benchKey()
	for b.Loop() {
		if _, err := ParsePublicKey(pub); err != nil {
			b.Fatal(err)
		}
	}
}

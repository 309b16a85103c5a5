package p256

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/edgeauth/edgeauth/verifier/abi"
)

func TestVerifySmoke(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	x, y := coords(priv)
	k, err := ParsePublicKey(x, y)
	if err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256([]byte("hello"))
	r, s, err := ecdsa.Sign(rand.Reader, priv, d[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	if !k.Verify(d[:], sig) {
		t.Fatal("valid signature rejected")
	}
	sig[5] ^= 1
	if k.Verify(d[:], sig) {
		t.Fatal("corrupted signature accepted")
	}
	if _, err := ParsePublicKey(x, x); !errors.Is(err, abi.ErrInvalidKeySet) {
		t.Fatalf("off-curve key: err = %v", err)
	}
}

func coords(priv *ecdsa.PrivateKey) (x, y []byte) {
	x = make([]byte, 32)
	y = make([]byte, 32)
	priv.X.FillBytes(x)
	priv.Y.FillBytes(y)
	return x, y
}

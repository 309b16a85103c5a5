package rsaverify

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"math/big"
	mrand "math/rand/v2"
	"testing"

	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
)

// TestModExpMatchesMathBig checks the arithmetic alone: s^e mod n against math/big for
// moduli of every limb-boundary shape (a bit length that fills its top limb, one bit
// over, one bit under), exponents from 3 to 2^31-1, and bases at the edges (0, 1, n-1).
func TestModExpMatchesMathBig(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(1, 2))
	randOdd := func(bits int) *big.Int {
		b := make([]byte, (bits+7)/8)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		n := new(big.Int).SetBytes(b)
		n.SetBit(n, bits-1, 1)
		for i := bits; i < 8*len(b); i++ {
			n.SetBit(n, i, 0)
		}
		return n.SetBit(n, 0, 1)
	}
	var moduli []*big.Int
	for _, bits := range []int{2048, 2049, 2047 + 32, 2056, 3072, 4096, 4095, 8192} {
		moduli = append(moduli, randOdd(bits))
	}
	// Limbs at their extremes, where every carry is taken: 2^2048-1 and 2^2047+1.
	allOnes := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 2048), big.NewInt(1))
	moduli = append(moduli, allOnes, new(big.Int).SetBit(big.NewInt(1), 2047, 1))
	for _, n := range moduli {
		bits := n.BitLen()
		k, err := NewPublicKey(n.Bytes(), 65537)
		if err != nil {
			t.Fatalf("%d bits: %v", bits, err)
		}
		if k.BitLen() != bits || k.Size() != (bits+7)/8 {
			t.Fatalf("%d bits: BitLen %d, Size %d", bits, k.BitLen(), k.Size())
		}
		nMinus1 := new(big.Int).Sub(n, big.NewInt(1))
		bases := []*big.Int{big.NewInt(0), big.NewInt(1), big.NewInt(2), nMinus1}
		for range 6 {
			r, err := rand.Int(rand.Reader, n)
			if err != nil {
				t.Fatal(err)
			}
			bases = append(bases, r)
		}
		for _, e := range []uint32{3, 5, 17, 65537, 1<<31 - 1, rng.Uint32()>>1 | 1} {
			if e < 3 {
				continue
			}
			k.e = e
			k.rrOnce.Do(k.prepare)
			for _, s := range bases {
				l := len(k.n)
				sl, acc, x, tt := make([]uint32, l), make([]uint32, l), make([]uint32, l), make([]uint32, 2*l)
				fromBytes(sl, s.Bytes())
				k.modExp(acc, sl, x, tt)
				want := new(big.Int).Exp(s, big.NewInt(int64(e)), n)
				got := make([]byte, k.Size())
				for i := range got {
					got[len(got)-1-i] = byteAt(acc, i)
				}
				if new(big.Int).SetBytes(got).Cmp(want) != 0 {
					t.Fatalf("%d bits, e=%d, s=%x: got %x, want %x", bits, e, s, got, want)
				}
			}
		}
	}
}

// TestVerifyMatchesCryptoRSA checks verdicts against crypto/rsa.VerifyPKCS1v15 for
// real keys: valid signatures, every single-bit flip of one, s = n and above, the
// wrong length, a signature of another digest, and encodings that are almost right
// (DigestInfo without the NULL parameters, another hash's DigestInfo, short padding).
func TestVerifyMatchesCryptoRSA(t *testing.T) {
	for _, bits := range []int{2048, 3072} {
		priv, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			t.Fatal(err)
		}
		k, digest, sig := signed(t, priv)
		check := func(name string, sig []byte) {
			t.Helper()
			want := rsa.VerifyPKCS1v15(&priv.PublicKey, crypto.SHA256, digest[:], sig) == nil
			if got := k.VerifySHA256(&digest, sig); got != want {
				t.Fatalf("%d bits, %s: VerifySHA256 %v, crypto/rsa %v", bits, name, got, want)
			}
		}
		check("valid", sig)
		if !k.VerifySHA256(&digest, sig) {
			t.Fatalf("%d bits: a valid signature is refused", bits)
		}
		for i := 0; i < len(sig)*8; i += 7 {
			flipped := append([]byte(nil), sig...)
			flipped[i/8] ^= 1 << (i % 8)
			check("bit flip", flipped)
		}
		nBytes := priv.N.FillBytes(make([]byte, k.Size()))
		check("s = n", nBytes)
		check("s = n+1", new(big.Int).Add(priv.N, big.NewInt(1)).FillBytes(make([]byte, k.Size())))
		check("all ones", bytesOf(0xff, k.Size()))
		check("zero", make([]byte, k.Size()))
		check("short", sig[1:])
		check("long", append([]byte{0}, sig...))
		other := sha256.Sum256([]byte("another"))
		sigOther, _ := rsa.SignPKCS1v15(nil, priv, crypto.SHA256, other[:])
		check("another digest", sigOther)

		// Raw encodings signed with the private key (m^d mod n).
		raw := func(em []byte) []byte {
			m := new(big.Int).SetBytes(em)
			return new(big.Int).Exp(m, priv.D, priv.N).FillBytes(make([]byte, k.Size()))
		}
		encode := func(prefix []byte, padTo int) []byte {
			em := make([]byte, padTo)
			tail := append(append([]byte(nil), prefix...), digest[:]...)
			em[1] = 0x01
			for i := 2; i < padTo-len(tail)-1; i++ {
				em[i] = 0xff
			}
			copy(em[padTo-len(tail):], tail)
			return em
		}
		check("re-encoded", raw(encode(digestInfoSHA256[:], k.Size())))
		if !k.VerifySHA256(&digest, raw(encode(digestInfoSHA256[:], k.Size()))) {
			t.Fatalf("%d bits: the expected encoding, signed raw, is refused", bits)
		}
		noNull := []byte{0x30, 0x2f, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x04, 0x20}
		check("DigestInfo without NULL", raw(encode(noNull, k.Size())))
		sha384Info := []byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x20}
		check("SHA-384 DigestInfo", raw(encode(sha384Info, k.Size())))
		short := encode(digestInfoSHA256[:], k.Size())
		short[2] = 0x00 // padding ends at once: 00 01 00 ...
		check("padding cut short", raw(short))
		bt2 := encode(digestInfoSHA256[:], k.Size())
		bt2[1] = 0x02
		check("block type 2", raw(bt2))
	}
}

// TestSignaturePlusModulus checks the s < n rule, which no random tampering reaches:
// s + n, where it still fits in the signature's length, has the same s^e mod n as the
// valid s. PKCS#1 v1.5 signatures are deterministic, so with the fixed test key the
// messages whose signature leaves room for n are always the same ones.
func TestSignaturePlusModulus(t *testing.T) {
	priv := vectors.RS256Key().Private.(*rsa.PrivateKey)
	k, err := NewPublicKey(priv.N.Bytes(), uint32(priv.E))
	if err != nil {
		t.Fatal(err)
	}
	tried := 0
	for i := 0; i < 64 && tried < 3; i++ {
		digest := sha256.Sum256([]byte{byte(i)})
		sig, err := rsa.SignPKCS1v15(nil, priv, crypto.SHA256, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		plusN := new(big.Int).Add(new(big.Int).SetBytes(sig), priv.N)
		if plusN.BitLen() > 8*k.Size() {
			continue
		}
		tried++
		if !k.VerifySHA256(&digest, sig) {
			t.Fatalf("message %d: the valid signature is refused", i)
		}
		if k.VerifySHA256(&digest, plusN.FillBytes(make([]byte, k.Size()))) {
			t.Fatalf("message %d: s + n is accepted", i)
		}
	}
	if tried == 0 {
		t.Fatal("no signature of the fixed key leaves room for s + n in 64 messages")
	}
}

func TestNewPublicKeyRefuses(t *testing.T) {
	n2048 := bytesOf(0xc5, 256) // odd, 2048 bits
	cases := []struct {
		name string
		n    []byte
		e    uint32
		want error
	}{
		{"empty modulus", nil, 65537, ErrModulus},
		{"leading zero octet", append([]byte{0}, n2048...), 65537, ErrModulus},
		{"even modulus", append(bytesOf(0xc5, 255), 0xc4), 65537, ErrModulus},
		{"2047 bits", append([]byte{0x7f}, bytesOf(0xc5, 255)...), 65537, ErrSize},
		{"8193 bits", append([]byte{0x01}, bytesOf(0xc5, 1024)...), 65537, ErrSize},
		{"e = 1", n2048, 1, ErrExponent},
		{"even e", n2048, 65536, ErrExponent},
		{"e = 2^31+1", n2048, 1<<31 + 1, ErrExponent},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := NewPublicKey(c.n, c.e); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	for _, ok := range [][]byte{n2048, append([]byte{0x80}, bytesOf(0xc5, 1023)...)} {
		if _, err := NewPublicKey(ok, 3); err != nil {
			t.Fatalf("%d-byte modulus refused: %v", len(ok), err)
		}
	}
}

// signed returns priv's public key for this package, and a digest with priv's
// signature of it.
func signed(tb testing.TB, priv *rsa.PrivateKey) (*PublicKey, [32]byte, []byte) {
	tb.Helper()
	k, err := NewPublicKey(priv.N.Bytes(), uint32(priv.E))
	if err != nil {
		tb.Fatal(err)
	}
	digest := sha256.Sum256([]byte("header.payload"))
	sig, err := rsa.SignPKCS1v15(nil, priv, crypto.SHA256, digest[:])
	if err != nil {
		tb.Fatal(err)
	}
	return k, digest, sig
}

func bytesOf(b byte, n int) []byte {
	s := make([]byte, n)
	for i := range s {
		s[i] = b
	}
	return s
}

// BenchmarkVerifySHA256 is a 2048-bit verification natively, beside crypto/rsa's (the
// module's figure is the conformance suite's BenchmarkVerifyCold/RS256/wasm).
func BenchmarkVerifySHA256(b *testing.B) {
	priv := vectors.RS256Key().Private.(*rsa.PrivateKey)
	k, digest, sig := signed(b, priv)
	b.Run("rsaverify", func(b *testing.B) {
		for b.Loop() {
			if !k.VerifySHA256(&digest, sig) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("crypto-rsa", func(b *testing.B) {
		for b.Loop() {
			if rsa.VerifyPKCS1v15(&priv.PublicKey, crypto.SHA256, digest[:], sig) != nil {
				b.Fatal("refused")
			}
		}
	})
}

// FuzzVerify compares VerifySHA256 with crypto/rsa on arbitrary signatures and digests
// under the fixed test key, seeded with a valid signature (so mutations start close to
// one).
func FuzzVerify(f *testing.F) {
	priv := vectors.RS256Key().Private.(*rsa.PrivateKey)
	k, digest, sig := signed(f, priv)
	f.Add(digest[:], sig)
	f.Add(digest[:], make([]byte, len(sig)))
	f.Fuzz(func(t *testing.T, d, s []byte) {
		var digest [32]byte
		copy(digest[:], d)
		got := k.VerifySHA256(&digest, s)
		want := rsa.VerifyPKCS1v15(&priv.PublicKey, crypto.SHA256, digest[:], s) == nil
		if got != want {
			t.Fatalf("digest %x, sig %x: rsaverify %v, crypto/rsa %v", digest, s, got, want)
		}
	})
}

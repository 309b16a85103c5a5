package p256

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"math/big"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/edgeauth/edgeauth/verifier/abi"
)

// The reference for every verdict is crypto/ecdsa: this package must accept exactly
// the keys and signatures it accepts.

// refKey is a key parsed by both implementations (ref is nil when crypto/ecdsa
// refuses the coordinates).
func refParse(x, y []byte) *ecdsa.PublicKey {
	if len(x) != 32 || len(y) != 32 {
		return nil
	}
	enc := append(append([]byte{4}, x...), y...)
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), enc)
	if err != nil {
		return nil
	}
	return pub
}

func refVerify(pub *ecdsa.PublicKey, digest, sig []byte) bool {
	if len(sig) != 64 {
		return false
	}
	r := new(big.Int).SetBytes(sig[:32])
	s := new(big.Int).SetBytes(sig[32:])
	return ecdsa.Verify(pub, digest, r, s)
}

func keyCoords(pub *ecdsa.PublicKey) (x, y []byte) {
	enc, err := pub.Bytes()
	if err != nil {
		panic(err)
	}
	return enc[1:33], enc[33:]
}

func sign(t testing.TB, priv *ecdsa.PrivateKey, digest []byte) []byte {
	r, s, err := ecdsa.Sign(rand.Reader, priv, digest)
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return sig
}

func bytes32(v *big.Int) []byte {
	b := make([]byte, 32)
	new(big.Int).Mod(v, new(big.Int).Lsh(big.NewInt(1), 256)).FillBytes(b)
	return b
}

// specialScalars are values of r or s around the bounds 0 < v < n.
func specialScalars() map[string][]byte {
	p := elliptic.P256().Params().P
	n := elliptic.P256().Params().N
	one := big.NewInt(1)
	allOnes := make([]byte, 32)
	for i := range allOnes {
		allOnes[i] = 0xff
	}
	return map[string][]byte{
		"0":        make([]byte, 32),
		"1":        bytes32(one),
		"n-1":      bytes32(new(big.Int).Sub(n, one)),
		"n":        bytes32(n),
		"n+1":      bytes32(new(big.Int).Add(n, one)),
		"p-1":      bytes32(new(big.Int).Sub(p, one)),
		"p":        bytes32(p),
		"all-ones": allOnes,
	}
}

// counts tallies the differential cases by verdict, for the test log.
type counts struct{ accepted, rejected int }

func (c *counts) compare(t *testing.T, what string, k *PublicKey, ref *ecdsa.PublicKey, digest, sig []byte) bool {
	t.Helper()
	want := refVerify(ref, digest, sig)
	got := k.Verify(digest, sig)
	if got != want {
		t.Errorf("%s: Verify = %v, crypto/ecdsa = %v (digest %x sig %x key %x)", what, got, want, digest, sig, ref.X)
	}
	if want {
		c.accepted++
	} else {
		c.rejected++
	}
	return want
}

var diffKeys = flag.Int("p256.keys", 150, "random keys in TestDifferential (8 signatures each)")

func TestDifferential(t *testing.T) {
	keys, msgs := *diffKeys, 8
	if testing.Short() {
		keys = 20
	}
	rng := mrand.New(mrand.NewPCG(7, 8))
	var c counts
	special := specialScalars()
	n := elliptic.P256().Params().N
	digestLens := []int{32, 32, 32, 0, 1, 20, 31, 33, 48, 64}
	for ki := 0; ki < keys; ki++ {
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		x, y := keyCoords(&priv.PublicKey)
		k, err := ParsePublicKey(x, y)
		if err != nil {
			t.Fatal(err)
		}
		ref := &priv.PublicKey
		for mi := 0; mi < msgs; mi++ {
			digest := make([]byte, 32)
			if ki%4 == 3 { // every fourth key: digests of other lengths (FIPS 186 truncation)
				digest = make([]byte, digestLens[(ki/4+mi)%len(digestLens)])
			}
			for i := range digest {
				digest[i] = byte(rng.Uint32())
			}
			sig := sign(t, priv, digest)
			if !c.compare(t, "valid", k, ref, digest, sig) {
				t.Fatalf("crypto/ecdsa rejected its own signature")
			}

			// High S: (r, n-s) is also valid.
			s := new(big.Int).SetBytes(sig[32:])
			hs := append(append([]byte{}, sig[:32]...), bytes32(new(big.Int).Sub(n, s))...)
			if !c.compare(t, "high-S", k, ref, digest, hs) {
				t.Fatalf("high-S signature not valid")
			}

			// One flipped bit in r, in s, in the digest.
			for _, part := range []struct {
				name string
				off  int
			}{{"r", 0}, {"s", 32}} {
				bad := append([]byte{}, sig...)
				bad[part.off+rng.IntN(32)] ^= 1 << rng.IntN(8)
				c.compare(t, "flipped bit in "+part.name, k, ref, digest, bad)
			}
			if len(digest) > 0 {
				bad := append([]byte{}, digest...)
				bad[rng.IntN(len(bad))] ^= 1 << rng.IntN(8)
				c.compare(t, "flipped bit in digest", k, ref, bad, sig)
			}
			// r+n and s+n are congruent but out of range.
			r := new(big.Int).SetBytes(sig[:32])
			if rn := new(big.Int).Add(r, n); rn.BitLen() <= 256 {
				c.compare(t, "r+n", k, ref, digest, append(bytes32(rn), sig[32:]...))
			}
			// Special values of r and s.
			if mi == 0 {
				for name, v := range special {
					c.compare(t, "r="+name, k, ref, digest, append(append([]byte{}, v...), sig[32:]...))
					c.compare(t, "s="+name, k, ref, digest, append(append([]byte{}, sig[:32]...), v...))
				}
				// Wrong lengths.
				for _, l := range []int{0, 63, 65, 72} {
					bad := make([]byte, l)
					copy(bad, sig)
					if k.Verify(digest, bad) {
						t.Errorf("signature of %d bytes accepted", l)
					}
				}
			}
			// A flipped bit in the key: crypto/ecdsa must agree on whether the key parses,
			// and on the verdict when it does.
			if mi == 1 {
				bx, by := append([]byte{}, x...), append([]byte{}, y...)
				if rng.IntN(2) == 0 {
					bx[rng.IntN(32)] ^= 1 << rng.IntN(8)
				} else {
					by[rng.IntN(32)] ^= 1 << rng.IntN(8)
				}
				bk, err := ParsePublicKey(bx, by)
				bref := refParse(bx, by)
				if (err == nil) != (bref != nil) {
					t.Fatalf("flipped key: ParsePublicKey err = %v, crypto/ecdsa ok = %v", err, bref != nil)
				}
				if bk != nil {
					c.compare(t, "flipped key", bk, bref, digest, sig)
				} else {
					c.rejected++
				}
			}
		}
	}
	t.Logf("differential: %d keys, %d cases agreeing with crypto/ecdsa (%d accepted, %d rejected)",
		keys, c.accepted+c.rejected, c.accepted, c.rejected)
}

// TestDigestAboveN signs digests whose value is n or more (reduced mod n by both
// signer and verifier) and longer digests whose leftmost 32 bytes are such values.
func TestDigestAboveN(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	x, y := keyCoords(&priv.PublicKey)
	k, err := ParsePublicKey(x, y)
	if err != nil {
		t.Fatal(err)
	}
	n := elliptic.P256().Params().N
	ones := make([]byte, 40)
	for i := range ones {
		ones[i] = 0xff
	}
	var c counts
	for name, digest := range map[string][]byte{
		"n":              bytes32(n),
		"n+5":            bytes32(new(big.Int).Add(n, big.NewInt(5))),
		"all ones":       ones[:32],
		"40 bytes ones":  ones,
		"n then 8 bytes": append(bytes32(n), 1, 2, 3, 4, 5, 6, 7, 8),
	} {
		sig := sign(t, priv, digest)
		if !c.compare(t, name, k, &priv.PublicKey, digest, sig) {
			t.Fatalf("%s: crypto/ecdsa rejected its own signature", name)
		}
		// The digest reduced mod n is the same message to ECDSA.
		reduced := bytes32(new(big.Int).Mod(new(big.Int).SetBytes(digest[:32]), n))
		c.compare(t, name+" reduced", k, &priv.PublicKey, reduced, sig)
	}
}

// TestExceptionalSums builds signatures whose verification hits the exceptional
// cases of the group law: the same point added to itself, a point added to its
// negative, and a result at infinity. Keys with private scalar 1, 2 and n-1 make
// the G and Q tables share points.
func TestExceptionalSums(t *testing.T) {
	curve := elliptic.P256()
	n := curve.Params().N
	rng := mrand.New(mrand.NewPCG(9, 10))
	randScalar := func() *big.Int {
		var b [32]byte
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		v := new(big.Int).Mod(new(big.Int).SetBytes(b[:]), n)
		if v.Sign() == 0 {
			v.SetInt64(1)
		}
		return v
	}
	var c counts
	for _, d := range []*big.Int{big.NewInt(1), big.NewInt(2), big.NewInt(3), new(big.Int).Sub(n, big.NewInt(1)), new(big.Int).Sub(n, big.NewInt(2))} {
		qx, qy := curve.ScalarBaseMult(d.Bytes())
		x, y := bytes32(qx), bytes32(qy)
		k, err := ParsePublicKey(x, y)
		if err != nil {
			t.Fatal(err)
		}
		ref := refParse(x, y)
		for i := 0; i < 40; i++ {
			// Pick u1 and u2 related so that their digits coincide or cancel:
			// u2 = u1 * m / d, so u2*Q = m * u1*G.
			u1 := randScalar()
			if i%5 == 0 {
				u1.SetInt64(int64(1 + i))
			}
			m := []int64{1, -1, 2, -2, 3}[i%5]
			mm := new(big.Int).Mod(big.NewInt(m), n)
			u2 := new(big.Int).Mul(u1, mm)
			u2.Mul(u2, new(big.Int).ModInverse(d, n))
			u2.Mod(u2, n)
			// R = u1 G + u2 Q (possibly infinity); r = x(R) mod n, or random when R is
			// infinity (then no r can verify). s = r/u2, e = u1 s.
			rx, ry := curve.ScalarBaseMult(bytes32(u1))
			tx, ty := curve.ScalarMult(qx, qy, bytes32(u2))
			var r *big.Int
			if rx.Cmp(tx) == 0 && ry.Cmp(ty) != 0 { // R = infinity
				r = randScalar()
			} else {
				sx, _ := curve.Add(rx, ry, tx, ty)
				r = new(big.Int).Mod(sx, n)
			}
			s := new(big.Int).Mul(r, new(big.Int).ModInverse(u2, n))
			s.Mod(s, n)
			e := new(big.Int).Mul(u1, s)
			e.Mod(e, n)
			sig := append(bytes32(r), bytes32(s)...)
			want := m != -1 // m = -1 puts R at infinity
			if got := c.compare(t, "exceptional", k, ref, bytes32(e), sig); got != want {
				t.Fatalf("d=%v m=%d: crypto/ecdsa says %v, want %v", d, m, got, want)
			}
		}
	}
	t.Logf("exceptional sums: %d cases agreeing with crypto/ecdsa (%d accepted, %d rejected)", c.accepted+c.rejected, c.accepted, c.rejected)
}

// forge returns a key Q and a (digest e, signature (r, s)) pair such that
// u1*G + u2*Q = R for the given R, u1, u2 and r: Q = (R - u1*G) / u2, s = r/u2,
// e = u1*s. Whether the signature is valid is then up to x(R) and r.
func forge(rx, ry, r, u1, u2 *big.Int) (x, y, e, sig []byte) {
	curve := elliptic.P256()
	n, p := curve.Params().N, curve.Params().P
	gx, gy := curve.ScalarBaseMult(bytes32(u1))
	gy.Sub(p, gy) // -u1 G
	dx, dy := curve.Add(rx, ry, gx, gy)
	inv := new(big.Int).ModInverse(u2, n)
	qx, qy := curve.ScalarMult(dx, dy, bytes32(inv))
	s := new(big.Int).Mul(r, inv)
	s.Mod(s, n)
	ev := new(big.Int).Mul(u1, s)
	ev.Mod(ev, n)
	return bytes32(qx), bytes32(qy), bytes32(ev), append(bytes32(r), bytes32(s)...)
}

// TestLargeX covers the final comparison, done without inverting Z: x(R) mod n == r
// holds when x(R) == r or x(R) == r+n, and r+n is a candidate only when r+n < p.
func TestLargeX(t *testing.T) {
	curve := elliptic.P256()
	params := curve.Params()
	n, p := params.N, params.P
	var c counts
	check := func(name string, rx, ry, r *big.Int, off int64, want bool) {
		t.Helper()
		x, y, e, sig := forge(rx, ry, r, big.NewInt(1234567+off), big.NewInt(7654321+off))
		k, err := ParsePublicKey(x, y)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.compare(t, name, k, refParse(x, y), e, sig); got != want {
			t.Fatalf("%s: crypto/ecdsa says %v, want %v", name, got, want)
		}
	}
	// Points R with x in [n, p): x = n + off. Valid only through r+n.
	found := 0
	for off := int64(0); found < 6; off++ {
		rx := new(big.Int).Add(n, big.NewInt(off))
		ry := curveY(rx)
		if ry == nil {
			continue
		}
		found++
		check("x(R) >= n, r = x(R)-n", rx, ry, new(big.Int).Sub(rx, n), off, true)
		check("x(R) >= n, r = x(R) (out of range)", rx, ry, rx, off, false)
	}
	// Points R with a tiny x (below 2^256 - p), and r = x + (p - n) < n: then r+n =
	// x + p is below 2^256 but not below p, and reduced mod p it would equal x(R).
	// Accepting it would accept a wrong r.
	found = 0
	for off := int64(0); found < 6; off++ {
		rx := big.NewInt(off)
		ry := curveY(rx)
		if ry == nil {
			continue
		}
		found++
		r := new(big.Int).Add(rx, new(big.Int).Sub(p, n))
		check("r+n >= p would wrap to x(R)", rx, ry, r, off, false)
		check("same R, right r", rx, ry, rx, off, rx.Sign() != 0)
	}
	t.Logf("large x: %d cases agreeing with crypto/ecdsa (%d accepted, %d rejected)", c.accepted+c.rejected, c.accepted, c.rejected)
}

// curveY returns a y with (x, y) on P-256, or nil.
func curveY(x *big.Int) *big.Int {
	params := elliptic.P256().Params()
	p := params.P
	y2 := new(big.Int).Exp(x, big.NewInt(3), p)
	y2.Sub(y2, new(big.Int).Mul(big.NewInt(3), x))
	y2.Add(y2, params.B)
	y2.Mod(y2, p)
	return new(big.Int).ModSqrt(y2, p)
}

func TestParsePublicKey(t *testing.T) {
	params := elliptic.P256().Params()
	gx, gy := bytes32(params.Gx), bytes32(params.Gy)
	p := params.P
	one := big.NewInt(1)
	// A point with a small x, and the same point with x+p (not reduced).
	var sx, sy *big.Int
	for v := int64(0); sy == nil; v++ {
		sx = big.NewInt(v)
		sy = curveY(sx)
	}
	for _, tc := range []struct {
		name string
		x, y []byte
		ok   bool
	}{
		{"generator", gx, gy, true},
		{"negated generator", gx, bytes32(new(big.Int).Sub(p, params.Gy)), true},
		{"small x", bytes32(sx), bytes32(sy), true},
		{"x + p", bytes32(new(big.Int).Add(sx, p)), bytes32(sy), false},
		{"y + p", bytes32(sx), bytes32(new(big.Int).Add(sy, p)), false},
		{"x = p", bytes32(p), gy, false},
		{"y = p", gx, bytes32(p), false},
		{"y = p-1", gx, bytes32(new(big.Int).Sub(p, one)), false},
		{"off curve", gx, bytes32(new(big.Int).Add(params.Gy, one)), false},
		{"infinity as zeros", make([]byte, 32), make([]byte, 32), false},
		{"x short", gx[1:], gy, false},
		{"y short", gx, gy[1:], false},
		{"x long", append([]byte{0}, gx...), gy, false},
		{"y long", gx, append([]byte{0}, gy...), false},
		{"empty", nil, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParsePublicKey(tc.x, tc.y)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok = %v", err, tc.ok)
			}
			if (refParse(tc.x, tc.y) != nil) != tc.ok {
				t.Fatalf("crypto/ecdsa disagrees with the expected outcome")
			}
			if err != nil {
				if k != nil {
					t.Fatal("non-nil key with an error")
				}
				if !errors.Is(err, ErrInvalidPublicKey) || !errors.Is(err, abi.ErrInvalidKeySet) {
					t.Fatalf("err = %v, want ErrInvalidPublicKey wrapping abi.ErrInvalidKeySet", err)
				}
			}
		})
	}
}

func TestVerifyNilKey(t *testing.T) {
	var k *PublicKey
	if k.Verify(make([]byte, 32), make([]byte, 64)) {
		t.Fatal("nil key verified")
	}
}

// repoRoot walks up from the working directory to the directory holding go.mod.
func repoRoot(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// wycheproofKeyCoord turns a Wycheproof wx/wy hex value (minimal two's complement, so
// possibly with a leading zero byte or shorter than 32 bytes) into 32 bytes.
func wycheproofKeyCoord(t *testing.T, h string) []byte {
	b, err := hex.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	for len(b) > 32 && b[0] == 0 {
		b = b[1:]
	}
	if len(b) > 32 {
		t.Fatalf("coordinate %s longer than 32 bytes", h)
	}
	return append(make([]byte, 32-len(b)), b...)
}

func TestWycheproof(t *testing.T) {
	path := filepath.Join(repoRoot(t), "verifier", "internal", "vectors", "testdata", "wycheproof", "ecdsa_secp256r1_sha256_p1363_test.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("Wycheproof vectors: %v", err)
	}
	var file struct {
		NumberOfTests int `json:"numberOfTests"`
		TestGroups    []struct {
			PublicKey struct{ Wx, Wy string } `json:"publicKey"`
			Sha       string                  `json:"sha"`
			Tests     []struct {
				TcID    int    `json:"tcId"`
				Comment string `json:"comment"`
				Msg     string `json:"msg"`
				Sig     string `json:"sig"`
				Result  string `json:"result"`
			} `json:"tests"`
		} `json:"testGroups"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	var total, valid, invalid int
	for _, g := range file.TestGroups {
		if g.Sha != "SHA-256" {
			t.Fatalf("unexpected hash %q", g.Sha)
		}
		x, y := wycheproofKeyCoord(t, g.PublicKey.Wx), wycheproofKeyCoord(t, g.PublicKey.Wy)
		k, err := ParsePublicKey(x, y)
		if err != nil {
			t.Fatalf("key %s,%s: %v", g.PublicKey.Wx, g.PublicKey.Wy, err)
		}
		for _, tc := range g.Tests {
			msg, err1 := hex.DecodeString(tc.Msg)
			sig, err2 := hex.DecodeString(tc.Sig)
			if err1 != nil || err2 != nil {
				t.Fatalf("tcId %d: bad hex", tc.TcID)
			}
			digest := sha256.Sum256(msg)
			got := k.Verify(digest[:], sig)
			switch tc.Result {
			case "valid":
				valid++
				if !got {
					t.Errorf("tcId %d (%s): valid signature rejected", tc.TcID, tc.Comment)
				}
			case "invalid":
				invalid++
				if got {
					t.Errorf("tcId %d (%s): invalid signature accepted", tc.TcID, tc.Comment)
				}
			default:
				t.Fatalf("tcId %d: result %q", tc.TcID, tc.Result)
			}
			total++
		}
	}
	if total != file.NumberOfTests || total != 262 {
		t.Fatalf("ran %d cases, file declares %d", total, file.NumberOfTests)
	}
	t.Logf("wycheproof: %d cases (%d valid accepted, %d invalid rejected)", total, valid, invalid)
}

// FuzzVerify compares Verify with crypto/ecdsa on arbitrary keys (derived from a
// private scalar so most are valid), digests and signatures, plus mutations of a
// valid signature.
func FuzzVerify(f *testing.F) {
	f.Add([]byte{1}, []byte("digest"), make([]byte, 64), uint8(0))
	f.Add([]byte{0xff, 0xff}, make([]byte, 32), make([]byte, 64), uint8(3))
	f.Add([]byte("key"), []byte{}, []byte{1, 2, 3}, uint8(1))
	curve := elliptic.P256()
	n := curve.Params().N
	f.Fuzz(func(t *testing.T, seed, digest, sig []byte, mode uint8) {
		d := new(big.Int).SetBytes(seed)
		d.Mod(d, n)
		if d.Sign() == 0 {
			d.SetInt64(1)
		}
		qx, qy := curve.ScalarBaseMult(bytes32(d))
		x, y := bytes32(qx), bytes32(qy)
		if mode&1 == 1 && len(sig) > 0 { // an arbitrary key instead: coordinates from the input
			x = append(make([]byte, 32), sig...)[len(sig):][:32]
			y = append(make([]byte, 32), digest...)[len(digest):][:32]
		}
		k, err := ParsePublicKey(x, y)
		ref := refParse(x, y)
		if (err == nil) != (ref != nil) {
			t.Fatalf("ParsePublicKey(%x, %x) err = %v, crypto/ecdsa ok = %v", x, y, err, ref != nil)
		}
		if err != nil {
			return
		}
		if mode&2 == 2 { // start from a valid signature and let the fuzzer's bytes alter it
			priv := &ecdsa.PrivateKey{PublicKey: *ref, D: d}
			valid := sign(t, priv, digest)
			for i, b := range sig {
				valid[i%64] ^= b
			}
			sig = valid
		}
		if got, want := k.Verify(digest, sig), refVerify(ref, digest, sig); got != want {
			t.Fatalf("Verify(%x, %x) = %v, crypto/ecdsa = %v (key %x, %x)", digest, sig, got, want, x, y)
		}
	})
}

// benchKey returns a key, a digest and a valid signature for benchmarks.
func benchKey(b *testing.B) (*ecdsa.PrivateKey, []byte, []byte) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	digest := sha256.Sum256([]byte("benchmark"))
	return priv, digest[:], sign(b, priv, digest[:])
}

func BenchmarkVerify(b *testing.B) {
	priv, digest, sig := benchKey(b)
	b.Run("p256", func(b *testing.B) {
		x, y := keyCoords(&priv.PublicKey)
		k, err := ParsePublicKey(x, y)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if !k.Verify(digest, sig) {
				b.Fatal("rejected")
			}
		}
	})
	b.Run("crypto-ecdsa", func(b *testing.B) {
		for b.Loop() {
			if !refVerify(&priv.PublicKey, digest, sig) {
				b.Fatal("rejected")
			}
		}
	})
}

func BenchmarkParsePublicKey(b *testing.B) {
	priv, _, _ := benchKey(b)
	x, y := keyCoords(&priv.PublicKey)
	for b.Loop() {
		if _, err := ParsePublicKey(x, y); err != nil {
			b.Fatal(err)
		}
	}
}

// TestVerifyAllocs checks that Verify does not allocate: it runs for every token, and
// inside the WebAssembly module every allocation is work for the garbage collector.
func TestVerifyAllocs(t *testing.T) {
	params := elliptic.P256().Params()
	k, err := ParsePublicKey(bytes32(params.Gx), bytes32(params.Gy))
	if err != nil {
		t.Fatal(err)
	}
	digest, sig := make([]byte, 32), make([]byte, 64)
	sig[31], sig[63] = 1, 1
	if allocs := testing.AllocsPerRun(20, func() { k.Verify(digest, sig) }); allocs != 0 {
		t.Fatalf("Verify allocates %v times", allocs)
	}
}

package ed25519verify

import (
	"crypto/ed25519"
	"crypto/sha512"
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

// The reference for every verdict is crypto/ed25519.Verify: this package must accept
// exactly the signatures it accepts. crypto/ed25519 has no exported point decoding, so
// which keys parse is checked against refDecode below (RFC 8032 decoding with the
// standard library's edwards25519 Point.SetBytes leniencies, in math/big), and every
// verdict with any key, valid or not, against crypto/ed25519.Verify.

// refVerify is crypto/ed25519.Verify without its panic on a key of the wrong length.
func refVerify(pub, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize {
		return false
	}
	return ed25519.Verify(pub, msg, sig)
}

// refPoint is an affine point in math/big.
type refPoint struct{ x, y *big.Int }

func refMod(x *big.Int) *big.Int { return x.Mod(x, bigP) }

// refDecode decodes as edwards25519.Point.SetBytes: y is the low 255 bits taken mod p
// (so p <= y < 2^255 is accepted), x = sqrt((y^2-1)/(dy^2+1)) must exist, and the top
// bit selects -x, also when x = 0.
func refDecode(b []byte) (refPoint, bool) {
	if len(b) != 32 {
		return refPoint{}, false
	}
	c := append([]byte(nil), b...)
	sign := c[31] >> 7
	c[31] &= 0x7f
	y := refMod(leToBig(c))
	y2 := refMod(new(big.Int).Mul(y, y))
	u := refMod(new(big.Int).Sub(y2, big.NewInt(1)))
	v := refMod(new(big.Int).Add(new(big.Int).Mul(bigD, y2), big.NewInt(1)))
	x := new(big.Int).ModSqrt(refMod(new(big.Int).Mul(u, new(big.Int).ModInverse(v, bigP))), bigP)
	if x == nil {
		return refPoint{}, false
	}
	if x.Bit(0) == 1 { // the non-negative (even) root
		x.Sub(bigP, x)
	}
	if sign == 1 {
		x = refMod(new(big.Int).Neg(x))
	}
	return refPoint{x, y}, true
}

func refEncode(p refPoint) []byte {
	b := make([]byte, 32)
	leBytes(b, p.y)
	b[31] |= byte(p.x.Bit(0)) << 7
	return b
}

func refAdd(p, q refPoint) refPoint {
	xy := refMod(new(big.Int).Mul(new(big.Int).Mul(p.x, q.x), new(big.Int).Mul(p.y, q.y)))
	dxy := refMod(new(big.Int).Mul(bigD, xy))
	xn := refMod(new(big.Int).Add(new(big.Int).Mul(p.x, q.y), new(big.Int).Mul(p.y, q.x)))
	yn := refMod(new(big.Int).Add(new(big.Int).Mul(p.y, q.y), new(big.Int).Mul(p.x, q.x)))
	xd := new(big.Int).ModInverse(refMod(new(big.Int).Add(big.NewInt(1), dxy)), bigP)
	yd := new(big.Int).ModInverse(refMod(new(big.Int).Sub(big.NewInt(1), dxy)), bigP)
	return refPoint{refMod(xn.Mul(xn, xd)), refMod(yn.Mul(yn, yd))}
}

func refMul(k *big.Int, p refPoint) refPoint {
	r := refPoint{big.NewInt(0), big.NewInt(1)}
	for i := k.BitLen() - 1; i >= 0; i-- {
		r = refAdd(r, r)
		if k.Bit(i) == 1 {
			r = refAdd(r, p)
		}
	}
	return r
}

// smallOrderEncodings returns the encodings of the eight points of order dividing 8,
// canonical and (for y = 0 and y = 1) non-canonical, and with the sign bit set on x = 0.
func smallOrderEncodings(t testing.TB) [][]byte {
	base, ok := refDecode(mustHex("5866666666666666666666666666666666666666666666666666666666666666"))
	if !ok {
		t.Fatal("base point does not decode")
	}
	// A point of order 8: [L] of a point that is not in the prime-order subgroup.
	var t8 refPoint
	for yv := int64(2); ; yv++ {
		var b [32]byte
		leBytes(b[:], big.NewInt(yv))
		p, ok := refDecode(b[:])
		if !ok {
			continue
		}
		t8 = refMul(bigL, p)
		if refEncode(refMul(big.NewInt(4), t8))[0] != 1 { // [4]T8 is not the identity
			break
		}
	}
	_ = base
	var encs [][]byte
	seen := map[string]bool{}
	addEnc := func(b []byte) {
		if !seen[string(b)] {
			seen[string(b)] = true
			encs = append(encs, b)
		}
	}
	p := refPoint{big.NewInt(0), big.NewInt(1)}
	for i := 0; i < 8; i++ {
		e := refEncode(p)
		addEnc(e)
		if p.x.Sign() == 0 { // -0: sign bit set
			addEnc(append(append([]byte{}, e[:31]...), e[31]|0x80))
		}
		if p.y.Cmp(big.NewInt(19)) < 0 { // y + p < 2^255: non-canonical encodings
			n := make([]byte, 32)
			leBytes(n, new(big.Int).Add(p.y, bigP))
			n[31] |= byte(p.x.Bit(0)) << 7
			addEnc(n)
		}
		p = refAdd(p, t8)
	}
	if len(encs) < 10 {
		t.Fatalf("only %d small-order encodings", len(encs))
	}
	return encs
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// counts tallies the differential cases by verdict, for the test log.
type counts struct{ accepted, rejected int }

func (c *counts) compare(t *testing.T, what string, pub []byte, k *PublicKey, msg, sig []byte) bool {
	t.Helper()
	want := refVerify(pub, msg, sig)
	got := k.Verify(msg, sig)
	if got != want {
		t.Errorf("%s: Verify = %v, crypto/ed25519 = %v (msg %x sig %x key %x)", what, got, want, msg, sig, pub)
	}
	if want {
		c.accepted++
	} else {
		c.rejected++
	}
	return want
}

// parse parses pub with both ParsePublicKey and refDecode and fails on disagreement.
// A key that does not parse verifies nothing here; crypto/ed25519 must agree on the
// verdict for sig.
func (c *counts) parse(t *testing.T, what string, pub, msg, sig []byte) *PublicKey {
	t.Helper()
	k, err := ParsePublicKey(pub)
	_, refOK := refDecode(pub)
	if (err == nil) != refOK {
		t.Fatalf("%s: ParsePublicKey(%x) err = %v, reference decodes = %v", what, pub, err, refOK)
	}
	if err != nil {
		if !errors.Is(err, ErrInvalidPublicKey) || !errors.Is(err, abi.ErrInvalidKeySet) {
			t.Fatalf("%s: error %v does not wrap the sentinels", what, err)
		}
		if refVerify(pub, msg, sig) {
			t.Fatalf("%s: key %x refused but crypto/ed25519 verifies", what, pub)
		}
		c.rejected++
	}
	return k
}

var diffKeys = flag.Int("ed25519.keys", 200, "random keys in TestDifferential (8 messages each)")

// withS returns sig with S replaced by v (little-endian, 32 bytes).
func withS(sig []byte, v *big.Int) []byte {
	out := append([]byte{}, sig...)
	b := make([]byte, 32)
	leBytes(b, v)
	copy(out[32:], b)
	return out
}

func TestDifferential(t *testing.T) {
	keys, msgs := *diffKeys, 8
	if testing.Short() {
		keys = 25
	}
	rng := mrand.New(mrand.NewPCG(11, 12))
	var c counts
	small := smallOrderEncodings(t)
	two256 := new(big.Int).Lsh(big.NewInt(1), 256)
	for ki := 0; ki < keys; ki++ {
		seed := make([]byte, 32)
		for i := range seed {
			seed[i] = byte(rng.Uint32())
		}
		priv := ed25519.NewKeyFromSeed(seed)
		pub := []byte(priv.Public().(ed25519.PublicKey))
		k, err := ParsePublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		for mi := 0; mi < msgs; mi++ {
			msg := make([]byte, rng.IntN(300))
			for i := range msg {
				msg[i] = byte(rng.Uint32())
			}
			sig := ed25519.Sign(priv, msg)
			if !c.compare(t, "valid", pub, k, msg, sig) {
				t.Fatal("crypto/ed25519 rejected its own signature")
			}
			// One flipped bit in R, in S, in the message.
			for _, part := range []struct {
				name string
				off  int
			}{{"R", 0}, {"S", 32}} {
				bad := append([]byte{}, sig...)
				bad[part.off+rng.IntN(32)] ^= 1 << rng.IntN(8)
				c.compare(t, "flipped bit in "+part.name, pub, k, msg, bad)
			}
			if len(msg) > 0 {
				bad := append([]byte{}, msg...)
				bad[rng.IntN(len(bad))] ^= 1 << rng.IntN(8)
				c.compare(t, "flipped bit in message", pub, k, bad, sig)
			}
			s := leToBig(sig[32:])
			// S + L (congruent, out of range) and S + k*L for the largest k that fits.
			c.compare(t, "S+L", pub, k, msg, withS(sig, new(big.Int).Add(s, bigL)))
			top := new(big.Int).Sub(two256, big.NewInt(1))
			sk := new(big.Int).Add(s, new(big.Int).Mul(bigL, new(big.Int).Div(new(big.Int).Sub(top, s), bigL)))
			c.compare(t, "S+kL", pub, k, msg, withS(sig, sk))
			// R non-canonical: y + p where that fits (only for tiny y; here R's y with
			// the top bit flipped, i.e. the other sign, and R's y + p mod 2^255).
			rn := append([]byte{}, sig...)
			rn[31] ^= 0x80
			c.compare(t, "R sign flipped", pub, k, msg, rn)

			if mi == 0 {
				for _, v := range []struct {
					name string
					v    *big.Int
				}{
					{"0", big.NewInt(0)}, {"1", big.NewInt(1)},
					{"L-1", new(big.Int).Sub(bigL, big.NewInt(1))}, {"L", bigL},
					{"L+1", new(big.Int).Add(bigL, big.NewInt(1))},
					{"2^252", new(big.Int).Lsh(big.NewInt(1), 252)},
					{"2^253", new(big.Int).Lsh(big.NewInt(1), 253)},
					{"2^255", new(big.Int).Lsh(big.NewInt(1), 255)},
					{"2^256-1", top},
				} {
					c.compare(t, "S="+v.name, pub, k, msg, withS(sig, v.v))
				}
				for _, special := range [][]byte{make([]byte, 64), allOnes(64)} {
					c.compare(t, "special signature", pub, k, msg, special)
				}
				for _, l := range []int{0, 32, 63, 65, 128} {
					bad := make([]byte, l)
					copy(bad, sig)
					if k.Verify(msg, bad) {
						t.Errorf("signature of %d bytes accepted", l)
					}
				}
				// Small-order R, with S = 0 and with the real S.
				for _, r := range small {
					for _, sv := range [][]byte{make([]byte, 32), sig[32:]} {
						c.compare(t, "small-order R", pub, k, msg, append(append([]byte{}, r...), sv...))
					}
				}
			}
			// A flipped bit in the key: both must agree on whether it parses, and on
			// the verdict when it does.
			if mi == 1 {
				bp := append([]byte{}, pub...)
				bp[rng.IntN(32)] ^= 1 << rng.IntN(8)
				if bk := c.parse(t, "flipped key", bp, msg, sig); bk != nil {
					c.compare(t, "flipped key", bp, bk, msg, sig)
				}
			}
			// The key plus a small-order point (a valid key outside the prime-order
			// subgroup): crypto/ed25519 accepts or rejects depending on k mod 8.
			if mi == 2 {
				a, _ := refDecode(pub)
				for _, e := range small[:4] {
					tp, _ := refDecode(e)
					mixed := refEncode(refAdd(a, tp))
					if mk := c.parse(t, "mixed-order key", mixed, msg, sig); mk != nil {
						c.compare(t, "mixed-order key", mixed, mk, msg, sig)
					}
				}
			}
		}
	}
	// Small-order keys: with small-order R and S = 0, [k](-A) is one of the eight
	// small-order points, so about one case in eight verifies.
	for i, a := range small {
		k := c.parse(t, "small-order key", a, nil, nil)
		if k == nil {
			t.Fatalf("small-order key %x refused", a)
		}
		for mi := 0; mi < 16; mi++ {
			msg := []byte{byte(i), byte(mi)}
			for _, r := range small {
				c.compare(t, "small-order key and R", a, k, msg, append(append([]byte{}, r...), make([]byte, 32)...))
			}
		}
	}
	t.Logf("differential: %d keys, %d cases agreeing with crypto/ed25519 (%d accepted, %d rejected)",
		keys, c.accepted+c.rejected, c.accepted, c.rejected)
}

func allOnes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = 0xff
	}
	return b
}

// TestParsePublicKey checks which 32-byte strings are keys, against refDecode, on
// special encodings and on random ones (about half of all y decode).
func TestParsePublicKey(t *testing.T) {
	pEnc := make([]byte, 32)
	leBytes(pEnc, bigP)
	cases := map[string][]byte{
		"all zero (y = 0, order 4)":   make([]byte, 32),
		"all ones (y = 2^255-1 = 18)": allOnes(32),
		"y = p (non-canonical 0)":     pEnc,
		"y = 1, x = -0 (sign bit)":    append(append([]byte{1}, make([]byte, 30)...), 0x80),
		"y = 2 (not on the curve)":    append([]byte{2}, make([]byte, 31)...),
		"base point":                  mustHex("5866666666666666666666666666666666666666666666666666666666666666"),
	}
	for name, b := range cases {
		_, err := ParsePublicKey(b)
		_, ok := refDecode(b)
		if (err == nil) != ok {
			t.Errorf("%s: ParsePublicKey err = %v, reference decodes = %v", name, err, ok)
		}
	}
	for _, l := range []int{0, 31, 33, 64} {
		if _, err := ParsePublicKey(make([]byte, l)); !errors.Is(err, abi.ErrInvalidKeySet) {
			t.Errorf("key of %d bytes: err = %v", l, err)
		}
	}
	rng := mrand.New(mrand.NewPCG(13, 14))
	parsed := 0
	for i := 0; i < 2000; i++ {
		b := make([]byte, 32)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		if i%4 == 0 { // y close to p
			copy(b[1:], allOnes(31))
			b[31] = 0x7f | b[31]&0x80
		}
		_, err := ParsePublicKey(b)
		_, ok := refDecode(b)
		if (err == nil) != ok {
			t.Fatalf("ParsePublicKey(%x) err = %v, reference decodes = %v", b, err, ok)
		}
		if ok {
			parsed++
		}
	}
	t.Logf("random keys: %d of 2000 parse", parsed)
}

// TestKeyTable checks the per-key tables against math/big: entry [c][i] is
// (2i+1) 2^(64c) (-A).
func TestKeyTable(t *testing.T) {
	pub := ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)
	for _, enc := range append(smallOrderEncodings(t), pub) {
		k, err := ParsePublicKey(enc)
		if err != nil {
			t.Fatal(err)
		}
		k.Verify(nil, make([]byte, SignatureSize)) // the table is built on the first Verify
		a, _ := refDecode(enc)
		p := refPoint{refMod(new(big.Int).Neg(a.x)), a.y}
		for q := range k.tables {
			checkPrecomp(t, k.tables[q][:], p)
			p = refMul(new(big.Int).Lsh(big.NewInt(1), quarterBits), p)
		}
	}
}

// TestBaseTable checks the generated base tables against math/big: entry [c][i] is
// (2i+1) 2^(64c) B.
func TestBaseTable(t *testing.T) {
	b, _ := refDecode(mustHex("5866666666666666666666666666666666666666666666666666666666666666"))
	for q := range baseTables {
		checkPrecomp(t, baseTables[q][:], b)
		b = refMul(new(big.Int).Lsh(big.NewInt(1), quarterBits), b)
	}
}

func checkPrecomp(t *testing.T, table []precomp, p refPoint) {
	t.Helper()
	d2 := new(big.Int).Lsh(bigD, 1)
	for i := range table {
		q := refMul(big.NewInt(int64(2*i+1)), p)
		want := []*big.Int{
			refMod(new(big.Int).Add(q.y, q.x)),
			refMod(new(big.Int).Sub(q.y, q.x)),
			refMod(new(big.Int).Mul(d2, new(big.Int).Mul(q.x, q.y))),
		}
		for j, f := range []*fe{&table[i].yPlusX, &table[i].yMinusX, &table[i].xy2d} {
			if got := feToBig(f); got.Cmp(want[j]) != 0 {
				t.Fatalf("entry %d, coordinate %d: %v, want %v", i, j, got, want[j])
			}
		}
	}
}

func TestVerifyNilKey(t *testing.T) {
	var k *PublicKey
	if k.Verify(nil, make([]byte, 64)) {
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

func TestWycheproof(t *testing.T) {
	path := filepath.Join(repoRoot(t), "verifier", "internal", "vectors", "testdata", "wycheproof", "ed25519_test.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("Wycheproof vectors: %v", err)
	}
	var file struct {
		NumberOfTests int `json:"numberOfTests"`
		TestGroups    []struct {
			PublicKey struct {
				Curve string `json:"curve"`
				PK    string `json:"pk"`
			} `json:"publicKey"`
			Tests []struct {
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
		if g.PublicKey.Curve != "edwards25519" {
			t.Fatalf("unexpected curve %q", g.PublicKey.Curve)
		}
		pub := mustHex(g.PublicKey.PK)
		k, err := ParsePublicKey(pub)
		if err != nil {
			t.Fatalf("key %x: %v", pub, err)
		}
		for _, tc := range g.Tests {
			msg, err1 := hex.DecodeString(tc.Msg)
			sig, err2 := hex.DecodeString(tc.Sig)
			if err1 != nil || err2 != nil {
				t.Fatalf("tcId %d: bad hex", tc.TcID)
			}
			got := k.Verify(msg, sig)
			if want := refVerify(pub, msg, sig); got != want {
				t.Errorf("tcId %d (%s): Verify = %v, crypto/ed25519 = %v", tc.TcID, tc.Comment, got, want)
			}
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
	if total != file.NumberOfTests || total != 151 {
		t.Fatalf("ran %d cases, file declares %d", total, file.NumberOfTests)
	}
	t.Logf("wycheproof: %d cases (%d valid accepted, %d invalid rejected)", total, valid, invalid)
}

// FuzzVerify compares ParsePublicKey and Verify with refDecode and crypto/ed25519 on
// arbitrary keys (derived from a seed so most are valid, or taken from the input),
// messages and signatures, plus mutations of a valid signature.
func FuzzVerify(f *testing.F) {
	f.Add([]byte{1}, []byte("message"), make([]byte, 64), uint8(0))
	f.Add([]byte{0xff, 0xff}, []byte{}, make([]byte, 64), uint8(2))
	f.Add([]byte("key"), []byte{}, []byte{1, 2, 3}, uint8(1))
	f.Add(make([]byte, 32), []byte("m"), allOnes(64), uint8(1))
	f.Fuzz(func(t *testing.T, seed, msg, sig []byte, mode uint8) {
		s := sha512.Sum512(seed)
		priv := ed25519.NewKeyFromSeed(s[:32])
		pub := []byte(priv.Public().(ed25519.PublicKey))
		if mode&1 == 1 { // an arbitrary key instead: 32 bytes from the input
			pub = append(make([]byte, 32), seed...)[len(seed):][:32]
		}
		k, err := ParsePublicKey(pub)
		if _, ok := refDecode(pub); (err == nil) != ok {
			t.Fatalf("ParsePublicKey(%x) err = %v, reference decodes = %v", pub, err, ok)
		}
		if err != nil {
			if refVerify(pub, msg, sig) {
				t.Fatalf("key %x refused but crypto/ed25519 verifies", pub)
			}
			return
		}
		if mode&2 == 2 && mode&1 == 0 { // a valid signature altered by the fuzzer's bytes
			valid := ed25519.Sign(priv, msg)
			for i, b := range sig {
				valid[i%64] ^= b
			}
			sig = valid
		}
		if got, want := k.Verify(msg, sig), refVerify(pub, msg, sig); got != want {
			t.Fatalf("Verify(%x, %x) = %v, crypto/ed25519 = %v (key %x)", msg, sig, got, want, pub)
		}
	})
}

// TestVerifyAllocs checks that Verify does not allocate: it runs for every token, and
// inside the WebAssembly module every allocation is work for the garbage collector.
func TestVerifyAllocs(t *testing.T) {
	pub, msg, sig := benchKey()
	k, err := ParsePublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if allocs := testing.AllocsPerRun(20, func() { k.Verify(msg, sig) }); allocs != 0 {
		t.Fatalf("Verify allocates %v times", allocs)
	}
}

package ed25519verify

import (
	"crypto/sha512"
	"encoding/binary"
	"math/big"
	mrand "math/rand/v2"
	"testing"
)

var (
	bigP = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	bigL = func() *big.Int {
		l, _ := new(big.Int).SetString("27742317777372353535851937790883648493", 10)
		return l.Add(l, new(big.Int).Lsh(big.NewInt(1), 252))
	}()
	bigD = new(big.Int).Mod(new(big.Int).Mul(big.NewInt(-121665), new(big.Int).ModInverse(big.NewInt(121666), bigP)), bigP)
)

// feToBig returns the value of f mod p (limbs may be signed and out of range).
func feToBig(f *fe) *big.Int {
	v := new(big.Int)
	var off uint
	for i := range f {
		v.Add(v, new(big.Int).Lsh(big.NewInt(int64(f[i])), off))
		off += limbBits[i]
	}
	return v.Mod(v, bigP)
}

// bigToFe converts 0 <= v < 2^255 by way of feFromBytes.
func bigToFe(v *big.Int) fe {
	var b [32]byte
	leBytes(b[:], v)
	var f fe
	feFromBytes(&f, &b)
	return f
}

// leBytes writes v as little-endian into b.
func leBytes(b []byte, v *big.Int) {
	be := v.FillBytes(make([]byte, len(b)))
	for i := range b {
		b[i] = be[len(b)-1-i]
	}
}

func leToBig(b []byte) *big.Int {
	be := make([]byte, len(b))
	for i := range b {
		be[len(b)-1-i] = b[i]
	}
	return new(big.Int).SetBytes(be)
}

// interesting returns edge values of [0, m) and random ones.
func interesting(m *big.Int, rng *mrand.Rand, random int) []*big.Int {
	var vs []*big.Int
	for _, d := range []int64{0, 1, 2, 3, 18, 19, 20} {
		vs = append(vs, big.NewInt(d), new(big.Int).Sub(m, big.NewInt(d+1)))
	}
	one := big.NewInt(1)
	for _, b := range []uint{25, 26, 51, 52, 127, 128, 230, 254} {
		x := new(big.Int).Lsh(one, b)
		vs = append(vs, new(big.Int).Mod(x, m), new(big.Int).Mod(new(big.Int).Sub(x, one), m))
	}
	for i := 0; i < random; i++ {
		b := make([]byte, 32)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		vs = append(vs, new(big.Int).Mod(new(big.Int).SetBytes(b), m))
	}
	return vs
}

func TestFieldConstants(t *testing.T) {
	d2 := new(big.Int).Mod(new(big.Int).Lsh(bigD, 1), bigP)
	i := new(big.Int).Exp(big.NewInt(2), new(big.Int).Rsh(new(big.Int).Sub(bigP, big.NewInt(1)), 2), bigP)
	for _, c := range []struct {
		name string
		f    *fe
		want *big.Int
	}{{"d", &feD, bigD}, {"2d", &feD2, d2}, {"sqrt(-1)", &feSqrtM1, i}} {
		if got := feToBig(c.f); got.Cmp(c.want) != 0 {
			t.Errorf("%s = %v, want %v", c.name, got, c.want)
		}
	}
	m1 := new(big.Int).Sub(bigP, big.NewInt(1))
	if new(big.Int).Mod(new(big.Int).Mul(i, i), bigP).Cmp(m1) != 0 {
		t.Error("sqrt(-1)^2 != -1")
	}
}

// TestFieldArithmetic checks every operation against math/big, on edge values,
// random values, and operands at the bounds feMul is used with (sums of carried
// elements).
func TestFieldArithmetic(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(1, 2))
	vals := interesting(bigP, rng, 40)
	mod := func(x *big.Int) *big.Int { return x.Mod(x, bigP) }
	for _, a := range vals {
		fa := bigToFe(a)
		var r fe
		feSquare(&r, &fa)
		if got, want := feToBig(&r), mod(new(big.Int).Mul(a, a)); got.Cmp(want) != 0 {
			t.Fatalf("square(%v) = %v, want %v", a, got, want)
		}
		feSquare2(&r, &fa)
		if got, want := feToBig(&r), mod(new(big.Int).Lsh(new(big.Int).Mul(a, a), 1)); got.Cmp(want) != 0 {
			t.Fatalf("square2(%v) = %v, want %v", a, got, want)
		}
		feInvert(&r, &fa)
		want := new(big.Int).Exp(a, new(big.Int).Sub(bigP, big.NewInt(2)), bigP)
		if got := feToBig(&r); got.Cmp(want) != 0 {
			t.Fatalf("invert(%v) = %v, want %v", a, got, want)
		}
		fePow22523(&r, &fa)
		e := new(big.Int).Rsh(new(big.Int).Sub(bigP, big.NewInt(5)), 3)
		if got, want := feToBig(&r), new(big.Int).Exp(a, e, bigP); got.Cmp(want) != 0 {
			t.Fatalf("pow22523(%v) = %v, want %v", a, got, want)
		}
		var enc [32]byte
		feToBytes(&enc, &fa)
		if got := leToBig(enc[:]); got.Cmp(a) != 0 {
			t.Fatalf("toBytes(%v) = %v", a, got)
		}
		for _, b := range vals[:30] {
			fb := bigToFe(b)
			feMul(&r, &fa, &fb)
			if got, want := feToBig(&r), mod(new(big.Int).Mul(a, b)); got.Cmp(want) != 0 {
				t.Fatalf("mul(%v, %v) = %v, want %v", a, b, got, want)
			}
			// Sums of three carried elements as operands.
			var s, u, m1, m2 fe
			feMul(&m1, &fa, &fa)
			feMul(&m2, &fb, &fb)
			feAdd(&s, &m1, &m2)
			feAdd(&s, &s, &m1)
			feSub(&u, &m2, &m1)
			feSub(&u, &u, &m1)
			feMul(&r, &s, &u)
			a2, b2 := mod(new(big.Int).Mul(a, a)), mod(new(big.Int).Mul(b, b))
			ws := new(big.Int).Add(new(big.Int).Lsh(a2, 1), b2)
			wu := new(big.Int).Sub(b2, new(big.Int).Lsh(a2, 1))
			if got, want := feToBig(&r), mod(new(big.Int).Mul(ws, wu)); got.Cmp(want) != 0 {
				t.Fatalf("mul of sums (%v, %v) = %v, want %v", a, b, got, want)
			}
			if feEqual(&fa, &fb) != (a.Cmp(b) == 0) {
				t.Fatalf("equal(%v, %v) wrong", a, b)
			}
		}
	}
}

// TestFieldBytes checks decoding of all 2^255 range values (top bit ignored, values
// >= p accepted) and canonical encoding of unreduced limbs.
func TestFieldBytes(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(3, 4))
	top := new(big.Int).Lsh(big.NewInt(1), 255)
	var cases []*big.Int
	for d := int64(0); d < 25; d++ {
		cases = append(cases, new(big.Int).Add(bigP, big.NewInt(d-3)), big.NewInt(d))
	}
	cases = append(cases, new(big.Int).Sub(top, big.NewInt(1)))
	cases = append(cases, interesting(top, rng, 50)...)
	for _, v := range cases {
		if v.Cmp(top) >= 0 {
			continue
		}
		for _, hi := range []byte{0, 0x80} {
			var b [32]byte
			leBytes(b[:], v)
			b[31] |= hi
			var f fe
			feFromBytes(&f, &b)
			want := new(big.Int).Mod(v, bigP)
			if got := feToBig(&f); got.Cmp(want) != 0 {
				t.Fatalf("fromBytes(%x) = %v, want %v", b, got, want)
			}
			var enc [32]byte
			feToBytes(&enc, &f)
			if got := leToBig(enc[:]); got.Cmp(want) != 0 {
				t.Fatalf("toBytes(fromBytes(%x)) = %v, want %v", b, got, want)
			}
		}
	}
	// Unreduced limbs: the encoding is still canonical.
	for i := 0; i < 200; i++ {
		var f fe
		for j := range f {
			f[j] = int32(rng.Uint32()) >> 5 // up to about +-2^26
		}
		var enc [32]byte
		feToBytes(&enc, &f)
		if got, want := leToBig(enc[:]), feToBig(&f); got.Cmp(want) != 0 {
			t.Fatalf("toBytes(%v) = %v, want %v", f, got, want)
		}
	}
}

func TestSqrtRatio(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(5, 6))
	vals := interesting(bigP, rng, 30)
	for _, u := range vals {
		for _, v := range vals[:20] {
			fu, fv := bigToFe(u), bigToFe(v)
			var r fe
			ok := feSqrtRatio(&r, &fu, &fv)
			var want *big.Int
			wantOK := true
			if v.Sign() == 0 {
				// standard library: r = 0, square iff u == 0
				want, wantOK = new(big.Int), u.Sign() == 0
			} else {
				q := new(big.Int).Mod(new(big.Int).Mul(u, new(big.Int).ModInverse(v, bigP)), bigP)
				want = new(big.Int).ModSqrt(q, bigP)
				if want == nil {
					wantOK = false
				} else if want.Bit(0) == 1 {
					want.Sub(bigP, want)
				}
			}
			if ok != wantOK {
				t.Fatalf("sqrtRatio(%v, %v) ok = %v, want %v", u, v, ok, wantOK)
			}
			if ok {
				if got := feToBig(&r); got.Cmp(want) != 0 {
					t.Fatalf("sqrtRatio(%v, %v) = %v, want %v", u, v, got, want)
				}
			}
		}
	}
}

func TestScalarReduce(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(7, 8))
	var inputs [][]byte
	for _, v := range interesting(new(big.Int).Lsh(big.NewInt(1), 512), rng, 300) {
		b := make([]byte, 64)
		leBytes(b, v)
		inputs = append(inputs, b)
	}
	for _, m := range []*big.Int{bigL, new(big.Int).Lsh(bigL, 1), new(big.Int).Lsh(bigL, 259)} {
		for d := int64(-2); d <= 2; d++ {
			b := make([]byte, 64)
			leBytes(b, new(big.Int).Add(m, big.NewInt(d)))
			inputs = append(inputs, b)
		}
	}
	for i := 0; i < 200; i++ {
		h := sha512.Sum512(binary.LittleEndian.AppendUint64(nil, uint64(i)))
		inputs = append(inputs, h[:])
	}
	for _, in := range inputs {
		var out [32]byte
		scReduce(&out, in)
		want := new(big.Int).Mod(leToBig(in), bigL)
		if got := leToBig(out[:]); got.Cmp(want) != 0 {
			t.Fatalf("reduce(%x) = %v, want %v", in, got, want)
		}
	}
}

func TestScalarCanonical(t *testing.T) {
	for _, c := range []struct {
		name string
		v    *big.Int
		want bool
	}{
		{"0", big.NewInt(0), true},
		{"L-1", new(big.Int).Sub(bigL, big.NewInt(1)), true},
		{"L", bigL, false},
		{"L+1", new(big.Int).Add(bigL, big.NewInt(1)), false},
		{"2^252", new(big.Int).Lsh(big.NewInt(1), 252), true},
		{"2^253", new(big.Int).Lsh(big.NewInt(1), 253), false},
		{"2^256-1", new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1)), false},
	} {
		b := make([]byte, 32)
		leBytes(b, c.v)
		if got := scIsCanonical(b); got != c.want {
			t.Errorf("%s: canonical = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestWNAF(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(9, 10))
	for _, w := range []uint{keyWindow, baseWindow, 5} {
		for _, v := range interesting(bigL, rng, 200) {
			var s [32]byte
			leBytes(s[:], v)
			var naf [256]int8
			wnaf(&naf, &s, w)
			sum := new(big.Int)
			last := -1000
			for i := 255; i >= 0; i-- {
				sum.Lsh(sum, 1)
				d := int(naf[i])
				if d == 0 {
					continue
				}
				sum.Add(sum, big.NewInt(int64(d)))
				if d%2 == 0 || d >= 1<<(w-1) || d <= -(1<<(w-1)) {
					t.Fatalf("w=%d: digit %d at %d", w, d, i)
				}
				if last-i < int(w) && last != -1000 {
					t.Fatalf("w=%d: digits at %d and %d closer than w", w, last, i)
				}
				last = i
			}
			if sum.Cmp(v) != 0 {
				t.Fatalf("w=%d: naf of %v sums to %v", w, v, sum)
			}
		}
	}
}

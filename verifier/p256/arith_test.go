package p256

import (
	"crypto/elliptic"
	"math/big"
	"math/rand/v2"
	"testing"
)

// Unit tests of the field and scalar arithmetic against math/big.

var (
	bigP = elliptic.P256().Params().P
	bigN = elliptic.P256().Params().N
)

func feToBig(x *element) *big.Int {
	var b [32]byte
	feBytes(b[:], x)
	return new(big.Int).SetBytes(b[:])
}

func bigToFe(t *testing.T, v *big.Int) element {
	t.Helper()
	var b [32]byte
	v.FillBytes(b[:])
	var e element
	if !feFromBytes(&e, b[:]) {
		t.Fatalf("%x is not < p", v)
	}
	return e
}

func scToBig(x *scalar) *big.Int {
	var b [32]byte
	for i := 0; i < 8; i++ {
		o := 28 - 4*i
		b[o], b[o+1], b[o+2], b[o+3] = byte(x[i]>>24), byte(x[i]>>16), byte(x[i]>>8), byte(x[i])
	}
	return new(big.Int).SetBytes(b[:])
}

func bigToSc(v *big.Int) scalar {
	var b [32]byte
	v.FillBytes(b[:])
	var s scalar
	loadBE(&s, b[:])
	return s
}

// interesting returns edge values below m (0, 1, 2, m-1, m-2, powers of two, words of
// all ones) and random ones, the edge values first.
func interesting(m *big.Int, rng *rand.Rand, random int) []*big.Int {
	var vs []*big.Int
	add := func(v *big.Int) {
		if v.Sign() >= 0 && v.Cmp(m) < 0 {
			vs = append(vs, v)
		}
	}
	for _, k := range []int64{0, 1, 2, 3} {
		add(big.NewInt(k))
		add(new(big.Int).Sub(m, big.NewInt(k+1)))
	}
	for _, sh := range []uint{31, 32, 63, 64, 95, 96, 127, 128, 191, 192, 223, 224, 255} {
		one := new(big.Int).Lsh(big.NewInt(1), sh)
		add(one)
		add(new(big.Int).Sub(one, big.NewInt(1)))
	}
	for i := 0; i < random; i++ {
		var b [32]byte
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		if i%4 == 0 { // runs of 0xff and 0x00 stress carries
			for j := range b {
				if rng.IntN(2) == 0 {
					b[j] = 0xff
				} else if rng.IntN(4) == 0 {
					b[j] = 0
				}
			}
		}
		add(new(big.Int).Mod(new(big.Int).SetBytes(b[:]), m))
	}
	return vs
}

func TestFieldArithmetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vs := interesting(bigP, rng, 60)
	for _, a := range vs {
		for _, b := range vs {
			x, y := bigToFe(t, a), bigToFe(t, b)
			var z element
			check := func(op string, want *big.Int) {
				t.Helper()
				want.Mod(want, bigP)
				if got := feToBig(&z); got.Cmp(want) != 0 {
					t.Fatalf("%s(%x, %x) = %x, want %x", op, a, b, got, want)
				}
			}
			feMul(&z, &x, &y)
			check("mul", new(big.Int).Mul(a, b))
			feAdd(&z, &x, &y)
			check("add", new(big.Int).Add(a, b))
			feSub(&z, &x, &y)
			check("sub", new(big.Int).Sub(a, b))
		}
		x := bigToFe(t, a)
		var z element
		feSqr(&z, &x)
		if got, want := feToBig(&z), new(big.Int).Mod(new(big.Int).Mul(a, a), bigP); got.Cmp(want) != 0 {
			t.Fatalf("sqr(%x) = %x, want %x", a, got, want)
		}
		feNeg(&z, &x)
		if got, want := feToBig(&z), new(big.Int).Mod(new(big.Int).Neg(a), bigP); got.Cmp(want) != 0 {
			t.Fatalf("neg(%x) = %x, want %x", a, got, want)
		}
		feInv(&z, &x)
		want := new(big.Int).ModInverse(a, bigP)
		if want == nil {
			want = new(big.Int) // inverse of 0 is 0 by convention
		}
		if got := feToBig(&z); got.Cmp(want) != 0 {
			t.Fatalf("inv(%x) = %x, want %x", a, got, want)
		}
	}
}

func TestFieldFromBytesRange(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    *big.Int
		ok   bool
	}{
		{"zero", big.NewInt(0), true},
		{"p-1", new(big.Int).Sub(bigP, big.NewInt(1)), true},
		{"p", bigP, false},
		{"p+1", new(big.Int).Add(bigP, big.NewInt(1)), false},
		{"2^256-1", new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b [32]byte
			tc.v.FillBytes(b[:])
			var e element
			if got := feFromBytes(&e, b[:]); got != tc.ok {
				t.Fatalf("feFromBytes = %v, want %v", got, tc.ok)
			}
		})
	}
}

func TestScalarArithmetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	vs := interesting(bigN, rng, 60)
	for _, a := range vs {
		x := bigToSc(a)
		for _, b := range vs {
			y := bigToSc(b)
			var z scalar
			scalarMul(&z, &x, &y)
			want := new(big.Int).Mod(new(big.Int).Mul(a, b), bigN)
			if got := scToBig(&z); got.Cmp(want) != 0 {
				t.Fatalf("mul(%x, %x) = %x, want %x", a, b, got, want)
			}
		}
		if a.Sign() == 0 {
			continue
		}
		var z scalar
		scalarInv(&z, &x)
		if got, want := scToBig(&z), new(big.Int).ModInverse(a, bigN); got.Cmp(want) != 0 {
			t.Fatalf("inv(%x) = %x, want %x", a, got, want)
		}
	}
}

func TestScalarConstants(t *testing.T) {
	if got := scToBig(&orderN); got.Cmp(bigN) != 0 {
		t.Fatalf("orderN = %x", got)
	}
	if got := feToBig(&fieldP); got.Cmp(bigP) != 0 {
		t.Fatalf("fieldP = %x", got)
	}
	// orderN0 * n = -1 mod 2^32
	if v := uint32(orderN0) * orderN[0]; v != 0xffffffff {
		t.Fatalf("orderN0 * n mod 2^32 = %x, want ffffffff", v)
	}
	rr := new(big.Int).Mod(new(big.Int).Lsh(big.NewInt(1), 512), bigN)
	if got := scToBig(&orderRR); got.Cmp(rr) != 0 {
		t.Fatalf("orderRR = %x, want %x", got, rr)
	}
	params := elliptic.P256().Params()
	if got := feToBig(&curveB); got.Cmp(params.B) != 0 {
		t.Fatalf("curveB = %x", got)
	}
	if feToBig(&generator.x).Cmp(params.Gx) != 0 || feToBig(&generator.y).Cmp(params.Gy) != 0 {
		t.Fatal("generator differs from crypto/elliptic's")
	}
}

func TestScalarFromDigest(t *testing.T) {
	ones := make([]byte, 64)
	for i := range ones {
		ones[i] = 0xff
	}
	for _, tc := range []struct {
		name   string
		digest []byte
	}{
		{"empty", nil},
		{"one byte", []byte{7}},
		{"20 bytes", ones[:20]},
		{"32 bytes all ones", ones[:32]},
		{"n exactly", bigN.Bytes()},
		{"48 bytes", ones[:48]},
		{"64 bytes", append([]byte{0x12, 0x34}, ones[:62]...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var z scalar
			scalarFromDigest(&z, tc.digest)
			d := tc.digest
			if len(d) > 32 {
				d = d[:32]
			}
			want := new(big.Int).Mod(new(big.Int).SetBytes(d), bigN)
			if got := scToBig(&z); got.Cmp(want) != 0 {
				t.Fatalf("got %x, want %x", got, want)
			}
		})
	}
}

// TestTables checks every precomputed entry against crypto/elliptic.
func TestTables(t *testing.T) {
	curve := elliptic.P256()
	params := curve.Params()
	check := func(name string, table []affinePoint, bx, by *big.Int, w uint) {
		per := 1 << (w - 2)
		if len(table) != pieceCount*per {
			t.Fatalf("%s: %d entries", name, len(table))
		}
		for i := 0; i < pieceCount; i++ {
			for j := 0; j < per; j++ {
				k := new(big.Int).Lsh(big.NewInt(int64(2*j+1)), uint(pieceBits*i))
				wx, wy := curve.ScalarMult(bx, by, k.Bytes())
				e := &table[i*per+j]
				if feToBig(&e.x).Cmp(wx) != 0 || feToBig(&e.y).Cmp(wy) != 0 {
					t.Fatalf("%s: entry %d of piece %d wrong", name, j, i)
				}
			}
		}
	}
	check("G", baseTable, params.Gx, params.Gy, windowG)

	qx, qy := curve.ScalarBaseMult([]byte{0x5e, 0xed})
	x, y := make([]byte, 32), make([]byte, 32)
	qx.FillBytes(x)
	qy.FillBytes(y)
	k, err := ParsePublicKey(x, y)
	if err != nil {
		t.Fatal(err)
	}
	if k.table != nil {
		t.Fatal("ParsePublicKey built the table; it is built on the first Verify")
	}
	sig := make([]byte, SignatureSize) // r = s = 1: in range, so Verify reaches the table
	sig[31], sig[63] = 1, 1
	k.Verify(make([]byte, 32), sig)
	check("Q", k.table, qx, qy, windowQ)
}

func TestRecode(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	vals := []uint64{0, 1, 2, 3, 127, 128, 255, 1<<63 - 1, 1 << 63, ^uint64(0), ^uint64(0) - 1, 0xaaaaaaaaaaaaaaaa, 0x5555555555555555}
	for i := 0; i < 2000; i++ {
		vals = append(vals, rng.Uint64())
	}
	const pieceMask = ^uint64(0) >> (64 - pieceBits) // recode only ever sees pieceBits-bit values
	for _, w := range []uint{windowG, windowQ, 2, 5} {
		for _, v := range vals {
			v &= pieceMask
			var d [digitCount]int8
			recode(&d, v, w)
			sum := new(big.Int)
			last := -100
			for i := digitCount - 1; i >= 0; i-- {
				sum.Lsh(sum, 1)
				sum.Add(sum, big.NewInt(int64(d[i])))
				if d[i] != 0 {
					if v := int(d[i]); v%2 == 0 || v >= 1<<(w-1) || v <= -(1<<(w-1)) {
						t.Fatalf("w=%d v=%x: digit %d = %d out of range", w, v, i, d[i])
					}
					if last-i < int(w) && last != -100 {
						t.Fatalf("w=%d v=%x: non-zero digits %d and %d too close", w, v, last, i)
					}
					last = i
				}
			}
			if !sum.IsUint64() || sum.Uint64() != v {
				t.Fatalf("w=%d: recode(%x) sums to %x", w, v, sum)
			}
		}
	}
}

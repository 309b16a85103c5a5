package ed25519verify

//go:generate go run gen_field.go -o field_mul.go
//go:generate go run gen_table.go -o table_base.go

// fe is an element of GF(p), p = 2^255 - 19, as ten signed limbs in radix 2^25.5
// (ref10's representation): limb i has weight 2^ceil(25.5*i), so even limbs nominally
// hold 26 bits and odd limbs 25. Limbs are signed and not unique: an element is
// "carried" after feMul/feSquare/feCarry (|limb| about 2^25 at most), and sums or
// differences of two or three carried elements may be fed to feMul directly (ref10's
// bounds, which the point formulas in point.go follow).
type fe [10]int32

// limbBits is the nominal width of each limb.
var limbBits = [10]uint{26, 25, 26, 25, 26, 25, 26, 25, 26, 25}

var (
	feOne = fe{1}
	// feD is the curve constant d = -121665/121666.
	feD = fe{-10913610, 13857413, -15372611, 6949391, 114729, -8787816, -6275908, -3247719, -18696448, -12055116}
	// feD2 is 2*d.
	feD2 = fe{-21827239, -5839606, -30745221, 13898782, 229458, 15978800, -12551817, -6495438, 29715968, 9444199}
	// feSqrtM1 is a square root of -1: 2^((p-1)/4).
	feSqrtM1 = fe{-32595792, -7943725, 9377950, 3500415, 12389472, -272473, -25146209, -2005654, 326686, 11406482}
)

func feAdd(h, f, g *fe) {
	for i := range h {
		h[i] = f[i] + g[i]
	}
}

func feSub(h, f, g *fe) {
	for i := range h {
		h[i] = f[i] - g[i]
	}
}

func feNeg(h, f *fe) {
	for i := range h {
		h[i] = -f[i]
	}
}

// feCarry reduces the limbs of f to their carried range.
func feCarry(h, f *fe) {
	var t [10]int64
	for i := range t {
		t[i] = int64(f[i])
	}
	for _, i := range [...]int{0, 4, 1, 5, 2, 6, 3, 7, 4, 8, 9, 0} {
		b := limbBits[i]
		c := (t[i] + 1<<(b-1)) >> b
		t[i] -= c << b
		if i == 9 {
			t[0] += 19 * c
		} else {
			t[i+1] += c
		}
	}
	for i := range t {
		h[i] = int32(t[i])
	}
}

// feFromBytes sets h to the little-endian value of b[0:32] with the top bit (bit 255)
// ignored. Values from p to 2^255-1 are accepted (they stand for value - p), exactly
// as the standard library's field.Element.SetBytes does.
func feFromBytes(h *fe, b *[32]byte) {
	var w [5]uint64
	for i := 0; i < 32; i++ {
		w[i/8] |= uint64(b[i]) << (8 * uint(i%8))
	}
	w[3] &^= 1 << 63
	var off uint
	for i := range h {
		q, r := off/64, off%64
		v := w[q] >> r
		if r+limbBits[i] > 64 {
			v |= w[q+1] << (64 - r)
		}
		h[i] = int32(v & (1<<limbBits[i] - 1))
		off += limbBits[i]
	}
}

// feToBytes writes the canonical (fully reduced) little-endian encoding of f.
func feToBytes(b *[32]byte, f *fe) {
	var h [10]int64
	var c fe
	feCarry(&c, f)
	for i := range h {
		h[i] = int64(c[i])
	}
	// q = floor(h / p) in {0, 1} (ref10's fe_tobytes): then h - q*p is canonical.
	q := (19*h[9] + 1<<24) >> 25
	for i := range h {
		q = (h[i] + q) >> limbBits[i]
	}
	h[0] += 19 * q
	for i := 0; i < 9; i++ {
		carry := h[i] >> limbBits[i]
		h[i+1] += carry
		h[i] -= carry << limbBits[i]
	}
	h[9] &= 1<<25 - 1
	var acc uint64
	var n uint
	k := 0
	for i := range h {
		acc |= uint64(h[i]) << n
		n += limbBits[i]
		for n >= 8 {
			b[k] = byte(acc)
			k++
			acc >>= 8
			n -= 8
		}
	}
	b[31] = byte(acc) // the last 7 bits
}

// feEqual reports whether f and g are the same element.
func feEqual(f, g *fe) bool {
	var a, b [32]byte
	feToBytes(&a, f)
	feToBytes(&b, g)
	return a == b
}

// feIsNegative reports whether f's canonical encoding is odd (RFC 8032's sign of x).
func feIsNegative(f *fe) bool {
	var a [32]byte
	feToBytes(&a, f)
	return a[0]&1 == 1
}

// feSquareN sets h = f^(2^n), n >= 1.
func feSquareN(h, f *fe, n int) {
	feSquare(h, f)
	for i := 1; i < n; i++ {
		feSquare(h, h)
	}
}

// pow2250 returns z^(2^250-1) and z^11, the common prefix of ref10's addition chains
// for inversion and for (p-5)/8.
func pow2250(out, z11 *fe, z *fe) {
	var z2, z9, t, z2_5_0, z2_10_0, z2_20_0, z2_50_0, z2_100_0 fe
	feSquare(&z2, z)          // 2
	feSquareN(&t, &z2, 2)     // 8
	feMul(&z9, &t, z)         // 9
	feMul(z11, &z9, &z2)      // 11
	feSquare(&t, z11)         // 22
	feMul(&z2_5_0, &t, &z9)   // 2^5 - 1
	feSquareN(&t, &z2_5_0, 5) // 2^10 - 2^5
	feMul(&z2_10_0, &t, &z2_5_0)
	feSquareN(&t, &z2_10_0, 10)
	feMul(&z2_20_0, &t, &z2_10_0)
	feSquareN(&t, &z2_20_0, 20)
	feMul(&t, &t, &z2_20_0) // 2^40 - 1
	feSquareN(&t, &t, 10)
	feMul(&z2_50_0, &t, &z2_10_0)
	feSquareN(&t, &z2_50_0, 50)
	feMul(&z2_100_0, &t, &z2_50_0)
	feSquareN(&t, &z2_100_0, 100)
	feMul(&t, &t, &z2_100_0) // 2^200 - 1
	feSquareN(&t, &t, 50)
	feMul(out, &t, &z2_50_0) // 2^250 - 1
}

// feInvert sets h = 1/z = z^(p-2) (0 for z = 0).
func feInvert(h, z *fe) {
	var t, z11 fe
	pow2250(&t, &z11, z)
	feSquareN(&t, &t, 5) // 2^255 - 2^5
	feMul(h, &t, &z11)   // 2^255 - 21 = p - 2
}

// fePow22523 sets h = z^((p-5)/8) = z^(2^252-3).
func fePow22523(h, z *fe) {
	var t, z11 fe
	pow2250(&t, &z11, z)
	feSquareN(&t, &t, 2) // 2^252 - 4
	feMul(h, &t, z)
}

// feSqrtRatio sets r to the non-negative square root of u/v and reports true when u/v
// is a square (u = 0 included); otherwise it reports false. It follows
// field.Element.SqrtRatio of the standard library (RFC 8032's decoding method).
func feSqrtRatio(r, u, v *fe) bool {
	var v2, v3, v7, uv3, uv7, t, check, uNeg, uNegI fe
	feSquare(&v2, v)
	feMul(&v3, &v2, v)
	feSquare(&t, &v2)
	feMul(&v7, &t, &v3)
	feMul(&uv3, u, &v3)
	feMul(&uv7, u, &v7)
	fePow22523(&t, &uv7)
	feMul(r, &uv3, &t) // (u v^3) (u v^7)^((p-5)/8)

	feSquare(&t, r)
	feMul(&check, v, &t)
	feNeg(&uNeg, u)
	feMul(&uNegI, &uNeg, &feSqrtM1)
	correct := feEqual(&check, u)
	flipped := feEqual(&check, &uNeg)
	flippedI := feEqual(&check, &uNegI)
	if flipped || flippedI {
		feMul(r, r, &feSqrtM1)
	}
	if feIsNegative(r) {
		feNeg(r, r)
	}
	return correct || flipped
}

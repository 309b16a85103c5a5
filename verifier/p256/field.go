package p256

// Arithmetic modulo the P-256 field prime
//
//	p = 2^256 - 2^224 + 2^192 + 2^96 - 1.
//
// Why this representation: the module runs as WebAssembly, which has a 64x64->64 bit
// multiply but no 64x64->128 one, so math/bits.Mul64 costs four multiplies and a pile
// of carries. Eight 32-bit limbs multiply into 64-bit products with one instruction
// each, and p's special form (a "Solinas" prime, with every power of two a multiple of
// 32) reduces a 512-bit product with a few signed word additions, no multiplies.
//
// Every element is kept fully reduced (0 <= v < p), so equality is limb equality.
// Nothing here is constant-time: verification handles only public data (keys,
// signatures, digests), so branching on values leaks nothing secret.

// element is a field element, little-endian 32-bit limbs, always < p.
type element [8]uint32

// fieldP is p in limbs.
var fieldP = element{0xffffffff, 0xffffffff, 0xffffffff, 0, 0, 0, 1, 0xffffffff}

// feFromBytes sets z to the 32-byte big-endian value b and reports whether it is < p.
func feFromBytes(z *element, b []byte) bool {
	if len(b) != 32 {
		return false
	}
	for i := 0; i < 8; i++ {
		o := 28 - 4*i
		z[i] = uint32(b[o])<<24 | uint32(b[o+1])<<16 | uint32(b[o+2])<<8 | uint32(b[o+3])
	}
	return !geq(z, &fieldP)
}

// feBytes writes x as 32 bytes big-endian into b.
func feBytes(b []byte, x *element) {
	_ = b[31]
	for i := 0; i < 8; i++ {
		o := 28 - 4*i
		b[o] = byte(x[i] >> 24)
		b[o+1] = byte(x[i] >> 16)
		b[o+2] = byte(x[i] >> 8)
		b[o+3] = byte(x[i])
	}
}

// geq reports whether a >= b as 256-bit integers (variable time).
func geq(a, b *element) bool {
	for i := 7; i >= 0; i-- {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return true
}

func (x *element) isZero() bool {
	return x[0]|x[1]|x[2]|x[3]|x[4]|x[5]|x[6]|x[7] == 0
}

// subP sets z = z - p, ignoring the final borrow; callers know z >= p (or that the
// 2^256 carry out of an addition cancels the borrow).
func subP(z *element) {
	var b uint64
	for i := 0; i < 8; i++ {
		v := uint64(z[i]) - uint64(fieldP[i]) - b
		z[i] = uint32(v)
		b = (v >> 32) & 1
	}
}

// feAdd sets z = x + y mod p.
func feAdd(z, x, y *element) {
	var c uint64
	for i := 0; i < 8; i++ {
		v := uint64(x[i]) + uint64(y[i]) + c
		z[i] = uint32(v)
		c = v >> 32
	}
	if c != 0 || geq(z, &fieldP) {
		subP(z)
	}
}

// feSub sets z = x - y mod p.
func feSub(z, x, y *element) {
	var b uint64
	for i := 0; i < 8; i++ {
		v := uint64(x[i]) - uint64(y[i]) - b
		z[i] = uint32(v)
		b = (v >> 32) & 1
	}
	if b != 0 {
		var c uint64
		for i := 0; i < 8; i++ {
			v := uint64(z[i]) + uint64(fieldP[i]) + c
			z[i] = uint32(v)
			c = v >> 32
		}
	}
}

// feNeg sets z = -x mod p.
func feNeg(z, x *element) {
	var zero element
	feSub(z, &zero, x)
}

//go:generate go run gen_field.go

// feMul and feSqr are generated (field_mul.go): straight-line schoolbook products
// whose sixteen 64-bit column sums go to reduceColumns.

// reduceColumns sets z = sum(c_k * 2^(32k)) mod p, for column sums 0 <= c_k < 2^37,
// using the NIST fast reduction for P-256 (FIPS 186-4, D.2.3): for a product written
// in 32-bit words, the residue is a sum of nine 256-bit terms made of those words with
// small signed coefficients. The formula is linear, so it works just as well on
// column sums that have not been carried into words yet, and the carries are done
// once, after it.
func reduceColumns(z *element, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15 int64) {
	w0 := c0 + c8 + c9 - c11 - c12 - c13 - c14
	w1 := c1 + c9 + c10 - c12 - c13 - c14 - c15
	w2 := c2 + c10 + c11 - c13 - c14 - c15
	w3 := c3 + 2*c11 + 2*c12 + c13 - c15 - c8 - c9
	w4 := c4 + 2*c12 + 2*c13 + c14 - c9 - c10
	w5 := c5 + 2*c13 + 2*c14 + c15 - c10 - c11
	w6 := c6 + 3*c14 + 2*c15 + c13 - c8 - c9
	w7 := c7 + 3*c15 + c8 - c10 - c11 - c12 - c13
	settle(z, w0, w1, w2, w3, w4, w5, w6, w7)
}

// settle sets z = sum(w_i * 2^(32i)) mod p for signed word sums |w_i| < 2^62: it
// carries into 32-bit words, folds what overflows 2^256 back in, and subtracts p if
// needed, so z ends fully reduced.
func settle(z *element, w0, w1, w2, w3, w4, w5, w6, w7 int64) {
	for {
		// Carry into 32-bit words; >> on int64 is an arithmetic shift (floor).
		w1 += w0 >> 32
		w0 &= 0xffffffff
		w2 += w1 >> 32
		w1 &= 0xffffffff
		w3 += w2 >> 32
		w2 &= 0xffffffff
		w4 += w3 >> 32
		w3 &= 0xffffffff
		w5 += w4 >> 32
		w4 &= 0xffffffff
		w6 += w5 >> 32
		w5 &= 0xffffffff
		w7 += w6 >> 32
		w6 &= 0xffffffff
		carry := w7 >> 32
		w7 &= 0xffffffff
		if carry == 0 {
			break
		}
		// carry * 2^256 = carry * (2^224 - 2^192 - 2^96 + 1) mod p. This converges in
		// at most two more rounds (the value shrinks to within 2^256 of zero, then in).
		w0 += carry
		w3 -= carry
		w6 -= carry
		w7 += carry
	}
	z[0], z[1], z[2], z[3] = uint32(w0), uint32(w1), uint32(w2), uint32(w3)
	z[4], z[5], z[6], z[7] = uint32(w4), uint32(w5), uint32(w6), uint32(w7)
	if geq(z, &fieldP) {
		subP(z)
	}
}

// feComb2 sets z = ka*a + kb*b mod p, for small constants (|k| < 2^20).
//
// The point formulas are full of short linear combinations (3*alpha, r^2 - J - 2V,
// ...). Done as chains of feAdd/feSub, each step carries and reduces; done here, the
// limbs are combined as signed 64-bit sums and carried and reduced once.
func feComb2(z, a *element, ka int64, b *element, kb int64) {
	settle(z,
		ka*int64(a[0])+kb*int64(b[0]), ka*int64(a[1])+kb*int64(b[1]),
		ka*int64(a[2])+kb*int64(b[2]), ka*int64(a[3])+kb*int64(b[3]),
		ka*int64(a[4])+kb*int64(b[4]), ka*int64(a[5])+kb*int64(b[5]),
		ka*int64(a[6])+kb*int64(b[6]), ka*int64(a[7])+kb*int64(b[7]))
}

// feComb3 sets z = ka*a + kb*b + kc*c mod p, for small constants (|k| < 2^20).
func feComb3(z, a *element, ka int64, b *element, kb int64, c *element, kc int64) {
	settle(z,
		ka*int64(a[0])+kb*int64(b[0])+kc*int64(c[0]), ka*int64(a[1])+kb*int64(b[1])+kc*int64(c[1]),
		ka*int64(a[2])+kb*int64(b[2])+kc*int64(c[2]), ka*int64(a[3])+kb*int64(b[3])+kc*int64(c[3]),
		ka*int64(a[4])+kb*int64(b[4])+kc*int64(c[4]), ka*int64(a[5])+kb*int64(b[5])+kc*int64(c[5]),
		ka*int64(a[6])+kb*int64(b[6])+kc*int64(c[6]), ka*int64(a[7])+kb*int64(b[7])+kc*int64(c[7]))
}

// feInv sets z = 1/x mod p (0 for x = 0) by Fermat's little theorem, x^(p-2), with an
// addition chain for p-2. Used once per public key and once per table, never per
// signature.
func feInv(z, x *element) {
	// p-2 = 2^256 - 2^224 + 2^192 + 2^96 - 3; in binary, from the top:
	// 32 ones, 31 zeros, a one, 96 zeros, 94 ones, a zero, a one.
	var x2, x4, x8, x16, x32, t element
	feSqr(&t, x)
	feMul(&x2, &t, x) // 2 ones
	sqrN(&t, &x2, 2)
	feMul(&x4, &t, &x2) // 4 ones
	sqrN(&t, &x4, 4)
	feMul(&x8, &t, &x4) // 8 ones
	sqrN(&t, &x8, 8)
	feMul(&x16, &t, &x8) // 16 ones
	sqrN(&t, &x16, 16)
	feMul(&x32, &t, &x16) // 32 ones

	// 32 ones, then 31 zeros and a one.
	sqrN(&t, &x32, 32)
	feMul(&t, &t, x)
	// 96 zeros, then 32 ones.
	sqrN(&t, &t, 96+32)
	feMul(&t, &t, &x32)
	// 32 ones.
	sqrN(&t, &t, 32)
	feMul(&t, &t, &x32)
	// 16 ones, 8 ones, 4 ones, 2 ones: 30 ones.
	sqrN(&t, &t, 16)
	feMul(&t, &t, &x16)
	sqrN(&t, &t, 8)
	feMul(&t, &t, &x8)
	sqrN(&t, &t, 4)
	feMul(&t, &t, &x4)
	sqrN(&t, &t, 2)
	feMul(&t, &t, &x2)
	// then "01".
	sqrN(&t, &t, 2)
	feMul(z, &t, x)
}

// sqrN sets z = x^(2^n).
func sqrN(z, x *element, n int) {
	*z = *x
	for i := 0; i < n; i++ {
		feSqr(z, z)
	}
}

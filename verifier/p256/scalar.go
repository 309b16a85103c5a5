package p256

import "math/bits"

// Arithmetic modulo the group order
//
//	n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551.
//
// A verification needs one inversion and two multiplications mod n, a few percent of
// its cost, so this file favours plain code over speed: Montgomery multiplication with
// 32-bit limbs (for the same WebAssembly reasons as the field) and a variable-time
// binary extended Euclid for the inverse. Variable time is fine: s, r and the digest
// are public.

// scalar is an integer mod n, little-endian 32-bit limbs, always < n.
type scalar [8]uint32

var orderN = scalar{0xfc632551, 0xf3b9cac2, 0xa7179e84, 0xbce6faad, 0xffffffff, 0xffffffff, 0, 0xffffffff}

// orderN0 is -n^-1 mod 2^32, the Montgomery constant for 32-bit limbs.
const orderN0 = 0xee00bc4f

// orderRR is 2^512 mod n: montMul(x, orderRR) converts x into Montgomery form.
var orderRR = scalar{0xbe79eea2, 0x83244c95, 0x49bd6fa6, 0x4699799c, 0x2b6bec59, 0x2845b239, 0xf3d95620, 0x66e12d94}

// scalarFromBytes sets z to the 32-byte big-endian b and reports whether 0 < z < n, the
// range ECDSA requires of r and s.
func scalarFromBytes(z *scalar, b []byte) bool {
	loadBE(z, b)
	return !z.isZero() && !scalarGeq(z, &orderN)
}

// scalarFromDigest sets z to the digest as an integer mod n, exactly as FIPS 186-5
// and crypto/ecdsa do: a digest longer than 32 bytes is cut to its leftmost 32 bytes
// (n has 256 bits, so no bit shift is needed), a shorter one is read as a big-endian
// integer, and the result is reduced mod n (2^256 < 2n, so one subtraction suffices).
func scalarFromDigest(z *scalar, digest []byte) {
	var b [32]byte
	if len(digest) > 32 {
		digest = digest[:32]
	}
	copy(b[32-len(digest):], digest)
	loadBE(z, b[:])
	if scalarGeq(z, &orderN) {
		scalarSubN(z)
	}
}

func loadBE(z *scalar, b []byte) {
	_ = b[31]
	for i := 0; i < 8; i++ {
		o := 28 - 4*i
		z[i] = uint32(b[o])<<24 | uint32(b[o+1])<<16 | uint32(b[o+2])<<8 | uint32(b[o+3])
	}
}

func (x *scalar) isZero() bool {
	return x[0]|x[1]|x[2]|x[3]|x[4]|x[5]|x[6]|x[7] == 0
}

func scalarGeq(a, b *scalar) bool {
	for i := 7; i >= 0; i-- {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return true
}

// scalarSubN sets z = z - n, ignoring the final borrow.
func scalarSubN(z *scalar) {
	var b uint64
	for i := 0; i < 8; i++ {
		v := uint64(z[i]) - uint64(orderN[i]) - b
		z[i] = uint32(v)
		b = (v >> 32) & 1
	}
}

// montMul sets z = x * y / 2^256 mod n (CIOS Montgomery multiplication).
func montMul(z, x, y *scalar) {
	var t [10]uint64 // t[0..8] hold 32-bit words, t[9] the top carry
	for i := 0; i < 8; i++ {
		var c uint64
		xi := uint64(x[i])
		for j := 0; j < 8; j++ {
			v := t[j] + xi*uint64(y[j]) + c
			t[j] = v & 0xffffffff
			c = v >> 32
		}
		v := t[8] + c
		t[8] = v & 0xffffffff
		t[9] = v >> 32

		m := uint64(uint32(t[0]) * orderN0)
		c = (t[0] + m*uint64(orderN[0])) >> 32
		for j := 1; j < 8; j++ {
			v := t[j] + m*uint64(orderN[j]) + c
			t[j-1] = v & 0xffffffff
			c = v >> 32
		}
		v = t[8] + c
		t[7] = v & 0xffffffff
		t[8] = t[9] + v>>32
	}
	for i := 0; i < 8; i++ {
		z[i] = uint32(t[i])
	}
	if t[8] != 0 || scalarGeq(z, &orderN) {
		scalarSubN(z)
	}
}

// scalarMul sets z = x * y mod n.
func scalarMul(z, x, y *scalar) {
	var t scalar
	montMul(&t, x, y)        // x*y/R
	montMul(z, &t, &orderRR) // x*y
}

// scalarInv sets z = 1/x mod n for 0 < x < n, by the binary extended Euclidean
// algorithm (variable time; n is prime, so the inverse exists). It works on 64-bit
// limbs: shifts and subtractions, no multiplies.
func scalarInv(z, x *scalar) {
	if x.isZero() { // no inverse; also, the loop below would never end
		*z = scalar{}
		return
	}
	n := to64(&orderN)
	u, v := to64(x), n
	x1, x2 := [4]uint64{1}, [4]uint64{}
	// Invariants: x1*x = u and x2*x = v (mod n); gcd(u, v) = 1.
	for !isOne(&u) && !isOne(&v) {
		for u[0]&1 == 0 {
			shr1(&u, 0)
			halveMod(&x1, &n)
		}
		for v[0]&1 == 0 {
			shr1(&v, 0)
			halveMod(&x2, &n)
		}
		if geq64(&u, &v) {
			sub64(&u, &v)
			subMod64(&x1, &x2, &n)
		} else {
			sub64(&v, &u)
			subMod64(&x2, &x1, &n)
		}
	}
	r := x2
	if isOne(&u) {
		r = x1
	}
	for i := 0; i < 4; i++ {
		z[2*i] = uint32(r[i])
		z[2*i+1] = uint32(r[i] >> 32)
	}
}

func to64(x *scalar) [4]uint64 {
	var r [4]uint64
	for i := 0; i < 4; i++ {
		r[i] = uint64(x[2*i]) | uint64(x[2*i+1])<<32
	}
	return r
}

func isOne(a *[4]uint64) bool { return a[0] == 1 && a[1]|a[2]|a[3] == 0 }

func geq64(a, b *[4]uint64) bool {
	for i := 3; i >= 0; i-- {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return true
}

// shr1 shifts a right by one bit, shifting top in as the new top bit.
func shr1(a *[4]uint64, top uint64) {
	a[0] = a[0]>>1 | a[1]<<63
	a[1] = a[1]>>1 | a[2]<<63
	a[2] = a[2]>>1 | a[3]<<63
	a[3] = a[3]>>1 | top<<63
}

// sub64 sets a = a - b, ignoring the final borrow, and returns it.
func sub64(a, b *[4]uint64) uint64 {
	var bw uint64
	a[0], bw = bits.Sub64(a[0], b[0], 0)
	a[1], bw = bits.Sub64(a[1], b[1], bw)
	a[2], bw = bits.Sub64(a[2], b[2], bw)
	a[3], bw = bits.Sub64(a[3], b[3], bw)
	return bw
}

// halveMod sets a = a/2 mod n for a < n (n odd): a/2 if a is even, else (a+n)/2.
func halveMod(a, n *[4]uint64) {
	if a[0]&1 == 0 {
		shr1(a, 0)
		return
	}
	var c uint64
	a[0], c = bits.Add64(a[0], n[0], 0)
	a[1], c = bits.Add64(a[1], n[1], c)
	a[2], c = bits.Add64(a[2], n[2], c)
	a[3], c = bits.Add64(a[3], n[3], c)
	shr1(a, c)
}

// subMod64 sets a = a - b mod n for a, b < n.
func subMod64(a, b, n *[4]uint64) {
	if sub64(a, b) != 0 {
		var c uint64
		a[0], c = bits.Add64(a[0], n[0], 0)
		a[1], c = bits.Add64(a[1], n[1], c)
		a[2], c = bits.Add64(a[2], n[2], c)
		a[3], _ = bits.Add64(a[3], n[3], c)
	}
}

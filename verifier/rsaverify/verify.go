// Package rsaverify verifies RSASSA-PKCS1-v1_5 signatures over SHA-256 digests (JOSE's
// RS256, RFC 8017 §8.2.2) with exactly the verdicts of the standard library's
// crypto/rsa.VerifyPKCS1v15.
//
// Why it exists: the verifier runs as a WebAssembly module built by TinyGo, and there
// crypto/rsa is slow and large. It rebuilds its Montgomery modulus (R² mod n) at every
// call, multiplies 64-bit words with math/bits.Mul64, which WebAssembly has no
// instruction for, and it brings math/big, fmt, the FIPS 140 machinery and their tables
// into the module, whose data section every new instance writes into fresh pages
// (RATIONALE.md, "Instance ready"). This package keeps the modulus in 32-bit limbs, so
// each limb product is one native 64-bit multiply, and prepares R² mod n once per key.
//
// Verification handles only public data (keys, signatures, messages), so it runs in
// variable time. Never reuse this code for private-key operations.
//
// The package is TinyGo-safe: no reflection, no goroutines, no fmt, no unsafe, no
// math/big. A PublicKey is immutable once made, so it may verify from many goroutines;
// VerifySHA256's scratch space comes from a pool, so it allocates only when the pool is
// empty.
package rsaverify

import (
	"errors"
	"math/bits"
	"sync"
)

// Modulus sizes this package accepts, in bits. Smaller moduli are breakable; larger
// ones only cost verification time.
const (
	MinBits = 2048
	MaxBits = 8192
)

// Errors of NewPublicKey.
var (
	ErrModulus  = errors.New("rsaverify: the modulus is not a minimal big-endian odd integer")
	ErrSize     = errors.New("rsaverify: the modulus is not 2048 to 8192 bits")
	ErrExponent = errors.New("rsaverify: the public exponent is not an odd integer from 3 to 2^31-1")
)

// PublicKey is an RSA public key prepared for verification.
type PublicKey struct {
	n     []uint32 // the modulus, little-endian 32-bit limbs, the top one non-zero
	bytes int      // the modulus's length in bytes: the signature length
	bits  int
	e     uint32
	n0inv uint32 // -n⁻¹ mod 2³² (Montgomery's constant)

	// rr is R² mod n, R = 2^(32·len(n)): it turns a number into Montgomery form. It is
	// computed on the key's first verification, not in NewPublicKey (about 80 µs for
	// 2048 bits inside wasm): an instance that loads a key set pays for the keys its
	// tokens use, not for every key published.
	rrOnce sync.Once
	rr     []uint32
}

// maxLimbs is the most limbs a modulus has.
const maxLimbs = MaxBits / 32

// scratch is a verification's working space, sized for the largest modulus.
type scratch struct {
	s, acc, x [maxLimbs]uint32
	t         [2 * maxLimbs]uint32 // a product before its Montgomery reduction
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// NewPublicKey prepares the key with modulus n (big-endian, no leading zero octet, as
// RFC 7518 §6.3.1 encodes it) and public exponent e.
func NewPublicKey(n []byte, e uint32) (*PublicKey, error) {
	if len(n) == 0 || n[0] == 0 || n[len(n)-1]&1 == 0 {
		return nil, ErrModulus // an even modulus is not a product of two odd primes
	}
	bitLen := 8*len(n) - bits.LeadingZeros8(n[0])
	if bitLen < MinBits || bitLen > MaxBits {
		return nil, ErrSize
	}
	if e < 3 || e&1 == 0 || e > 1<<31-1 {
		return nil, ErrExponent
	}
	limbs := (len(n) + 3) / 4
	k := &PublicKey{
		n:     make([]uint32, limbs),
		bytes: len(n),
		bits:  bitLen,
		e:     e,
	}
	fromBytes(k.n, n)
	k.n0inv = -inverse32(k.n[0])
	return k, nil
}

// Size is the modulus's length in bytes, which is every valid signature's length.
func (k *PublicKey) Size() int { return k.bytes }

// BitLen is the modulus's length in bits.
func (k *PublicKey) BitLen() int { return k.bits }

// digestInfoSHA256 is the DER DigestInfo prefix for SHA-256 (RFC 8017 §9.2, note 1).
var digestInfoSHA256 = [...]byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}

// VerifySHA256 reports whether sig is a valid RSASSA-PKCS1-v1_5 signature of the
// SHA-256 digest: sig is exactly Size bytes, as an integer s below n, and s^e mod n
// is, byte for byte, 00 01 FF…FF 00 || DigestInfo(SHA-256) || digest.
func (k *PublicKey) VerifySHA256(digest *[32]byte, sig []byte) bool {
	if len(sig) != k.bytes {
		return false
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	k.rrOnce.Do(k.prepare)
	l := len(k.n)
	s, m := sc.s[:l], sc.acc[:l]
	fromBytes(s, sig)
	if !less(s, k.n) {
		return false
	}
	k.modExp(m, s, sc.x[:l], sc.t[:2*l])
	// m is s^e mod n; compare its encoding with the expected one from the top byte
	// down, without building it.
	const tail = len(digestInfoSHA256) + 32
	for i := 0; i < k.bytes; i++ { // i counts bytes from the most significant
		got := byteAt(m, k.bytes-1-i)
		var want byte
		switch {
		case i == 0:
			want = 0x00
		case i == 1:
			want = 0x01
		case i < k.bytes-tail-1:
			want = 0xff
		case i == k.bytes-tail-1:
			want = 0x00
		case i < k.bytes-32:
			want = digestInfoSHA256[i-(k.bytes-tail)]
		default:
			want = digest[i-(k.bytes-32)]
		}
		if got != want {
			return false
		}
	}
	return true
}

// modExp sets acc = s^e mod n for s below n; it overwrites s and uses x and t (2·len(n)
// limbs) as working space.
func (k *PublicKey) modExp(acc, s, x, t []uint32) {
	// Into Montgomery form: x = s·R mod n.
	k.montMul(x, s, k.rr, t)
	copy(acc, x)
	top := 31 - bits.LeadingZeros32(k.e)
	for b := top - 1; b >= 0; b-- {
		k.montSqr(acc, acc, t)
		if k.e>>uint(b)&1 == 1 {
			k.montMul(acc, acc, x, t)
		}
	}
	// Out of Montgomery form: multiply by 1.
	clear(s)
	s[0] = 1
	k.montMul(acc, acc, s, t)
}

// montMul sets z = x·y·R⁻¹ mod n for x, y below n (coarsely integrated operand
// scanning, CIOS). z may alias x or y: the product builds up in t (at least len(n)+2
// limbs).
func (k *PublicKey) montMul(z, x, y, t []uint32) {
	n := k.n
	l := len(n)
	x, y, z, t = x[:l], y[:l], z[:l], t[:l+2]
	clear(t)
	for i := 0; i < l; i++ {
		// t += x[i]·y
		xi := uint64(x[i])
		var c uint64
		for j := 0; j < l; j++ {
			s := uint64(t[j]) + xi*uint64(y[j]) + c
			t[j] = uint32(s)
			c = s >> 32
		}
		s := uint64(t[l]) + c
		t[l] = uint32(s)
		t[l+1] = uint32(s >> 32)
		// t = (t + m·n) / 2³², m chosen so that the low limb becomes zero.
		m := uint64(t[0] * k.n0inv)
		c = (uint64(t[0]) + m*uint64(n[0])) >> 32
		for j := 1; j < l; j++ {
			s := uint64(t[j]) + m*uint64(n[j]) + c
			t[j-1] = uint32(s)
			c = s >> 32
		}
		s = uint64(t[l]) + c
		t[l-1] = uint32(s)
		t[l] = t[l+1] + uint32(s>>32)
	}
	k.reduceOnce(t[:l], t[l] != 0)
	copy(z, t[:l])
}

// montSqr sets z = x·x·R⁻¹ mod n for x below n; z may alias x. An exponentiation is
// almost all squarings (16 of 17 multiplications for e = 65537), and a square needs
// each cross product x[i]·x[j], i < j, only once, doubled: about l²/2 limb products
// instead of l², then the l² of the reduction. t holds the 2l-limb square.
func (k *PublicKey) montSqr(z, x, t []uint32) {
	n := k.n
	l := len(n)
	x, z, p := x[:l], z[:l], t[:2*l]
	clear(p)
	// The cross products, each once.
	for i := 0; i < l; i++ {
		xi := uint64(x[i])
		var c uint64
		for j := i + 1; j < l; j++ {
			s := uint64(p[i+j]) + xi*uint64(x[j]) + c
			p[i+j] = uint32(s)
			c = s >> 32
		}
		p[i+l] = uint32(c) // not written by earlier rows, which end at i+l-1
	}
	// Doubled, plus the squares x[i]² at limbs 2i and 2i+1. x² < R², so nothing carries
	// out of the top limb.
	var carry uint32
	for i := range p {
		carry, p[i] = p[i]>>31, p[i]<<1|carry
	}
	var c uint64
	for i := 0; i < l; i++ {
		sq := uint64(x[i]) * uint64(x[i])
		s := uint64(p[2*i]) + uint64(uint32(sq)) + c
		p[2*i] = uint32(s)
		s = uint64(p[2*i+1]) + sq>>32 + s>>32
		p[2*i+1] = uint32(s)
		c = s >> 32
	}
	// Montgomery reduction: add m·n·2^(32i) to clear limb i, for i = 0..l-1; the upper
	// half is then x²·R⁻¹ mod n plus at most n, with `over` its bit above 2^(32l).
	var over uint64
	for i := 0; i < l; i++ {
		m := uint64(p[i] * k.n0inv)
		var c uint64
		for j := 0; j < l; j++ {
			s := uint64(p[i+j]) + m*uint64(n[j]) + c
			p[i+j] = uint32(s)
			c = s >> 32
		}
		s := uint64(p[i+l]) + c + over
		p[i+l] = uint32(s)
		over = s >> 32
	}
	k.reduceOnce(p[l:], over != 0)
	copy(z, p[l:])
}

// prepare sets k.rr to R² mod n, R = 2^(32·l). It reaches R mod n by doubling the
// modulus's top power of two, then walks the bits of 32·l: squaring the Montgomery form
// of 2^a gives that of 2^(2a) and doubling it that of 2^(a+1), so about log2(32·l)
// multiplications give the Montgomery form of 2^(32·l), which is R·R mod n.
func (k *PublicKey) prepare() {
	l := len(k.n)
	t := make([]uint32, 2*l)
	x := make([]uint32, l)
	x[(k.bits-1)/32] = 1 << uint((k.bits-1)%32) // 2^(bits-1) < n
	for i := k.bits - 1; i < 32*l; i++ {
		k.double(x)
	}
	// x = R mod n, the Montgomery form of 1 = 2^0. Walk the exponent 32·l from its top bit.
	exp := 32 * l
	k.double(x) // 2^1
	for b := 30 - bits.LeadingZeros32(uint32(exp)); b >= 0; b-- {
		k.montSqr(x, x, t)
		if exp>>uint(b)&1 == 1 {
			k.double(x)
		}
	}
	k.rr = x
}

// double sets x = 2x mod n for x below n.
func (k *PublicKey) double(x []uint32) {
	var carry uint32
	for i := range x {
		carry, x[i] = x[i]>>31, x[i]<<1|carry
	}
	k.reduceOnce(x, carry != 0)
}

// reduceOnce takes a number below 2n, its low len(n) limbs in x and its bit above them
// in over, and leaves it reduced mod n in x: it subtracts n when the number is n or more.
func (k *PublicKey) reduceOnce(x []uint32, over bool) {
	if !over && less(x, k.n) {
		return
	}
	var borrow uint64
	for i, ni := range k.n {
		d := uint64(x[i]) - uint64(ni) - borrow
		x[i] = uint32(d)
		borrow = d >> 63
	}
}

// less reports a < b for little-endian limbs of equal length.
func less(a, b []uint32) bool {
	for i := len(a) - 1; i >= 0; i-- {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// fromBytes sets limbs (zeroed first) from the big-endian b, which fits.
func fromBytes(limbs []uint32, b []byte) {
	clear(limbs)
	for i, j := len(b)-1, uint(0); i >= 0; i, j = i-1, j+1 {
		limbs[j/4] |= uint32(b[i]) << (8 * (j % 4))
	}
}

// byteAt returns byte i (0 the least significant) of the little-endian limbs.
func byteAt(limbs []uint32, i int) byte { return byte(limbs[i/4] >> (8 * uint(i%4))) }

// inverse32 returns a⁻¹ mod 2³² for an odd a (Newton's iteration: each step doubles
// the correct low bits; a is its own inverse mod 8).
func inverse32(a uint32) uint32 {
	x := a
	for i := 0; i < 4; i++ {
		x *= 2 - a*x
	}
	return x
}

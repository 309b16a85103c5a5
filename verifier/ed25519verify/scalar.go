package ed25519verify

import "encoding/binary"

// Scalars mod L = 2^252 + 27742317777372353535851937790883648493, the order of the
// base point, as 32-byte little-endian values.

// scL is L as little-endian bytes.
var scL = [32]byte{
	0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
}

// scC is L - 2^252 as four little-endian 32-bit words (125 bits).
var scC = [4]uint32{0x5cf5d3ed, 0x5812631a, 0xa2f79cd6, 0x14def9de}

// scIsCanonical reports whether s < L, the check of the standard library's
// Scalar.SetCanonicalBytes on a signature's S.
func scIsCanonical(s []byte) bool {
	for i := 31; i >= 0; i-- {
		if s[i] != scL[i] {
			return s[i] < scL[i]
		}
	}
	return false // s == L
}

// scReduce sets out to the 64-byte little-endian value h mod L (the standard
// library's Scalar.SetUniformBytes). Horner's rule 16 bits at a time: r < L is
// shifted in 16 more bits, and the part above 2^252, q < 2^17, is folded back as
// r mod 2^252 - q*c (c = L - 2^252 < 2^125), adding L once if that went negative.
func scReduce(out *[32]byte, h []byte) {
	var r [9]uint64 // 32-bit words in uint64s
	for pos := 62; pos >= 0; pos -= 2 {
		in := uint64(h[pos]) | uint64(h[pos+1])<<8
		// r = r<<16 | in
		for i := 8; i > 0; i-- {
			r[i] = (r[i]<<16 | r[i-1]>>16) & 0xffffffff
		}
		r[0] = (r[0]<<16 | in) & 0xffffffff
		q := r[7]>>28 | r[8]<<4
		r[7] &= 1<<28 - 1
		r[8] = 0
		// r -= q*c
		var borrow int64
		for i := 0; i < 8; i++ {
			var qc int64
			if i < 4 {
				qc = int64(q) * int64(scC[i])
			}
			t := int64(r[i]) - qc + borrow
			r[i] = uint64(t) & 0xffffffff
			borrow = t >> 32
		}
		if borrow < 0 { // r + 2^256*borrow < 0: add L (the 2^256 wraps away)
			var carry uint64
			for i := 0; i < 8; i++ {
				t := r[i] + uint64(binary.LittleEndian.Uint32(scL[4*i:])) + carry
				r[i] = t & 0xffffffff
				carry = t >> 32
			}
		}
	}
	for i := 0; i < 8; i++ {
		binary.LittleEndian.PutUint32(out[4*i:], uint32(r[i]))
	}
}

// wnaf sets naf to the width-w non-adjacent form of the scalar s < 2^255: every
// non-zero digit is odd, |digit| < 2^(w-1), and any w consecutive digits hold at most
// one non-zero. Variable time (public scalars only).
func wnaf(naf *[256]int8, s *[32]byte, w uint) {
	var d [5]uint64
	for i := 0; i < 4; i++ {
		d[i] = binary.LittleEndian.Uint64(s[8*i:])
	}
	*naf = [256]int8{}
	width := uint64(1) << w
	mask := width - 1
	var carry uint64
	for pos := uint(0); pos < 256; {
		q, r := pos/64, pos%64
		buf := d[q] >> r
		if r+w > 64 {
			buf |= d[q+1] << (64 - r)
		}
		window := carry + buf&mask
		if window&1 == 0 {
			pos++
			continue
		}
		if window < width/2 {
			carry = 0
			naf[pos] = int8(window)
		} else {
			carry = 1
			naf[pos] = int8(int64(window) - int64(width))
		}
		pos += w
	}
}

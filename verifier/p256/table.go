package p256

// Precomputation and the double-scalar multiplication u1*G + u2*Q.
//
// Why it is shaped like this: a verification is one double-scalar multiplication,
// and its cost is doublings plus additions. Both bases are fixed long before the
// signature arrives (G forever, Q from the moment the key set is loaded, and the
// verifier parses the key set once and then checks many tokens), so the work that
// depends only on the base is done ahead of time:
//
//   - Each 256-bit scalar is split into pieces of pieceBits bits,
//     u = sum u_i 2^(pieceBits*i), and the table of a base B holds, for every piece i,
//     the odd multiples 1, 3, ..., 2^(w-1)-1 of B_i = 2^(pieceBits*i) B, in affine
//     form (one batched inversion for the whole table). All pieces then share one run
//     of only pieceBits+1 doublings instead of 256 (Straus/Shamir interleaving).
//   - Each piece is recoded in width-w NAF, so about one digit in w+1 is non-zero and
//     each costs one mixed addition with a table entry or its negative.
//
// The table for G is built once at package initialisation (TinyGo evaluates that at
// compile time, so it lands in the module's data segment and costs no start-up time);
// the table of a public key is built by ParsePublicKey. Each table holds 2^(w-2)
// affine points of 64 bytes per piece: 16 KiB for G (w = 7) and 8 KiB per key (w = 6).
//
// Measured under TinyGo (-opt=2) in wazero: eight 32-bit pieces (33 doublings) beat
// four 64-bit ones (65 doublings) by about 15%; widening both windows by one bit
// (32 KiB for G, 16 KiB per key) gained only about 7% more, not worth the module size.

const (
	pieceBits  = 32
	pieceCount = 256 / pieceBits
	digitCount = pieceBits + 1 // a w-NAF of a pieceBits-bit number can be one digit longer

	windowG = 7
	windowQ = 6
)

// generator is the base point G.
var generator = affinePoint{
	x: element{0xd898c296, 0xf4a13945, 0x2deb33a0, 0x77037d81, 0x63a440f2, 0xf8bce6e5, 0xe12c4247, 0x6b17d1f2},
	y: element{0x37bf51f5, 0xcbb64068, 0x6b315ece, 0x2bce3357, 0x7c0f9e16, 0x8ee7eb4a, 0xfe1a7f9b, 0x4fe342e2},
}

// baseTable is the precomputed table of G.
var baseTable = newTable(&generator, windowG)

// newTable returns the table of odd multiples of 2^(pieceBits*i) * base for every
// piece i, for width-w NAF digits: entry i*2^(w-2) + (d-1)/2 is d * 2^(pieceBits*i) * base.
func newTable(base *affinePoint, w uint) []affinePoint {
	per := 1 << (w - 2)
	points := make([]jacobianPoint, pieceCount*per)
	var b jacobianPoint // B_i
	b.setAffine(base)
	for i := 0; i < pieceCount; i++ {
		if i > 0 {
			for j := 0; j < pieceBits; j++ {
				b.double()
			}
		}
		twice := b
		twice.double()
		row := points[i*per : (i+1)*per]
		row[0] = b
		for j := 1; j < per; j++ {
			row[j] = row[j-1]
			row[j].add(&twice)
		}
	}
	// No entry is infinity: each is d * 2^k * base with 0 < d < 2^(w-1) odd, k < 256,
	// and base has prime order n, which d * 2^k is not a multiple of.
	table := make([]affinePoint, len(points))
	batchToAffine(table, points)
	return table
}

// recode writes the width-w NAF of the 64-bit piece k into out (least significant
// digit first): digits are zero or odd in (-2^(w-1), 2^(w-1)), and no w consecutive
// digits contain two non-zero ones.
func recode(out *[digitCount]int8, k uint64, w uint) {
	*out = [digitCount]int8{}
	mask := uint64(1)<<w - 1
	half := int64(1) << (w - 1)
	var hi uint64 // bit 64 of the running value, set when adding -d overflows
	for i := 0; i < digitCount && (k|hi) != 0; i++ {
		if k&1 != 0 {
			d := int64(k & mask)
			if d >= half {
				d -= 1 << w
			}
			if d > 0 {
				k -= uint64(d) // clears the low bits, cannot borrow
			} else {
				s := k + uint64(-d)
				if s < k {
					hi = 1
				}
				k = s
			}
			out[i] = int8(d)
		}
		k = k>>1 | hi<<63
		hi = 0
	}
}

// scalarPieces splits s into pieceCount pieces of pieceBits bits, least significant
// first.
func scalarPieces(s *scalar) [pieceCount]uint64 {
	const limbs = pieceBits / 32
	var p [pieceCount]uint64
	for i := range p {
		for j := 0; j < limbs; j++ {
			p[i] |= uint64(s[i*limbs+j]) << (32 * j)
		}
	}
	return p
}

// mulAdd sets r = u1*G + u2*Q, where qTable is Q's table (window windowQ).
func mulAdd(r *jacobianPoint, u1, u2 *scalar, qTable []affinePoint) {
	var dg, dq [pieceCount][digitCount]int8
	p1, p2 := scalarPieces(u1), scalarPieces(u2)
	for i := 0; i < pieceCount; i++ {
		recode(&dg[i], p1[i], windowG)
		recode(&dq[i], p2[i], windowQ)
	}
	const perG, perQ = 1 << (windowG - 2), 1 << (windowQ - 2)
	*r = jacobianPoint{}
	for j := digitCount - 1; j >= 0; j-- {
		if !r.isInfinity() {
			r.double()
		}
		for i := 0; i < pieceCount; i++ {
			if d := dg[i][j]; d > 0 {
				r.addAffine(&baseTable[i*perG+int(d>>1)], false)
			} else if d < 0 {
				r.addAffine(&baseTable[i*perG+int((-d)>>1)], true)
			}
			if d := dq[i][j]; d > 0 {
				r.addAffine(&qTable[i*perQ+int(d>>1)], false)
			} else if d < 0 {
				r.addAffine(&qTable[i*perQ+int((-d)>>1)], true)
			}
		}
	}
}

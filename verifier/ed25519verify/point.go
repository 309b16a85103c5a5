package ed25519verify

// Points of the twisted Edwards curve -x^2 + y^2 = 1 + d x^2 y^2 in ref10's
// coordinate systems. The formulas (from ref10, "Twisted Edwards curves revisited",
// Hisil-Wong-Carter-Dawson 2008) are complete on this curve: no exceptional cases, for
// points of any order. Operands are kept within the bounds feMul accepts: carried
// elements, or sums/differences of two or three of them.

// projP2 is (X:Y:Z) with x = X/Z, y = Y/Z.
type projP2 struct{ X, Y, Z fe }

// extP3 is extended coordinates (X:Y:Z:T) with x = X/Z, y = Y/Z, xy = T/Z.
type extP3 struct{ X, Y, Z, T fe }

// completed is ((X:Z), (Y:T)) with x = X/Z, y = Y/T, the result of an addition or
// doubling before the final multiplications.
type completed struct{ X, Y, Z, T fe }

// precomp is an affine point as (y+x, y-x, 2dxy): the form madd and msub take.
type precomp struct{ yPlusX, yMinusX, xy2d fe }

// cached is an extended point as (Y+X, Y-X, Z, 2dT): the form add takes.
type cached struct{ yPlusX, yMinusX, Z, T2d fe }

func (r *projP2) zero() {
	r.X = fe{}
	r.Y = feOne
	r.Z = feOne
}

func (r *projP2) fromCompleted(p *completed) {
	feMul(&r.X, &p.X, &p.T)
	feMul(&r.Y, &p.Y, &p.Z)
	feMul(&r.Z, &p.Z, &p.T)
}

func (r *extP3) fromCompleted(p *completed) {
	feMul(&r.X, &p.X, &p.T)
	feMul(&r.Y, &p.Y, &p.Z)
	feMul(&r.Z, &p.Z, &p.T)
	feMul(&r.T, &p.X, &p.Y)
}

func (r *cached) fromP3(p *extP3) {
	feAdd(&r.yPlusX, &p.Y, &p.X)
	feSub(&r.yMinusX, &p.Y, &p.X)
	r.Z = p.Z
	feMul(&r.T2d, &p.T, &feD2)
}

// double sets r = 2p (ref10's ge_p2_dbl; an extP3 is used through its first three
// coordinates).
func (r *completed) double(X, Y, Z *fe) {
	var t0 fe
	feSquare(&r.X, X)
	feSquare(&r.Z, Y)
	feSquare2(&r.T, Z)
	feAdd(&r.Y, X, Y)
	feSquare(&t0, &r.Y)
	feAdd(&r.Y, &r.Z, &r.X)
	feSub(&r.Z, &r.Z, &r.X)
	feSub(&r.X, &t0, &r.Y)
	feSub(&r.T, &r.T, &r.Z)
}

// add sets r = p + q (ref10's ge_add).
func (r *completed) add(p *extP3, q *cached) {
	var t0 fe
	feAdd(&r.X, &p.Y, &p.X)
	feSub(&r.Y, &p.Y, &p.X)
	feMul(&r.Z, &r.X, &q.yPlusX)
	feMul(&r.Y, &r.Y, &q.yMinusX)
	feMul(&r.T, &q.T2d, &p.T)
	feMul(&r.X, &p.Z, &q.Z)
	feAdd(&t0, &r.X, &r.X)
	feSub(&r.X, &r.Z, &r.Y)
	feAdd(&r.Y, &r.Z, &r.Y)
	feAdd(&r.Z, &t0, &r.T)
	feSub(&r.T, &t0, &r.T)
}

// madd sets r = p + q for an affine q (ref10's ge_madd).
func (r *completed) madd(p *extP3, q *precomp) {
	var t0 fe
	feAdd(&r.X, &p.Y, &p.X)
	feSub(&r.Y, &p.Y, &p.X)
	feMul(&r.Z, &r.X, &q.yPlusX)
	feMul(&r.Y, &r.Y, &q.yMinusX)
	feMul(&r.T, &q.xy2d, &p.T)
	feAdd(&t0, &p.Z, &p.Z)
	feSub(&r.X, &r.Z, &r.Y)
	feAdd(&r.Y, &r.Z, &r.Y)
	feAdd(&r.Z, &t0, &r.T)
	feSub(&r.T, &t0, &r.T)
}

// msub sets r = p - q for an affine q (ref10's ge_msub).
func (r *completed) msub(p *extP3, q *precomp) {
	var t0 fe
	feAdd(&r.X, &p.Y, &p.X)
	feSub(&r.Y, &p.Y, &p.X)
	feMul(&r.Z, &r.X, &q.yMinusX)
	feMul(&r.Y, &r.Y, &q.yPlusX)
	feMul(&r.T, &q.xy2d, &p.T)
	feAdd(&t0, &p.Z, &p.Z)
	feSub(&r.X, &r.Z, &r.Y)
	feAdd(&r.Y, &r.Z, &r.Y)
	feSub(&r.Z, &t0, &r.T)
	feAdd(&r.T, &t0, &r.T)
}

// bytes writes the canonical encoding of the point (X:Y:Z): y with the sign of x in
// the top bit (RFC 8032, section 5.1.2).
func encodePoint(b *[32]byte, X, Y, Z *fe) {
	var zinv, x, y fe
	feInvert(&zinv, Z)
	feMul(&x, X, &zinv)
	feMul(&y, Y, &zinv)
	feToBytes(b, &y)
	if feIsNegative(&x) {
		b[31] |= 0x80
	}
}

// decodePoint sets (x, y) from an encoding exactly as the standard library's
// edwards25519 Point.SetBytes does, and reports whether it is a point of the curve.
// Accepted, as there: y from p to 2^255-1 (taken mod p), and x = 0 with the sign bit
// set (-0 = 0). Rejected: y for which (y^2-1)/(dy^2+1) is not a square.
func decodePoint(x, y *fe, b *[32]byte) bool {
	var y2, u, v fe
	feFromBytes(y, b)
	feSquare(&y2, y)
	feSub(&u, &y2, &feOne)
	feMul(&v, &y2, &feD)
	feAdd(&v, &v, &feOne)
	feCarry(&u, &u)
	feCarry(&v, &v)
	if !feSqrtRatio(x, &u, &v) {
		return false
	}
	if b[31]>>7 == 1 {
		feNeg(x, x)
	}
	return true
}

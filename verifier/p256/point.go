package p256

// The group law of P-256, y^2 = x^3 - 3x + b over the field.
//
// Points being accumulated are in Jacobian coordinates (X, Y, Z) for x = X/Z^2,
// y = Y/Z^3, with Z = 0 for the point at infinity, so no inversion is needed per
// operation. Precomputed points are affine, which makes each addition a cheaper
// "mixed" addition. Formulas are from the Explicit-Formulas Database
// (hyperelliptic.org/EFD, "g1p/auto-shortw-jacobian-3").
//
// The formulas are the incomplete textbook ones; the exceptional cases (an operand at
// infinity, adding a point to itself or to its negative) are detected and handled
// explicitly, so every sum is correct for every input, including inputs an attacker
// chose to hit those cases. Branching on them is fine: everything here is public.

// curveB is the constant b of the curve equation.
var curveB = element{0x27d2604b, 0x3bce3c3e, 0xcc53b0f6, 0x651d06b0, 0x769886bc, 0xb3ebbd55, 0xaa3a93e7, 0x5ac635d8}

// affinePoint is a point other than infinity in affine coordinates.
type affinePoint struct {
	x, y element
}

// jacobianPoint is a point in Jacobian coordinates; z = 0 is the point at infinity.
type jacobianPoint struct {
	x, y, z element
}

var feOne = element{1}

// isOnCurve reports whether y^2 = x^3 - 3x + b.
func isOnCurve(x, y *element) bool {
	var lhs, rhs, t element
	feSqr(&lhs, y)
	feSqr(&rhs, x)
	feMul(&rhs, &rhs, x) // x^3
	feAdd(&t, x, x)
	feAdd(&t, &t, x) // 3x
	feSub(&rhs, &rhs, &t)
	feAdd(&rhs, &rhs, &curveB)
	return lhs == rhs
}

func (p *jacobianPoint) setAffine(a *affinePoint) {
	p.x, p.y, p.z = a.x, a.y, feOne
}

func (p *jacobianPoint) isInfinity() bool { return p.z.isZero() }

// double sets p = 2p ("dbl-2001-b", 3M + 5S, using a = -3). Doubling infinity gives
// infinity (Z stays 0); P-256 has no point of order two, so Y is never 0 otherwise.
func (p *jacobianPoint) double() {
	var delta, gamma, beta, alpha, t, u element
	feSqr(&delta, &p.z)        // delta = Z^2
	feSqr(&gamma, &p.y)        // gamma = Y^2
	feMul(&beta, &p.x, &gamma) // beta = X*gamma
	feSub(&t, &p.x, &delta)
	feAdd(&u, &p.x, &delta)
	feMul(&alpha, &t, &u)
	feComb2(&alpha, &alpha, 3, &alpha, 0) // alpha = 3(X-delta)(X+delta)

	// Z3 = (Y+Z)^2 - gamma - delta
	feAdd(&t, &p.y, &p.z)
	feSqr(&t, &t)
	feComb3(&p.z, &t, 1, &gamma, -1, &delta, -1)

	// X3 = alpha^2 - 8 beta
	feSqr(&t, &alpha)
	feComb2(&p.x, &t, 1, &beta, -8)

	// Y3 = alpha (4 beta - X3) - 8 gamma^2
	feComb2(&t, &beta, 4, &p.x, -1)
	feMul(&t, &alpha, &t)
	feSqr(&gamma, &gamma)
	feComb2(&p.y, &t, 1, &gamma, -8)
}

// addAffine sets p = p + q, or p - q when neg is set ("madd-2007-bl", 7M + 4S).
func (p *jacobianPoint) addAffine(q *affinePoint, neg bool) {
	qy := q.y
	if neg {
		feNeg(&qy, &q.y)
	}
	if p.isInfinity() {
		p.x, p.y, p.z = q.x, qy, feOne
		return
	}
	var z1z1, u2, s2, h, hh, i, j, r, v element
	feSqr(&z1z1, &p.z)      // Z1Z1 = Z1^2
	feMul(&u2, &q.x, &z1z1) // U2 = X2*Z1Z1
	feMul(&s2, &p.z, &z1z1) //
	feMul(&s2, &qy, &s2)    // S2 = Y2*Z1*Z1Z1
	feSub(&h, &u2, &p.x)    // H = U2-X1
	if h.isZero() {         // same x: q = p or q = -p
		feSub(&r, &s2, &p.y)
		if r.isZero() {
			p.double()
			return
		}
		*p = jacobianPoint{}
		return
	}
	feComb2(&r, &s2, 2, &p.y, -2)      // r = 2(S2-Y1)
	feSqr(&hh, &h)                     // HH = H^2
	feComb2(&i, &hh, 4, &hh, 0)        // I = 4HH
	feMul(&j, &h, &i)                  // J = H*I
	feMul(&v, &p.x, &i)                // V = X1*I
	var t element                      //
	feSqr(&t, &r)                      //
	feComb3(&t, &t, 1, &j, -1, &v, -2) // X3 = r^2 - J - 2V
	feSub(&v, &v, &t)                  //
	feMul(&v, &r, &v)                  //
	feMul(&j, &p.y, &j)                //
	feComb2(&p.y, &v, 1, &j, -2)       // Y3 = r(V - X3) - 2 Y1 J
	p.x = t
	feAdd(&t, &p.z, &h)
	feSqr(&t, &t)
	feComb3(&p.z, &t, 1, &z1z1, -1, &hh, -1) // Z3 = (Z1+H)^2 - Z1Z1 - HH
}

// add sets p = p + q for Jacobian q ("add-2007-bl", 11M + 5S). Only precomputation
// uses it.
func (p *jacobianPoint) add(q *jacobianPoint) {
	if q.isInfinity() {
		return
	}
	if p.isInfinity() {
		*p = *q
		return
	}
	var z1z1, z2z2, u1, u2, s1, s2, h, i, j, r, v, t element
	feSqr(&z1z1, &p.z)
	feSqr(&z2z2, &q.z)
	feMul(&u1, &p.x, &z2z2)
	feMul(&u2, &q.x, &z1z1)
	feMul(&s1, &p.y, &q.z)
	feMul(&s1, &s1, &z2z2)
	feMul(&s2, &q.y, &p.z)
	feMul(&s2, &s2, &z1z1)
	feSub(&h, &u2, &u1)
	feSub(&r, &s2, &s1)
	if h.isZero() {
		if r.isZero() {
			p.double()
			return
		}
		*p = jacobianPoint{}
		return
	}
	feAdd(&i, &h, &h)
	feSqr(&i, &i)     // I = (2H)^2
	feMul(&j, &h, &i) // J = H*I
	feAdd(&r, &r, &r) // r = 2(S2-S1)
	feMul(&v, &u1, &i)
	// X3 = r^2 - J - 2V
	feSqr(&t, &r)
	feSub(&t, &t, &j)
	feSub(&t, &t, &v)
	feSub(&t, &t, &v)
	// Y3 = r(V-X3) - 2 S1 J
	feSub(&v, &v, &t)
	feMul(&v, &r, &v)
	feMul(&s1, &s1, &j)
	feAdd(&s1, &s1, &s1)
	feSub(&p.y, &v, &s1)
	p.x = t
	// Z3 = ((Z1+Z2)^2 - Z1Z1 - Z2Z2) H
	feAdd(&t, &p.z, &q.z)
	feSqr(&t, &t)
	feSub(&t, &t, &z1z1)
	feSub(&t, &t, &z2z2)
	feMul(&p.z, &t, &h)
}

// batchToAffine converts points (none at infinity) to affine with one field inversion
// (Montgomery's trick).
func batchToAffine(out []affinePoint, in []jacobianPoint) {
	prod := make([]element, len(in))
	acc := feOne
	for i := range in {
		prod[i] = acc
		feMul(&acc, &acc, &in[i].z)
	}
	var inv element
	feInv(&inv, &acc)
	for i := len(in) - 1; i >= 0; i-- {
		var zinv, zinv2 element
		feMul(&zinv, &inv, &prod[i]) // 1/Z_i
		feMul(&inv, &inv, &in[i].z)
		feSqr(&zinv2, &zinv)
		feMul(&out[i].x, &in[i].x, &zinv2)
		feMul(&zinv2, &zinv2, &zinv)
		feMul(&out[i].y, &in[i].y, &zinv2)
	}
}

package gate

import (
	"unicode/utf8"
	"unsafe"

	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/words"
)

// The compact form of Decide (verifier/ABI.md, "decide_compact"; layouts in
// verifier/abi/compact.go): no JSON on either side, and nothing allocated on a cache
// hit. The identity of a decision is written only when the host asks for it
// (AppendLastIdentity).

// lastIdentity is the identity of the latest decision, kept for AppendLastIdentity: the
// fields of its claims an identity has (the strings and roles are the claims' own,
// which nothing changes once they are made).
type lastIdentity struct {
	ok       bool
	key      uint32 // identity key (cache entry serial), 0 when the token was not cached
	sub, sid string
	roles    []string
	exp      int64
	mfa      bool // the sign-in used a second factor
}

var (
	errCompactLayout = wrap(abi.ErrInvalidRequest, "compact request lengths do not fit")
)

// DecideCompact is Decide with the compact request and decision record of
// verifier/abi (abi.AppendCompactRequest, abi.ParseDecisionRecord): the same rules,
// limits and errors (invalid UTF-8, more than 300 Cookie headers or more than 64 KiB
// refuse the request with abi.ErrInvalidRequest). The request's strings alias in for
// the duration of the call only; the record is appended to out.
func (g *Gate) DecideCompact(in []byte, now int64, out []byte) ([]byte, error) {
	g.beginCheck()
	res, err := g.decideCompact(in, now, out)
	g.endCheck()
	return res, err
}

func (g *Gate) decideCompact(in []byte, now int64, out []byte) ([]byte, error) {
	g.last.ok = false
	if g.pol == nil {
		return out, abi.ErrNotConfigured
	}
	r, err := g.parseCompact(in)
	if err != nil {
		return out, err
	}
	d, err := g.decide(&r, now)
	if err != nil {
		return out, err
	}
	return g.writeCompact(out, &d), nil
}

// parseCompact reads a compact request. Its strings alias in (no copy): nothing the
// gate keeps beyond the call may hold them (the cache clones its token).
func (g *Gate) parseCompact(in []byte) (request, error) {
	if len(in) > maxRequestBytes {
		return request{}, errRequestTooBig
	}
	lens, count, pos, ok := abi.CompactRequestHeader(in, maxCookieHeaders)
	if !ok {
		if count > maxCookieHeaders {
			return request{}, errRequestCookies
		}
		return request{}, errCompactLayout
	}
	var r request
	r.method, pos = str(in, pos, lens[0])
	r.path, pos = str(in, pos, lens[1])
	r.query, pos = str(in, pos, lens[2])
	r.authorization, pos = str(in, pos, lens[3])
	if !validUTF8(r.method) || !validUTF8(r.path) || !validUTF8(r.query) || !validUTF8(r.authorization) {
		return request{}, errRequestUTF8
	}
	r.cookies = g.cookies[:0]
	for i := 0; i < int(count); i++ {
		var c string
		c, pos = str(in, pos, abi.CompactCookieLen(in, i))
		if !validUTF8(c) {
			return request{}, errRequestUTF8
		}
		r.cookies = append(r.cookies, c)
	}
	g.cookies = r.cookies[:0]
	return r, nil
}

// str returns the n bytes of in at pos as a string aliasing in, and the next position.
func str(in []byte, pos int, n uint32) (string, int) {
	if n == 0 {
		return "", pos
	}
	return unsafe.String(&in[pos], int(n)), pos + int(n)
}

// validUTF8 is utf8.ValidString with an ASCII fast path eight bytes at a time (a
// request is ASCII but for the odd non-ASCII path or cookie).
func validUTF8(s string) bool { return words.ASCII(s) || utf8.ValidString(s) }

// actionCode is the record's code for an action.
func actionCode(a string) uint8 {
	switch a {
	case actionRedirect:
		return abi.ActionRedirect
	case actionRefresh:
		return abi.ActionRefresh
	case actionDeny:
		return abi.ActionDeny
	}
	return abi.ActionAllow
}

// writeCompact appends the decision record and its data.
func (g *Gate) writeCompact(out []byte, d *decision) []byte {
	var loc []byte
	var locStr string
	switch {
	case d.location != nil:
		loc = d.location[1 : len(d.location)-1] // unquoted
	default:
		locStr = d.locationStr
	}
	var clearA, clearR string
	var flags uint8
	if d.clear {
		clearA, clearR = g.pol.ClearCookies()
		flags |= abi.FlagClearCookies
	}
	var key uint32
	if d.claims != nil {
		flags |= abi.FlagIdentity
		key = g.last.key
	}
	nl := len(loc) + len(locStr)
	out = append(out, actionCode(d.action), reasonCode(d.reason), byte(d.status), byte(d.status>>8),
		flags, 0, 0, 0,
		byte(key), byte(key>>8), byte(key>>16), byte(key>>24),
		byte(nl), byte(nl>>8), byte(nl>>16), byte(nl>>24),
		byte(len(clearA)), byte(len(clearA)>>8), byte(len(clearA)>>16), byte(len(clearA)>>24),
		byte(len(clearR)), byte(len(clearR)>>8), byte(len(clearR)>>16), byte(len(clearR)>>24))
	out = append(out, loc...)
	out = append(out, locStr...)
	out = append(out, clearA...)
	return append(out, clearR...)
}

// reasonCode is the index of r in abi.Reasons.
func reasonCode(r abi.Reason) uint8 {
	for i, x := range abi.Reasons {
		if x == r {
			return uint8(i)
		}
	}
	panic("gate: reason missing from abi.Reasons: " + string(r))
}

// LastIdentity returns the identity of the latest Decide or DecideCompact, ok false
// when that decision had none. The strings are the cached claims' own (immutable); roles
// is the gate's slice: a caller that hands it on copies it.
func (g *Gate) LastIdentity() (sub, sid string, roles []string, exp int64, secondFactor, ok bool) {
	if !g.last.ok {
		return "", "", nil, 0, false, false
	}
	l := &g.last
	return l.sub, l.sid, l.roles, l.exp, l.mfa, true
}

// AppendLastIdentity appends the identity of the latest Decide or DecideCompact
// (abi.AppendIdentity's layout) to out; nothing when that decision had none.
func (g *Gate) AppendLastIdentity(out []byte) []byte {
	if !g.last.ok {
		return out
	}
	l := &g.last
	return abi.AppendIdentity(out, l.sub, l.sid, l.roles, l.exp, l.mfa)
}

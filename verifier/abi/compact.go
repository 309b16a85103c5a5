package abi

import (
	"strings"
	"unicode/utf8"
)

// The compact decision form (verifier/ABI.md, "decide_compact"): the hot path of an
// edge, with no JSON on either side. decide_compact takes the request as
// length-prefixed fields and returns a fixed little-endian record followed by the
// location and clearing cookies; the identity of the decision is read only when the
// host asks, with the identity export.
//
// Request: the lengths (u32 LE) first, then the fields' UTF-8 bytes back to back, so a
// host can encode every field with one call (JS: one TextEncoder.encodeInto):
//
//	len(method) | len(path) | len(query) | len(authorization) | count | len(cookie header) * count |
//	method | path | query | authorization | cookie headers
//
// Decision record (DecisionRecordSize bytes, then the data):
//
//	0  u8  action (ActionAllow, ActionRedirect, ActionRefresh, ActionDeny)
//	1  u8  reason (index in Reasons)
//	2  u16 status (0 for allow)
//	4  u8  flags (FlagIdentity, FlagClearCookies)
//	5  3 bytes zero
//	8  u32 identity key (0: none, or not cached)
//	12 u32 len(location)
//	16 u32 len(clear access cookie)
//	20 u32 len(clear refresh cookie)
//	24 location | clear access cookie | clear refresh cookie
//
// Identity (the identity export's output; empty when the last decision had none):
//
//	i64 LE exp | len | sub | len | sid | count | (len | role) * count

// Exports of the compact form.
const (
	ExportDecideCompact = "decide_compact" // (len i32, now i64) -> i64
	ExportIdentity      = "identity"       // () -> i64
	// ExportHeapAllocs is a diagnostic: the number of heap allocations the instance
	// has made so far (tests check that a cache-hit decision adds none).
	ExportHeapAllocs = "heap_allocs" // () -> i64
)

// DecisionRecordSize is the size of the fixed part of a decide_compact output.
const DecisionRecordSize = 24

// Action codes of a decision record, in the order of Actions.
const (
	ActionAllow uint8 = iota
	ActionRedirect
	ActionRefresh
	ActionDeny
)

// Actions names the action codes as the decision JSON spells them.
var Actions = [...]string{"allow", "redirect", "refresh", "deny"}

// Flags of a decision record.
const (
	// FlagIdentity: the decision carries an identity; read it with the identity export
	// before the next decision (or reuse the one already read for the same identity key).
	FlagIdentity uint8 = 1 << 0
	// FlagClearCookies: the two clearing Set-Cookie values follow the location.
	FlagClearCookies uint8 = 1 << 1
)

// AppendCompactRequest appends a decide_compact input to dst.
func AppendCompactRequest(dst []byte, method, path, query, authorization string, cookies []string) []byte {
	dst = appendU32(dst, uint32(len(method)))
	dst = appendU32(dst, uint32(len(path)))
	dst = appendU32(dst, uint32(len(query)))
	dst = appendU32(dst, uint32(len(authorization)))
	dst = appendU32(dst, uint32(len(cookies)))
	for _, c := range cookies {
		dst = appendU32(dst, uint32(len(c)))
	}
	dst = append(dst, method...)
	dst = append(dst, path...)
	dst = append(dst, query...)
	dst = append(dst, authorization...)
	for _, c := range cookies {
		dst = append(dst, c...)
	}
	return dst
}

// ToValidUTF8 returns s with every byte that is not part of valid UTF-8 replaced by
// U+FFFD, as encoding/json writes such a string. Go hosts pass every field of a request
// through it before AppendCompactRequest (decide_compact refuses invalid UTF-8), so a
// request decides the same in the compact form as in the JSON form. s itself (no copy)
// when it is valid.
func ToValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteString("\uFFFD")
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// CompactRequestSize is the length of AppendCompactRequest's output.
func CompactRequestSize(method, path, query, authorization string, cookies []string) int {
	n := 20 + len(method) + len(path) + len(query) + len(authorization)
	for _, c := range cookies {
		n += 4 + len(c)
	}
	return n
}

// CompactRequestHeader reads the lengths at the start of a decide_compact input: the
// four field lengths, the cookie count, and the offset where the data starts. ok is
// false when the count exceeds maxCookies or the lengths do not add up to exactly the
// input's length.
func CompactRequestHeader(in []byte, maxCookies uint32) (fields [4]uint32, count uint32, dataStart int, ok bool) {
	if len(in) < 20 {
		return fields, 0, 0, false
	}
	total := uint64(0)
	for i := range fields {
		fields[i] = le32(in[4*i:])
		total += uint64(fields[i])
	}
	count = le32(in[16:])
	if count > maxCookies {
		return fields, count, 0, false
	}
	dataStart = 20 + 4*int(count)
	if len(in) < dataStart {
		return fields, count, 0, false
	}
	for i := 0; i < int(count); i++ {
		total += uint64(le32(in[20+4*i:]))
	}
	return fields, count, dataStart, total == uint64(len(in)-dataStart)
}

// CompactCookieLen is the length of cookie header i of a decide_compact input whose
// header CompactRequestHeader has accepted.
func CompactCookieLen(in []byte, i int) uint32 { return le32(in[20+4*i:]) }

// DecisionRecord is a decoded decide_compact output. Its slices alias the output.
type DecisionRecord struct {
	Action, Reason, Flags     uint8
	Status                    uint16
	IdentityKey               uint32
	Location                  []byte
	ClearAccess, ClearRefresh []byte
}

// ParseDecisionRecord decodes a decide_compact output; ok is false when it is too
// short, its lengths do not fit, or a code is out of range.
func ParseDecisionRecord(b []byte) (d DecisionRecord, ok bool) {
	if len(b) < DecisionRecordSize {
		return d, false
	}
	d.Action, d.Reason, d.Flags = b[0], b[1], b[4]
	d.Status = uint16(b[2]) | uint16(b[3])<<8
	d.IdentityKey = le32(b[8:])
	nl, na, nr := uint64(le32(b[12:])), uint64(le32(b[16:])), uint64(le32(b[20:]))
	rest := b[DecisionRecordSize:]
	if int(d.Action) >= len(Actions) || int(d.Reason) >= len(Reasons) || nl+na+nr != uint64(len(rest)) {
		return d, false
	}
	d.Location, rest = rest[:nl], rest[nl:]
	d.ClearAccess, d.ClearRefresh = rest[:na], rest[na:]
	return d, true
}

// Identity flags: the byte that ends the identity export's output.
const (
	// IdentitySecondFactor: the token's sign-in used a second factor (amr lists "mfa").
	IdentitySecondFactor = 1
)

// AppendIdentity appends the identity export's output for the given claims to dst.
func AppendIdentity(dst []byte, sub, sid string, roles []string, exp int64, secondFactor bool) []byte {
	dst = appendU32(dst, uint32(uint64(exp)))
	dst = appendU32(dst, uint32(uint64(exp)>>32))
	dst = appendField(dst, sub)
	dst = appendField(dst, sid)
	dst = appendU32(dst, uint32(len(roles)))
	for _, r := range roles {
		dst = appendField(dst, r)
	}
	var flags byte
	if secondFactor {
		flags |= IdentitySecondFactor
	}
	return append(dst, flags)
}

// ParseIdentity decodes the identity export's output; the strings are copies. ok is
// false when the lengths do not fit. An output without the flags byte (a module built
// before it existed) reads as no flags: no second factor.
func ParseIdentity(b []byte) (sub, sid string, roles []string, exp int64, secondFactor, ok bool) {
	if len(b) < 8 {
		return "", "", nil, 0, false, false
	}
	exp = int64(uint64(le32(b)) | uint64(le32(b[4:]))<<32)
	b = b[8:]
	var f []byte
	if f, b, ok = readField(b); !ok {
		return
	}
	sub = string(f)
	if f, b, ok = readField(b); !ok {
		return
	}
	sid = string(f)
	n, b, ok := readU32(b)
	if !ok || uint64(n)*4 > uint64(len(b)) {
		return "", "", nil, 0, false, false
	}
	if n > 0 {
		roles = make([]string, n)
	}
	for i := range roles {
		if f, b, ok = readField(b); !ok {
			return "", "", nil, 0, false, false
		}
		roles[i] = string(f)
	}
	switch len(b) {
	case 0:
		return sub, sid, roles, exp, false, true
	case 1:
		return sub, sid, roles, exp, b[0]&IdentitySecondFactor != 0, b[0]&^IdentitySecondFactor == 0
	}
	return "", "", nil, 0, false, false
}

// ReadField splits a u32 LE length-prefixed field off b.
func ReadField(b []byte) (field, rest []byte, ok bool) { return readField(b) }

func readField(b []byte) ([]byte, []byte, bool) {
	n, b, ok := readU32(b)
	if !ok || uint64(n) > uint64(len(b)) {
		return nil, b, false
	}
	return b[:n], b[n:], true
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func appendField(dst []byte, s string) []byte {
	return append(appendU32(dst, uint32(len(s))), s...)
}

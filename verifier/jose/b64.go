package jose

// Strict base64url (RFC 4648 §5) without padding, as JWS requires (RFC 7515 §2).
//
// The decoder is hand-written rather than encoding/base64's so that exactly one
// encoding of each byte string is accepted: padding, any character outside the
// alphabet (including '+', '/', '=', CR and LF, which encoding/base64 skips), a length
// of 1 mod 4, and non-zero unused trailing bits are all refused. One token therefore has
// one spelling, which matters for anything keyed by token bytes (the verified-token
// cache).

// b64Value maps a byte to its 6-bit value, or 0xFF when it is not in the alphabet.
var b64Value = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xFF
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// decodedLen returns the decoded size of n base64url characters, or -1 when no
// unpadded encoding has that length.
func decodedLen(n int) int {
	if n%4 == 1 {
		return -1
	}
	return n/4*3 + (n%4*6)/8
}

// appendB64 decodes src, appends the bytes to dst, and reports whether src was a
// canonical unpadded base64url encoding.
func appendB64(dst, src []byte) ([]byte, bool) {
	n := decodedLen(len(src))
	if n < 0 {
		return dst, false
	}
	// The bytes are stored by index into room made once: append per byte is a runtime
	// call in TinyGo, and tokens are decoded on every cold verification.
	start := len(dst)
	if cap(dst)-start < n {
		dst = append(dst, make([]byte, n)...)
	}
	dst = dst[:start+n]
	out := dst[start:]
	i, j := 0, 0
	for ; i+4 <= len(src); i, j = i+4, j+3 {
		a, b, c, d := b64Value[src[i]], b64Value[src[i+1]], b64Value[src[i+2]], b64Value[src[i+3]]
		if (a|b|c|d)&0xC0 != 0 { // 0xFF (not in the alphabet) has these bits set
			return dst[:start], false
		}
		v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(d)
		out[j], out[j+1], out[j+2] = byte(v>>16), byte(v>>8), byte(v)
	}
	switch len(src) - i {
	case 2:
		a, b := b64Value[src[i]], b64Value[src[i+1]]
		if (a|b)&0xC0 != 0 || b&0x0F != 0 { // 4 unused bits must be zero
			return dst[:start], false
		}
		out[j] = a<<2 | b>>4
	case 3:
		a, b, c := b64Value[src[i]], b64Value[src[i+1]], b64Value[src[i+2]]
		if (a|b|c)&0xC0 != 0 || c&0x03 != 0 { // 2 unused bits must be zero
			return dst[:start], false
		}
		out[j], out[j+1] = a<<2|b>>4, b<<4|c>>2
	}
	return dst, true
}

// decodeB64 decodes a canonical unpadded base64url string into a new slice.
func decodeB64(src []byte) ([]byte, bool) {
	n := decodedLen(len(src))
	if n < 0 {
		return nil, false
	}
	return appendB64(make([]byte, 0, n), src)
}

// decodeB64String is decodeB64 for JSON string values (JWK members).
func decodeB64String(s string) ([]byte, bool) { return decodeB64([]byte(s)) }

// Package words scans strings eight bytes at a time: one 64-bit load and a few
// arithmetic operations per eight bytes instead of a load, a bounds check and a branch
// per byte. A repeat visitor's decision reads its ~300-byte access token several
// times (cookie scan, UTF-8 check, hash, cache compare), and inside wasm, where TinyGo
// compiles these loops without vector instructions, the byte loops were most of it.
//
// Every function gives exactly the result of the simple byte loop it replaces (the
// tests compare them at every length and position). TinyGo-safe: no reflection, no
// allocation.
package words

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

const (
	lo = 0x0101010101010101 // 0x01 in every byte
	hi = 0x8080808080808080 // 0x80 in every byte
)

// Load64 returns the eight bytes of s at i as a little-endian word. The caller makes
// sure that i+8 <= len(s).
func Load64(s string, i int) uint64 {
	return binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))
}

// zeroBytes has the high bit set in the lowest byte of w that is zero, and possibly in
// higher bytes (a borrow only moves up); no bit is set when no byte is zero. So the
// lowest set bit, and whether any is set, are exact.
func zeroBytes(w uint64) uint64 { return (w - lo) & ^w & hi }

// IndexByte returns the index of the first c in s, or -1.
func IndexByte(s string, c byte) int {
	i := 0
	if len(s) >= 8 {
		pat := lo * uint64(c)
		for ; i <= len(s)-8; i += 8 {
			if z := zeroBytes(Load64(s, i) ^ pat); z != 0 {
				return i + bits.TrailingZeros64(z)>>3
			}
		}
	}
	for ; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// ASCII reports whether every byte of s is below 0x80.
func ASCII(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if Load64(s, i)&hi != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// Equal reports whether a and b are the same bytes. (Go's == compiles to a vectorised
// compare natively; TinyGo's compares a byte at a time.)
func Equal(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	i := 0
	for ; i+8 <= len(a); i += 8 {
		if Load64(a, i) != Load64(b, i) {
			return false
		}
	}
	for ; i < len(a); i++ {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Package words scans strings eight bytes at a time: one 64-bit load and a few
// arithmetic operations per eight bytes instead of a load, a bounds check and a branch
// per byte. A repeat visitor's decision reads its ~300-byte access token several
// times (cookie scan, UTF-8 check, cache compare), and inside wasm, where TinyGo
// compiles these loops without vector instructions and wazero checks every load, the
// byte loops were most of it.
//
// Every function gives exactly the result of the simple byte loop it replaces (the
// tests compare them at every length, position and offset). The loops take two words
// per step, and a string of eight bytes or more ends with one word that overlaps the
// last step rather than a byte loop. TinyGo-safe: no reflection, no allocation.
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

// Load64 returns the eight bytes of s at i as a little-endian word. It checks no
// bounds: the caller makes sure that 0 <= i and i+8 <= len(s).
func Load64(s string, i int) uint64 {
	return binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(unsafe.Pointer(unsafe.StringData(s)), i))[:])
}

// zeroBytes has the high bit set in the lowest byte of w that is zero, and possibly in
// higher bytes (a borrow only moves up); no bit is set when no byte is zero. So the
// lowest set bit, and whether any is set, are exact.
func zeroBytes(w uint64) uint64 { return (w - lo) & ^w & hi }

// IndexByte returns the index of the first c in s, or -1.
func IndexByte(s string, c byte) int {
	n := len(s)
	if n < 8 {
		for i := 0; i < n; i++ {
			if s[i] == c {
				return i
			}
		}
		return -1
	}
	pat := lo * uint64(c)
	i := 0
	for ; i+16 <= n; i += 16 {
		z0, z1 := zeroBytes(Load64(s, i)^pat), zeroBytes(Load64(s, i+8)^pat)
		if z0|z1 != 0 {
			if z0 != 0 {
				return i + bits.TrailingZeros64(z0)>>3
			}
			return i + 8 + bits.TrailingZeros64(z1)>>3
		}
	}
	if i+8 <= n {
		if z := zeroBytes(Load64(s, i) ^ pat); z != 0 {
			return i + bits.TrailingZeros64(z)>>3
		}
		i += 8
	}
	if i < n {
		// The last word overlaps bytes already read, none of which is c: its lowest
		// match is the first one.
		if z := zeroBytes(Load64(s, n-8) ^ pat); z != 0 {
			return n - 8 + bits.TrailingZeros64(z)>>3
		}
	}
	return -1
}

// ASCII reports whether every byte of s is below 0x80.
func ASCII(s string) bool {
	n := len(s)
	if n < 8 {
		for i := 0; i < n; i++ {
			if s[i] >= 0x80 {
				return false
			}
		}
		return true
	}
	// One word per step: with two words OR-ed together, LLVM (TinyGo's wasm build)
	// combined only the first word's byte loads into one load and read the second
	// byte by byte, eight loads, shifts and ORs a step.
	for i := 0; i+8 < n; i += 8 {
		if Load64(s, i)&hi != 0 {
			return false
		}
	}
	return Load64(s, n-8)&hi == 0
}

// Equal reports whether a and b are the same bytes. (Go's == compiles to a vectorised
// compare natively; TinyGo's compares a byte at a time.)
func Equal(a, b string) bool {
	n := len(a)
	if n != len(b) {
		return false
	}
	if n < 8 {
		for i := 0; i < n; i++ {
			if a[i] != b[i] {
				return false
			}
		}
		return true
	}
	i := 0
	for ; i+16 <= n; i += 16 {
		if (Load64(a, i)^Load64(b, i))|(Load64(a, i+8)^Load64(b, i+8)) != 0 {
			return false
		}
	}
	if i+8 <= n {
		if Load64(a, i) != Load64(b, i) {
			return false
		}
	}
	return Load64(a, n-8) == Load64(b, n-8)
}

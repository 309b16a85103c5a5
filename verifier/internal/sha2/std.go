//go:build !tinygo

package sha2

import (
	"crypto/sha256"
	"crypto/sha512"
)

// Sum256 is SHA-256 of data.
func Sum256(data []byte) [32]byte { return sha256.Sum256(data) }

// Sum512 sets out to SHA-512 of a || b || c.
func Sum512(out *[64]byte, a, b, c []byte) {
	h := sha512.New()
	h.Write(a)
	h.Write(b)
	h.Write(c)
	h.Sum(out[:0])
}

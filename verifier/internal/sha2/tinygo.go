//go:build tinygo

package sha2

// Sum256 is SHA-256 of data.
func Sum256(data []byte) [32]byte { return sum256Generic(data) }

// Sum512 sets out to SHA-512 of a || b || c.
func Sum512(out *[64]byte, a, b, c []byte) { sum512Generic(out, a, b, c) }

package sha2

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	mrand "math/rand/v2"
	"testing"
)

// FIPS 180-4's examples (NIST CSRC "Example Values"): "abc" and the two-block message.
func TestKnownAnswers(t *testing.T) {
	const two256 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
	const two512 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
	for _, c := range []struct{ msg, want string }{
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{two256, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
	} {
		if got := sum256Generic([]byte(c.msg)); hex.EncodeToString(got[:]) != c.want {
			t.Errorf("SHA-256(%q) = %x, want %s", c.msg, got, c.want)
		}
	}
	for _, c := range []struct{ msg, want string }{
		{"abc", "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
		{two512, "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909"},
	} {
		var got [64]byte
		sum512Generic(&got, []byte(c.msg), nil, nil)
		if hex.EncodeToString(got[:]) != c.want {
			t.Errorf("SHA-512(%q) = %x, want %s", c.msg, got, c.want)
		}
	}
}

// TestMatchesStandardLibrary checks the generic code against crypto/sha256 and
// crypto/sha512 for every length from 0 to 600 (all padding cases, one to five blocks)
// and, for SHA-512, every way of cutting short messages into three parts and random
// cuts of long ones (Ed25519 hashes R || A || M: 32 + 32 + any).
func TestMatchesStandardLibrary(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(3, 4))
	data := make([]byte, 600)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	for n := 0; n <= len(data); n++ {
		msg := data[:n]
		if got, want := sum256Generic(msg), sha256.Sum256(msg); got != want {
			t.Fatalf("SHA-256 of %d bytes: %x, want %x", n, got, want)
		}
		want := sha512.Sum512(msg)
		cuts := [][2]int{{0, 0}, {n, n}, {rng.IntN(n + 1), 0}}
		cuts[2][1] = cuts[2][0] + rng.IntN(n-cuts[2][0]+1)
		if n <= 260 {
			for i := 0; i <= n; i += 1 + n/40 {
				for j := i; j <= n; j += 1 + n/40 {
					cuts = append(cuts, [2]int{i, j})
				}
			}
		}
		for _, c := range cuts {
			var got [64]byte
			sum512Generic(&got, msg[:c[0]], msg[c[0]:c[1]], msg[c[1]:])
			if got != want {
				t.Fatalf("SHA-512 of %d bytes cut at %v: %x, want %x", n, c, got, want)
			}
		}
	}
}

// The native entry points are the standard library's; they must agree too.
func TestEntryPoints(t *testing.T) {
	msg := []byte("R-bytes-R-bytes-R-bytes-R-bytes!A-bytes-A-bytes-A-bytes-A-bytes!message")
	if got, want := Sum256(msg), sum256Generic(msg); got != want {
		t.Fatalf("Sum256 %x, generic %x", got, want)
	}
	var got, want [64]byte
	Sum512(&got, msg[:32], msg[32:64], msg[64:])
	sum512Generic(&want, msg, nil, nil)
	if got != want {
		t.Fatalf("Sum512 %x, generic %x", got, want)
	}
}

func TestNoAllocations(t *testing.T) {
	msg := make([]byte, 300)
	var out [64]byte
	if n := testing.AllocsPerRun(10, func() {
		_ = sum256Generic(msg)
		sum512Generic(&out, msg[:32], msg[32:64], msg[64:])
	}); n != 0 {
		t.Fatalf("%v allocations per run", n)
	}
}

func FuzzSums(f *testing.F) {
	f.Add([]byte("abc"), uint16(1), uint16(2))
	f.Add(make([]byte, 200), uint16(32), uint16(64))
	f.Fuzz(func(t *testing.T, msg []byte, i, j uint16) {
		if got, want := sum256Generic(msg), sha256.Sum256(msg); got != want {
			t.Fatalf("SHA-256 of %x: %x, want %x", msg, got, want)
		}
		a := min(int(i), len(msg))
		b := min(max(int(j), a), len(msg))
		var got [64]byte
		sum512Generic(&got, msg[:a], msg[a:b], msg[b:])
		if want := sha512.Sum512(msg); got != want {
			t.Fatalf("SHA-512 of %x cut at %d, %d: %x, want %x", msg, a, b, got, want)
		}
	})
}

package p256_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/p256"
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// A key is parsed once (that is where its precomputation happens) and then verifies
// many ES256 signatures: raw R||S over the SHA-256 digest of the signing input.
func ExamplePublicKey_Verify() {
	key, err := p256.ParsePublicKey(
		mustHex("8fa58158be064091c40393707fea3bc17d3a304af7fd4ad77eef5584f107ba02"),
		mustHex("0acf536bc9476d30b96c864a493a8a0d0ee44d17bc911d7dfe4e41e1b4d0430f"),
	)
	if err != nil {
		panic(err)
	}
	sig := mustHex("a308f2d950d34757e7102dd640c722a30147a0e5cb93d3c8d13fa3680e75ffb7" +
		"7b41b6b229cd792530a143f1f89f6a8a2d557afe53b6e597d29365fc717e795a")

	digest := sha256.Sum256([]byte("hello, edge"))
	fmt.Println(key.Verify(digest[:], sig))
	other := sha256.Sum256([]byte("hello, edgf"))
	fmt.Println(key.Verify(other[:], sig))
	// Output:
	// true
	// false
}

func ExampleParsePublicKey() {
	// (x, x) is not a point of the curve.
	x := mustHex("8fa58158be064091c40393707fea3bc17d3a304af7fd4ad77eef5584f107ba02")
	_, err := p256.ParsePublicKey(x, x)
	fmt.Println(errors.Is(err, p256.ErrInvalidPublicKey), errors.Is(err, abi.ErrInvalidKeySet))
	// Output: true true
}

package ed25519verify_test

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/ed25519verify"
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// A key is parsed once (that is where its precomputation happens) and then verifies
// many EdDSA signatures. The values are RFC 8032's test 2 (section 7.1).
func ExamplePublicKey_Verify() {
	key, err := ed25519verify.ParsePublicKey(mustHex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"))
	if err != nil {
		panic(err)
	}
	msg := []byte{0x72}
	sig := mustHex("92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da" +
		"085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00")
	fmt.Println("valid:", key.Verify(msg, sig))
	fmt.Println("other message:", key.Verify([]byte{0x73}, sig))

	// 32 bytes that are not a curve point are refused when parsed.
	_, err = ed25519verify.ParsePublicKey(append([]byte{2}, make([]byte, 31)...))
	fmt.Println("bad key:", errors.Is(err, abi.ErrInvalidKeySet))
	// Output:
	// valid: true
	// other message: false
	// bad key: true
}

package jose_test

import (
	"errors"
	"fmt"

	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
	"github.com/edgeauth/edgeauth/verifier/jose"
)

func ExampleValidator_Verify() {
	ks, err := jose.ParseJWKS(vectors.JWKS()) // the issuer's published JWKS
	if err != nil {
		panic(err)
	}
	v := &jose.Validator{
		Issuer:     "https://auth.example.test",
		Audience:   "https://app.example.test",
		Algorithms: []jose.Algorithm{jose.EdDSA},
		Leeway:     30,
	}
	token := vectors.EdDSAKey().Token(vectors.Claims(vectors.Now))

	claims, err := v.Verify([]byte(token), ks, vectors.Now)
	fmt.Println(claims.Subject, claims.Roles, err)

	_, err = v.Verify([]byte(token), ks, vectors.Now+3600)
	fmt.Println(errors.Is(err, abi.ErrExpired))
	// Output:
	// user-42 [admin billing] <nil>
	// true
}

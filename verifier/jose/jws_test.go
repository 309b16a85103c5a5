package jose_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
	"github.com/edgeauth/edgeauth/verifier/jose"
)

// TestVerifyJWS covers the generic path used for the revocation list.
func TestVerifyJWS(t *testing.T) {
	ks := mustKeySet(t, vectors.JWKS())
	ed := vectors.EdDSAKey()
	algs := []jose.Algorithm{jose.EdDSA}
	hdr := func(typ string) []byte {
		return vectors.MustJSON(map[string]any{"alg": "EdDSA", "kid": vectors.KIDEdDSA, "typ": typ})
	}
	sids := make([]string, 3000) // a long list: far above MaxTokenBytes
	for i := range sids {
		sids[i] = "c2Vzc2lvbi0xMjM0NTY3ODkwYWJj" + itoa(i)
	}
	list := vectors.MustJSON(map[string]any{"iss": vectors.Issuer, "iat": vectors.Now, "exp": vectors.Now + 120, "sids": sids})
	cases := []struct {
		name  string
		token string
		typ   string
		want  error
	}{
		{"revocation list", ed.Sign(hdr(jose.RevocationListType), list), jose.RevocationListType, nil},
		{"typ with application/ prefix", ed.Sign(hdr("application/"+jose.RevocationListType), list), jose.RevocationListType, nil},
		{"access token offered as list", ed.Token(vectors.Claims(vectors.Now)), jose.RevocationListType, abi.ErrInvalidType},
		{"list offered as access token type", ed.Sign(hdr(jose.RevocationListType), list), jose.AccessTokenType, abi.ErrInvalidType},
		{"payload not an object", ed.Sign(hdr(jose.RevocationListType), []byte(`[1]`)), jose.RevocationListType, abi.ErrMalformed},
		{"payload duplicate", ed.Sign(hdr(jose.RevocationListType), []byte(`{"sids":[],"sids":["x"]}`)), jose.RevocationListType, abi.ErrMalformed},
		{"other algorithm", vectors.ES256Key().Sign(vectors.MustJSON(map[string]any{"alg": "ES256", "kid": vectors.KIDES256, "typ": jose.RevocationListType}), list), jose.RevocationListType, abi.ErrAlgorithmNotAllowed},
		{"over MaxJWSBytes", ed.Sign(hdr(jose.RevocationListType), []byte(`{"x":"`+strings.Repeat("a", jose.MaxJWSBytes)+`"}`)), jose.RevocationListType, abi.ErrTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := jose.VerifyJWS([]byte(tc.token), ks, algs, tc.typ)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("VerifyJWS error = %v, want %v", err, tc.want)
			}
			if tc.want == nil {
				s, ok := p.Get("sids")
				if !ok || len(s.Array()) != len(sids) {
					t.Fatal("sids not returned")
				}
			}
		})
	}
	if len(cases[0].token) <= jose.MaxTokenBytes {
		t.Fatal("the list should exceed the access-token limit")
	}
	if _, err := jose.VerifyJWS([]byte(cases[0].token), ks, nil, jose.RevocationListType); !errors.Is(err, abi.ErrAlgorithmNotAllowed) {
		t.Fatalf("nil allow-list: %v", err)
	}
	if _, err := jose.VerifyJWS([]byte(cases[0].token), nil, algs, jose.RevocationListType); !errors.Is(err, abi.ErrUnknownKey) {
		t.Fatalf("nil key set: %v", err)
	}
}

func TestValidatorConfig(t *testing.T) {
	ks := mustKeySet(t, vectors.JWKS())
	token := []byte(vectors.EdDSAKey().Token(vectors.Claims(vectors.Now)))
	for _, tc := range []struct {
		name string
		edit func(*jose.Validator)
	}{
		{"no issuer", func(v *jose.Validator) { v.Issuer = "" }},
		{"no audience", func(v *jose.Validator) { v.Audience = "" }},
		{"no algorithms", func(v *jose.Validator) { v.Algorithms = nil }},
		{"negative leeway", func(v *jose.Validator) { v.Leeway = -1 }},
		{"leeway too large", func(v *jose.Validator) { v.Leeway = jose.MaxLeeway + 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := defaultValidator()
			tc.edit(v)
			if _, err := v.Verify(token, ks, vectors.Now); !errors.Is(err, abi.ErrInvalidConfig) {
				t.Fatalf("error = %v, want ErrInvalidConfig", err)
			}
		})
	}
	v := defaultValidator()
	v.Type = "custom+jwt"
	if _, err := v.Verify(token, ks, vectors.Now); !errors.Is(err, abi.ErrInvalidType) {
		t.Fatalf("custom Type: %v", err)
	}
}

// TestErrorsCarryNoSecrets: messages name the check, never token or key bytes.
func TestErrorsCarryNoSecrets(t *testing.T) {
	for _, tc := range vectors.Attacks() {
		if tc.WantErr == nil {
			continue
		}
		var err error
		if k, kerr := jose.ParseJWKS(tc.JWKS); kerr != nil {
			err = kerr
		} else {
			_, err = validatorFor(tc.Config).Verify([]byte(tc.Token), k, tc.Config.Now)
		}
		msg := err.Error()
		for _, part := range strings.Split(tc.Token, ".") {
			if len(part) >= 8 && strings.Contains(msg, part) {
				t.Errorf("%s: error %q contains token material", tc.Name, msg)
			}
		}
		var je *jose.Error
		if !errors.As(err, &je) {
			t.Errorf("%s: %T is not *jose.Error", tc.Name, err)
		}
	}
}

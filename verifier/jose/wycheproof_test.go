package jose_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
	"github.com/edgeauth/edgeauth/verifier/jose"
)

func wycheproofDir(t *testing.T) string {
	t.Helper()
	dir, err := vectors.WycheproofDir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestWycheproofSignatures runs every raw signature case of the three signature files
// through ParseJWK + Key.VerifySignature: valid must verify, invalid must not.
// "acceptable" cases are counted and reported, not asserted.
func TestWycheproofSignatures(t *testing.T) {
	cases, err := vectors.Wycheproof(wycheproofDir(t))
	if err != nil {
		t.Fatal(err)
	}
	type count struct{ valid, invalid, accAccepted, accRejected int }
	counts := map[string]*count{}
	for _, tc := range cases {
		c := counts[tc.File]
		if c == nil {
			c = &count{}
			counts[tc.File] = c
		}
		key, err := jose.ParseJWK(tc.JWK)
		if err == nil {
			err = key.VerifySignature(tc.Msg, tc.Sig)
		}
		switch tc.Result {
		case "valid":
			if err != nil {
				t.Errorf("%s tcId %d (%s): valid signature refused: %v", tc.File, tc.TcID, tc.Comment, err)
			}
			c.valid++
		case "invalid":
			if err == nil {
				t.Errorf("%s tcId %d (%s): invalid signature accepted", tc.File, tc.TcID, tc.Comment)
			} else if !errors.Is(err, abi.ErrSignatureInvalid) {
				t.Errorf("%s tcId %d: error %v does not wrap ErrSignatureInvalid", tc.File, tc.TcID, err)
			}
			c.invalid++
		default:
			if err == nil {
				c.accAccepted++
			} else {
				c.accRejected++
			}
			t.Logf("%s tcId %d acceptable (%s, flags %v): accepted=%v", tc.File, tc.TcID, tc.Comment, tc.Flags, err == nil)
		}
	}
	total := 0
	for file, c := range counts {
		t.Logf("%s: valid accepted %d, invalid rejected %d, acceptable accepted %d / rejected %d",
			file, c.valid, c.invalid, c.accAccepted, c.accRejected)
		total += c.valid + c.invalid + c.accAccepted + c.accRejected
	}
	if total != 262+151+259 {
		t.Errorf("ran %d signature cases, want %d", total, 262+151+259)
	}
}

// outOfScope are JWS/JWK cases labelled valid that use HMAC keys, which this verifier
// refuses by design (a JWKS with an "oct" key is refused as a whole).
var outOfScope = map[string]bool{
	"json_web_key_test.json/2":  true,
	"json_web_key_test.json/13": true,
	"json_web_key_test.json/14": true,
	"json_web_key_test.json/15": true,
}

// TestWycheproofJWS runs the compact-JWS cases: load the group's JWKS, VerifyCompact
// the token with the three algorithms allowed. The base64 group is HS256: there the
// encoding rules are checked by VerifyCompact (a token passing them reaches the
// algorithm check, ErrAlgorithmNotAllowed) and the MAC by the test.
func TestWycheproofJWS(t *testing.T) {
	cases, err := vectors.WycheproofJWS(wycheproofDir(t))
	if err != nil {
		t.Fatal(err)
	}
	algs := []jose.Algorithm{jose.EdDSA, jose.ES256, jose.RS256}
	var validOK, invalidOK, defective, skipped int
	for _, tc := range cases {
		id := tc.File + "/" + itoa(tc.TcID)
		var accepted bool
		var err error
		if tc.MACKey != nil {
			_, err = jose.VerifyCompact([]byte(tc.Token), nil, nil, "")
			accepted = errors.Is(err, abi.ErrAlgorithmNotAllowed) && macOK(tc.Token, tc.MACKey)
		} else {
			var ks *jose.KeySet
			ks, err = jose.ParseJWKS(tc.JWKS)
			if err == nil {
				_, err = jose.VerifyCompact([]byte(tc.Token), ks, algs, "")
			}
			accepted = err == nil
		}
		want := tc.Result == "valid"
		switch {
		case accepted == want && want:
			validOK++
		case accepted == want:
			invalidOK++
		case tc.File == "json_web_signature_test.json" && vectors.DefectiveJWS[tc.TcID] != "":
			defective++
			t.Logf("tcId %d (%s): labelled %s, we %s: known defective (%s)", tc.TcID, tc.Comment, tc.Result,
				map[bool]string{true: "accept", false: "reject"}[accepted], vectors.DefectiveJWS[tc.TcID])
		case outOfScope[id]:
			skipped++
			t.Logf("%s (%s/%s): labelled valid, refused: HMAC is out of scope (%v)", id, tc.Group, tc.Comment, err)
		default:
			t.Errorf("%s (%s/%s): labelled %s, accepted=%v (err %v)", id, tc.Group, tc.Comment, tc.Result, accepted, err)
		}
	}
	t.Logf("JWS/JWK cases: %d; valid accepted %d, invalid rejected %d, known-defective %d, HMAC out of scope %d",
		len(cases), validOK, invalidOK, defective, skipped)
	if len(cases) < 300 {
		t.Errorf("only %d JWS cases loaded", len(cases))
	}
}

func macOK(token string, key []byte) bool {
	i := strings.LastIndexByte(token, '.')
	if i < 0 {
		return false
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(token[i+1:])
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(token[:i]))
	return hmac.Equal(m.Sum(nil), sig)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

package jose_test

import (
	"bytes"
	"crypto/ecdh"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/strictjson"
	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
	"github.com/edgeauth/edgeauth/verifier/jose"
)

// FuzzCompactJWS feeds arbitrary tokens to Validator.Verify with the fixed test keys.
// Properties: no panic; every error maps to a named status (never StatusInternal);
// whatever we accept is compact, canonical, and accepted by golang-jwt with the same
// settings (we are meant to be strictly stricter).
func FuzzCompactJWS(f *testing.F) {
	for _, tc := range vectors.Attacks() {
		if len(tc.Token) < 4096 {
			f.Add(tc.Token)
		}
	}
	ks := mustKeySet(f, vectors.JWKS())
	v := defaultValidator()
	pubs := map[string]any{}
	for _, k := range vectors.Keys() {
		pubs[k.KID+"/"+k.Alg] = k.Private.Public()
	}
	f.Fuzz(func(t *testing.T, token string) {
		claims, err := v.Verify([]byte(token), ks, vectors.Now)
		if err != nil {
			if abi.StatusOf(err) == abi.StatusInternal {
				t.Fatalf("error without a sentinel: %v", err)
			}
			return
		}
		if strings.Count(token, ".") != 2 || strings.ContainsAny(token, "=+/ \n") {
			t.Fatalf("accepted non-compact token %q", token)
		}
		if claims.Subject == "" || claims.SessionID == "" || claims.ExpiresAt <= vectors.Now-vectors.Leeway {
			t.Fatalf("accepted claims %+v", claims)
		}
		_, gerr := jwt.Parse(token, func(tk *jwt.Token) (any, error) {
			kid, _ := tk.Header["kid"].(string)
			return pubs[kid+"/"+tk.Method.Alg()], nil
		}, jwt.WithValidMethods([]string{"EdDSA", "ES256", "RS256"}), jwt.WithIssuer(vectors.Issuer),
			jwt.WithAudience(vectors.Audience), jwt.WithLeeway(time.Duration(vectors.Leeway)*time.Second),
			jwt.WithTimeFunc(func() time.Time { return time.Unix(vectors.Now, 0) }), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
		if gerr != nil {
			t.Fatalf("we accepted what golang-jwt refuses (%v): %q", gerr, token)
		}
	})
}

// FuzzParseJWKS checks ParseJWKS against its documented rules: every error is
// ErrInvalidKeySet; the set-wide refusals (not a strict JSON object with a "keys"
// array of at most MaxKeys objects, a kty "oct" anywhere, a kid repeated) are decided
// over encoding/json; otherwise the set holds exactly, in document order, the members
// ParseJWK accepts with a non-empty kid, and each accepted key's material checks out
// with the standard library (x of 32 bytes, a P-256 point crypto/ecdh accepts, the
// RSA modulus and exponent as given and in range).
func FuzzParseJWKS(f *testing.F) {
	f.Add(vectors.JWKS())
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"AAAA"}]}`))
	ed, rs := vectors.EdDSAKey().PublicJWK(), vectors.RS256Key().PublicJWK()
	f.Add(vectors.JWKS(ed, ed))
	f.Add(vectors.JWKS(rs, map[string]any{"kty": "oct", "kid": "h", "k": "AAAA"}))
	f.Add(vectors.JWKS(jwk(vectors.ES256Key(), "key_ops", []string{"verify"}, "use", "sig"), jwk(vectors.EdDSAKey(), "kid", "")))
	f.Add([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":"a","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ks, err := jose.ParseJWKS(data)
		if err != nil && abi.StatusOf(err) != abi.StatusInvalidKeySet {
			t.Fatalf("error %v is not ErrInvalidKeySet", err)
		}
		elems, ok := refJWKSElements(data)
		if !ok {
			if err == nil {
				t.Fatalf("accepted %q, which the set-wide rules refuse", data)
			}
			return
		}
		var want []*jose.Key
		for _, e := range elems {
			if k, err := jose.ParseJWK(e); err == nil && k.KID != "" {
				want = append(want, k)
			}
		}
		if err != nil {
			if len(want) != 0 {
				t.Fatalf("refused %q (%v), which has %d usable keys", data, err, len(want))
			}
			return
		}
		got := ks.Keys()
		if len(got) != len(want) {
			t.Fatalf("%q: %d keys, ParseJWK accepts %d", data, len(got), len(want))
		}
		for i, k := range got {
			if k.KID != want[i].KID || k.Alg != want[i].Alg || k.Index() != i {
				t.Fatalf("%q: key %d is %q/%s (index %d), ParseJWK gives %q/%s", data, i, k.KID, k.Alg, k.Index(), want[i].KID, want[i].Alg)
			}
		}
		for _, e := range elems {
			var m map[string]any
			if json.Unmarshal(e, &m) != nil {
				t.Fatalf("member %q", e)
			}
			kid, _ := m["kid"].(string)
			alg, _ := m["alg"].(string)
			if k, ok := ks.Lookup(kid, jose.Algorithm(alg)); ok {
				checkKeyMaterial(t, k, m)
			}
		}
	})
}

// refJWKSElements applies ParseJWKS's set-wide rules with encoding/json (strictjson
// only says whether the document is acceptable JSON at all) and returns the raw members
// of "keys".
func refJWKSElements(data []byte) ([]json.RawMessage, bool) {
	if _, err := strictjson.Parse(data, strictjson.Limits{MaxBytes: jose.MaxJWKSBytes, MaxDepth: 5}); err != nil {
		return nil, false
	}
	var doc map[string]json.RawMessage
	var elems []json.RawMessage
	if json.Unmarshal(data, &doc) != nil || doc == nil || json.Unmarshal(doc["keys"], &elems) != nil ||
		elems == nil || len(elems) > jose.MaxKeys {
		return nil, false
	}
	kids := map[string]bool{}
	for _, e := range elems {
		var m map[string]any
		if json.Unmarshal(e, &m) != nil || m == nil || m["kty"] == "oct" {
			return nil, false
		}
		if kid, ok := m["kid"].(string); ok {
			if kids[kid] {
				return nil, false
			}
			kids[kid] = true
		}
	}
	return elems, true
}

// checkKeyMaterial checks an accepted key against its JWK member m with the standard
// library.
func checkKeyMaterial(t *testing.T, k *jose.Key, m map[string]any) {
	t.Helper()
	b64 := func(name string) []byte {
		s, _ := m[name].(string)
		b, err := base64.RawURLEncoding.Strict().DecodeString(s)
		if err != nil || base64.RawURLEncoding.EncodeToString(b) != s {
			t.Fatalf("key %q accepted with %s %q", k.KID, name, s)
		}
		return b
	}
	for _, p := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
		if _, ok := m[p]; ok {
			t.Fatalf("key %q accepted with private member %q", k.KID, p)
		}
	}
	if use, ok := m["use"]; ok && use != "sig" {
		t.Fatalf("key %q accepted with use %v", k.KID, use)
	}
	if ops, ok := m["key_ops"]; ok {
		list, _ := ops.([]any)
		verify := false
		for _, o := range list {
			s, isStr := o.(string)
			if !isStr {
				t.Fatalf("key %q accepted with key_ops %v", k.KID, ops)
			}
			verify = verify || s == "verify"
		}
		if !verify {
			t.Fatalf("key %q accepted with key_ops %v", k.KID, ops)
		}
	}
	switch kty, crv := m["kty"], m["crv"]; {
	case k.Alg == jose.EdDSA && kty == "OKP" && crv == "Ed25519":
		if len(b64("x")) != 32 {
			t.Fatalf("Ed25519 key %q accepted with x of %d bytes", k.KID, len(b64("x")))
		}
	case k.Alg == jose.ES256 && kty == "EC" && crv == "P-256":
		if _, err := ecdh.P256().NewPublicKey(append(append([]byte{4}, b64("x")...), b64("y")...)); err != nil {
			t.Fatalf("P-256 key %q accepted: %v", k.KID, err)
		}
	case k.Alg == jose.RS256 && kty == "RSA":
		e, n, ok := k.RSAPublic()
		bn, be := new(big.Int).SetBytes(b64("n")), new(big.Int).SetBytes(b64("e"))
		if !ok || !bytes.Equal(n, b64("n")) || !be.IsInt64() || be.Int64() != int64(e) ||
			bn.BitLen() < 2048 || bn.BitLen() > 8192 || bn.Bit(0) == 0 || e < 3 || e%2 == 0 ||
			len(b64("n")) != (bn.BitLen()+7)/8 || len(b64("e")) != (be.BitLen()+7)/8 {
			t.Fatalf("RSA key %q accepted with n %d bits, e %v", k.KID, bn.BitLen(), be)
		}
	default:
		t.Fatalf("key %q accepted as %s from kty %v crv %v", k.KID, k.Alg, kty, crv)
	}
}

// FuzzRevocationList signs any payload with the EdDSA test key, so the signature holds
// and the payload rules decide, and checks VerifyRevocationList against a reference
// written with encoding/json and math/big (no int64 arithmetic to wrap): the same
// verdict, and for an accepted list the same times and session ids.
func FuzzRevocationList(f *testing.F) {
	for _, s := range []string{
		`{"iss":%q,"iat":%d,"exp":%d,"sids":["a","b"],"seq":7}`,
		`{"iss":%q,"iat":%d,"exp":%d,"sids":[],"before":1000}`,
		`{"iss":%q,"iat":%d,"exp":%d,"sids":["a"],"before":-0}`,
		`{"iss":%q,"iss":"x","iat":%d,"exp":%de0,"sids":[1]}`,
	} {
		f.Add([]byte(fmt.Sprintf(s, vectors.Issuer, vectors.Now, vectors.Now+60)), int16(0))
	}
	f.Add([]byte(`{"iss":"`+vectors.Issuer+`","iat":-2,"exp":9223372036854775807,"sids":["a"]}`), int16(0))
	ks := mustKeySet(f, vectors.JWKS())
	ed := vectors.EdDSAKey()
	hdr := vectors.MustJSON(map[string]any{"alg": "EdDSA", "kid": vectors.KIDEdDSA, "typ": jose.RevocationListType})
	algs := []jose.Algorithm{jose.EdDSA}
	const leeway = 30
	f.Fuzz(func(t *testing.T, payload []byte, dt int16) {
		if len(payload) > 4096 {
			return // the list would pass MaxJWSBytes: a size refusal, covered elsewhere
		}
		now := vectors.Now + int64(dt)
		got, err := jose.VerifyRevocationList([]byte(ed.Sign(hdr, payload)), ks, algs, vectors.Issuer, leeway, now)
		want, ok := refRevocationList(payload, vectors.Issuer, leeway, now)
		if err != nil && !errors.Is(err, abi.ErrInvalidRevocationList) {
			t.Fatalf("error %v is not ErrInvalidRevocationList", err)
		}
		if (err == nil) != ok || (ok && !reflect.DeepEqual(got, want)) {
			t.Fatalf("payload %q at now %d: got %+v, %v; reference %+v, ok %v", payload, now, got, err, want, ok)
		}
	})
}

// refRevocationList is the payload rules of VerifyRevocationList (its doc comment)
// over encoding/json. strictjson says only whether the payload is acceptable JSON at
// all (duplicate names, depth, UTF-8), which FuzzStrictJSON checks against encoding/json.
func refRevocationList(payload []byte, issuer string, leeway, now int64) (jose.RevocationList, bool) {
	if _, err := strictjson.Parse(payload, strictjson.Limits{MaxBytes: len(payload) + 1, MaxDepth: jose.MaxJSONDepth}); err != nil {
		return jose.RevocationList{}, false
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil || m == nil {
		return jose.RevocationList{}, false
	}
	integer := func(name string) (*big.Int, bool) {
		n, ok := m[name].(json.Number)
		if !ok || !intSyntax.MatchString(string(n)) {
			return nil, false
		}
		v, _ := new(big.Int).SetString(string(n), 10)
		return v, v.IsInt64()
	}
	iss, _ := m["iss"].(string)
	iat, ok1 := integer("iat")
	exp, ok2 := integer("exp")
	if iss != issuer || !ok1 || !ok2 || iat.Cmp(exp) >= 0 ||
		new(big.Int).Sub(exp, iat).Cmp(big.NewInt(jose.MaxRevocationLifetime)) > 0 ||
		iat.Cmp(new(big.Int).Add(big.NewInt(now), big.NewInt(leeway))) > 0 || exp.Cmp(big.NewInt(now)) <= 0 {
		return jose.RevocationList{}, false
	}
	out := jose.RevocationList{IssuedAt: iat.Int64(), ExpiresAt: exp.Int64(), SessionIDs: []string{}}
	if _, present := m["before"]; present {
		b, ok := integer("before")
		if !ok || b.Sign() < 0 || b.Cmp(iat) > 0 {
			return jose.RevocationList{}, false
		}
		out.Before = b.Int64()
	}
	sids, ok := m["sids"].([]any)
	if !ok {
		return jose.RevocationList{}, false
	}
	for _, v := range sids {
		s, ok := v.(string)
		if !ok || s == "" {
			return jose.RevocationList{}, false
		}
		out.SessionIDs = append(out.SessionIDs, s)
	}
	return out, true
}

// intSyntax is a JSON integer as the verifier reads one: no fraction, no exponent, no
// leading zero and no "-0".
var intSyntax = regexp.MustCompile(`^(0|-?[1-9][0-9]*)$`)

package jose_test

import (
	"bytes"
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

// FuzzParseJWKS: no panic; an accepted set has usable keys with unique, non-empty kids.
func FuzzParseJWKS(f *testing.F) {
	f.Add(vectors.JWKS())
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"AAAA"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":"a","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ks, err := jose.ParseJWKS(data)
		if err != nil {
			if abi.StatusOf(err) != abi.StatusInvalidKeySet {
				t.Fatalf("error %v is not ErrInvalidKeySet", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, k := range ks.Keys() {
			if k.KID == "" || seen[k.KID] {
				t.Fatalf("kid %q empty or repeated", k.KID)
			}
			seen[k.KID] = true
			if k.Alg != jose.EdDSA && k.Alg != jose.ES256 && k.Alg != jose.RS256 {
				t.Fatalf("key with alg %q", k.Alg)
			}
		}
	})
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

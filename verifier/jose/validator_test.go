package jose_test

import (
	"errors"
	"math"
	"testing"

	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
	"github.com/edgeauth/edgeauth/verifier/jose"
)

func mustKeySet(t testing.TB, jwks []byte) *jose.KeySet {
	t.Helper()
	ks, err := jose.ParseJWKS(jwks)
	if err != nil {
		t.Fatalf("ParseJWKS: %v", err)
	}
	return ks
}

func defaultValidator() *jose.Validator {
	return &jose.Validator{Issuer: vectors.Issuer, Audience: vectors.Audience,
		Algorithms: []jose.Algorithm{jose.EdDSA, jose.ES256, jose.RS256}, Leeway: vectors.Leeway}
}

func TestVerifyValidTokens(t *testing.T) {
	ks := mustKeySet(t, vectors.JWKS())
	v := defaultValidator()
	for _, k := range vectors.Keys() {
		t.Run(k.Alg+"/"+k.KID, func(t *testing.T) {
			c, err := v.Verify([]byte(k.Token(vectors.Claims(vectors.Now))), ks, vectors.Now)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			want := jose.Claims{Issuer: vectors.Issuer, Subject: "user-42", Audience: []string{vectors.Audience},
				SessionID: "c2Vzc2lvbi0xMjM0NTY3ODkwYWJjZGVm", Roles: []string{"admin", "billing"}, TokenID: "tok-1",
				IssuedAt: vectors.Now - 60, NotBefore: vectors.Now - 60, ExpiresAt: vectors.Now + 540}
			if c.Issuer != want.Issuer || c.Subject != want.Subject || c.SessionID != want.SessionID ||
				c.TokenID != want.TokenID || c.IssuedAt != want.IssuedAt || c.NotBefore != want.NotBefore ||
				c.ExpiresAt != want.ExpiresAt || len(c.Audience) != 1 || c.Audience[0] != vectors.Audience ||
				len(c.Roles) != 2 || c.Roles[0] != "admin" || c.Roles[1] != "billing" {
				t.Fatalf("claims = %+v, want %+v", c, want)
			}
		})
	}
}

func TestVerifyTimes(t *testing.T) {
	ks := mustKeySet(t, vectors.JWKS())
	v := defaultValidator()
	k := vectors.EdDSAKey()
	const now = vectors.Now
	cases := []struct {
		name   string
		change map[string]any
		want   error
	}{
		{"exp just inside leeway", map[string]any{"exp": now - vectors.Leeway + 1}, nil},
		{"exp at leeway edge", map[string]any{"exp": now - vectors.Leeway}, abi.ErrExpired},
		{"exp long past", map[string]any{"exp": now - 3600}, abi.ErrExpired},
		{"nbf within leeway", map[string]any{"nbf": now + vectors.Leeway}, nil},
		{"nbf beyond leeway", map[string]any{"nbf": now + vectors.Leeway + 1}, abi.ErrNotValidYet},
		{"iat within leeway", map[string]any{"iat": now + vectors.Leeway}, nil},
		{"iat beyond leeway", map[string]any{"iat": now + vectors.Leeway + 1}, abi.ErrIssuedInFuture},
		{"nbf and iat absent", map[string]any{"nbf": nil, "iat": nil}, nil},
		{"exp absent", map[string]any{"exp": nil}, abi.ErrInvalidClaims},
		{"exp huge", map[string]any{"exp": int64(1<<63 - 1)}, nil},
		{"exp float", map[string]any{"exp": float64(now) + 0.5}, abi.ErrInvalidClaims},
		{"exp 1e3 form", map[string]any{"exp": json1e("1.9e9")}, abi.ErrInvalidClaims},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			claims := vectors.Claims(now)
			for name, val := range tc.change {
				if val == nil {
					delete(claims, name)
				} else {
					claims[name] = val
				}
			}
			_, err := v.Verify([]byte(k.Token(claims)), ks, now)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("Verify error = %v, want %v", err, tc.want)
			}
		})
	}
}

type json1e string

func (j json1e) MarshalJSON() ([]byte, error) { return []byte(j), nil }

// sess_exp is read when it is an integer and refused otherwise; KeyID names the key
// that verified the token.
func TestVerifySessionExpiryAndKeyID(t *testing.T) {
	ks := mustKeySet(t, vectors.JWKS())
	v := defaultValidator()
	for _, k := range vectors.Keys() {
		claims := vectors.Claims(vectors.Now)
		claims["sess_exp"] = vectors.Now + 86400
		c, err := v.Verify([]byte(k.Token(claims)), ks, vectors.Now)
		if err != nil {
			t.Fatalf("%s: %v", k.KID, err)
		}
		if c.SessionExpiresAt != vectors.Now+86400 || c.KeyID != k.KID {
			t.Fatalf("%s: sess_exp %d, kid %q", k.KID, c.SessionExpiresAt, c.KeyID)
		}
	}
	ed := vectors.EdDSAKey()
	c, err := v.Verify([]byte(ed.Token(vectors.Claims(vectors.Now))), ks, vectors.Now)
	if err != nil || c.SessionExpiresAt != 0 {
		t.Fatalf("without sess_exp: %d, %v", c.SessionExpiresAt, err)
	}
	for _, bad := range []any{"1800000000", 1.5, nil, []int{1}} {
		claims := vectors.Claims(vectors.Now)
		claims["sess_exp"] = bad
		if _, err := v.Verify([]byte(ed.Token(claims)), ks, vectors.Now); !errors.Is(err, abi.ErrInvalidClaims) {
			t.Fatalf("sess_exp %v: %v, want ErrInvalidClaims", bad, err)
		}
	}
}

// A token is refused once its session's end (sess_exp, plus leeway) is past, whatever
// its exp says, with the error of an expired token: the holder's refresh then finds the
// session over.
func TestVerifyRefusesEndedSession(t *testing.T) {
	ks := mustKeySet(t, vectors.JWKS())
	v := defaultValidator()
	ed := vectors.EdDSAKey()
	for _, tc := range []struct {
		sessExp int64
		want    error
	}{
		{vectors.Now - v.Leeway + 1, nil},
		{vectors.Now - v.Leeway, abi.ErrExpired},
		{vectors.Now - 86400, abi.ErrExpired},
	} {
		claims := vectors.Claims(vectors.Now)
		claims["sess_exp"] = tc.sessExp
		_, err := v.Verify([]byte(ed.Token(claims)), ks, vectors.Now)
		if (tc.want == nil) != (err == nil) || !errors.Is(err, tc.want) {
			t.Errorf("sess_exp now%+d: %v, want %v", tc.sessExp-vectors.Now, err, tc.want)
		}
	}
}

// amr (RFC 8176) marks a sign-in with a second factor when it lists "mfa"; it must be an
// array of strings when present.
func TestVerifySecondFactor(t *testing.T) {
	ks := mustKeySet(t, vectors.JWKS())
	v := defaultValidator()
	ed := vectors.EdDSAKey()
	for _, tc := range []struct {
		amr  any
		want bool
	}{
		{nil, false},
		{[]string{}, false},
		{[]string{"pwd"}, false},
		{[]string{"pwd", "otp", "mfa"}, true},
		{[]string{"mfa"}, true},
		{[]string{"MFA", "pwd"}, false}, // RFC 8176 values are case-sensitive
	} {
		claims := vectors.Claims(vectors.Now)
		if tc.amr != nil {
			claims["amr"] = tc.amr
		}
		c, err := v.Verify([]byte(ed.Token(claims)), ks, vectors.Now)
		if err != nil || c.SecondFactor != tc.want {
			t.Fatalf("amr %v: second factor %v, %v; want %v", tc.amr, c.SecondFactor, err, tc.want)
		}
	}
	for _, bad := range []any{"mfa", json1e("null"), []any{"pwd", 1}, map[string]any{"mfa": true}, []any{[]string{"mfa"}}} {
		claims := vectors.Claims(vectors.Now)
		claims["amr"] = bad
		if _, err := v.Verify([]byte(ed.Token(claims)), ks, vectors.Now); !errors.Is(err, abi.ErrInvalidClaims) {
			t.Fatalf("amr %v: %v, want ErrInvalidClaims", bad, err)
		}
	}
}

func TestVerifyRevocationList(t *testing.T) {
	ks := mustKeySet(t, vectors.JWKS())
	ed := vectors.EdDSAKey()
	algs := []jose.Algorithm{jose.EdDSA}
	const now = vectors.Now
	sign := func(payload map[string]any) []byte {
		h := vectors.MustJSON(map[string]any{"alg": "EdDSA", "kid": vectors.KIDEdDSA, "typ": jose.RevocationListType})
		return []byte(ed.Sign(h, vectors.MustJSON(payload)))
	}
	good := map[string]any{"iss": vectors.Issuer, "iat": now, "exp": now + 60, "sids": []string{"a", "b"}, "seq": 7}
	rl, err := jose.VerifyRevocationList(sign(good), ks, algs, vectors.Issuer, 30, now)
	if err != nil || rl.IssuedAt != now || rl.ExpiresAt != now+60 || len(rl.SessionIDs) != 2 || rl.SessionIDs[1] != "b" {
		t.Fatalf("good list: %+v, %v", rl, err)
	}
	if rl.Before != 0 {
		t.Fatalf("a list without before: Before %d, want 0", rl.Before)
	}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range good {
			m[kk] = vv
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	for name, list := range map[string][]byte{
		"other issuer":   sign(with("iss", "https://other.example")),
		"expired":        sign(with("exp", now)),
		"lives too long": sign(with("exp", now+jose.MaxRevocationLifetime+1)),
		// exp - iat overflows int64: a list that would never expire.
		"lives forever":     sign(map[string]any{"iss": vectors.Issuer, "iat": -2, "exp": int64(math.MaxInt64), "sids": []string{"a"}}),
		"issued in future":  sign(with("iat", now+31)),
		"sids missing":      sign(with("sids", nil)),
		"empty sid":         sign(with("sids", []string{""})),
		"iat not integer":   sign(with("iat", 1.5)),
		"before after iat":  sign(with("before", now+1)),
		"before negative":   sign(with("before", -1)),
		"before fraction":   sign(with("before", 1.5)),
		"before a string":   sign(with("before", "1")),
		"access token type": []byte(ed.Token(vectors.Claims(now))),
	} {
		if _, err := jose.VerifyRevocationList(list, ks, algs, vectors.Issuer, 30, now); !errors.Is(err, abi.ErrInvalidRevocationList) {
			t.Errorf("%s: %v, want ErrInvalidRevocationList", name, err)
		}
	}
	for _, before := range []int64{0, now - 600, now} {
		rl, err := jose.VerifyRevocationList(sign(with("before", before)), ks, algs, vectors.Issuer, 30, now)
		if err != nil || rl.Before != before {
			t.Errorf("before %d: Before %d, %v", before, rl.Before, err)
		}
	}
	if _, err := jose.VerifyRevocationList(sign(good), nil, algs, vectors.Issuer, 30, now); !errors.Is(err, abi.ErrInvalidRevocationList) {
		t.Errorf("no keys: %v", err)
	}
}

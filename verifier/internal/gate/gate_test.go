package gate_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/gate"
	"github.com/edgeauth/edgeauth/verifier/internal/gate/gatetest"
	"github.com/edgeauth/edgeauth/verifier/internal/policy"
	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
)

func TestConfigureRefuses(t *testing.T) {
	valid := string(gatetest.MustJSON(gatetest.Config()))
	replace := func(old, new string) string {
		if !strings.Contains(valid, old) {
			t.Fatalf("config JSON lacks %q", old)
		}
		return strings.Replace(valid, old, new, 1)
	}
	tests := []struct {
		name string
		cfg  string
		want []string
	}{
		{"not JSON", `{`, []string{"not strict JSON"}},
		{"not an object", `[]`, []string{"configuration: want an object"}},
		{"unknown top-level field", replace(`"issuer"`, `"isser":"x","issuer"`), []string{`"isser": unknown field`}},
		{"unknown cookie field", replace(`"name":"__Host-at"`, `"name":"__Host-at","max_age":5`), []string{`access_cookie."max_age": unknown field`}},
		{"unknown route field", replace(`"prefix":"/admin/"`, `"prefix":"/admin/","role":"x"`), []string{`protected[0]."role": unknown field`}},
		{"wrong types", strings.Replace(replace(`"leeway_seconds":30`, `"leeway_seconds":"30"`), `"allow_bearer":true`, `"allow_bearer":1`, 1),
			[]string{"leeway_seconds: want an integer", "allow_bearer: want true or false"}},
		{"leeway not an integer", replace(`"leeway_seconds":30`, `"leeway_seconds":30.0`), []string{"leeway_seconds: want an integer"}},
		{"algorithms not strings", replace(`"algorithms":["EdDSA","ES256","RS256"]`, `"algorithms":["EdDSA",7]`), []string{"algorithms[1]: want a string"}},
		{"cache entries too large", replace(`"cache_entries":64`, `"cache_entries":9999999999`), []string{"cache_entries 9999999999 is outside 0..65536"}},
		{"duplicate member", replace(`"issuer"`, `"audience":"x","issuer"`), []string{"not strict JSON"}},
		{"type problem and policy problem together", strings.Replace(replace(`"login_path":"/login"`, `"login_path":"/account/login"`), `"cache_entries":64`, `"cache_entries":"no"`, 1),
			[]string{"cache_entries: want an integer", `login_path "/account/login" needs a token`}},
		{"algorithm none", replace(`"algorithms":["EdDSA","ES256","RS256"]`, `"algorithms":["none"]`), []string{`"none" is not supported`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGate(t, nil)
			err := g.Configure([]byte(tt.cfg))
			if !errors.Is(err, abi.ErrInvalidConfig) {
				t.Fatalf("err = %v, want ErrInvalidConfig", err)
			}
			var ce *policy.ConfigError
			if !errors.As(err, &ce) || len(ce.Problems) != len(tt.want) {
				t.Fatalf("problems = %q, want %d", err, len(tt.want))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			// The previous configuration, keys and revocations are still in place.
			d := decide(t, g, verifier.Request{Path: "/dashboard", Cookies: []string{gatetest.AccessName + "=" + gatetest.Revoked}}, gatetest.Now)
			if d.Reason != abi.ReasonRevoked {
				t.Fatalf("state changed after a refused configuration: %+v", d)
			}
		})
	}
}

func TestConfigureFlushesCacheAndKeepsKeys(t *testing.T) {
	g := newGate(t, nil)
	req := verifier.Request{Path: "/dashboard", Cookies: []string{gatetest.AccessName + "=" + gatetest.Valid}}
	decide(t, g, req, gatetest.Now)
	if s := g.CacheStats(); s.Entries != 1 || s.Capacity != 64 {
		t.Fatalf("stats %+v", s)
	}
	if err := g.Configure(gatetest.MustJSON(gatetest.Config())); err != nil {
		t.Fatal(err)
	}
	if s := g.CacheStats(); s.Entries != 0 {
		t.Fatalf("cache not flushed by Configure: %+v", s)
	}
	if d := decide(t, g, req, gatetest.Now); d.Reason != abi.ReasonAuthenticated {
		t.Fatalf("keys lost by Configure: %+v", d)
	}
}

func TestCacheHitRechecksTimeAndRevocation(t *testing.T) {
	g := newGate(t, nil)
	req := verifier.Request{Path: "/dashboard", Cookies: []string{gatetest.AccessName + "=" + gatetest.Member}}
	if d := decide(t, g, req, gatetest.Now); d.Reason != abi.ReasonAuthenticated {
		t.Fatalf("first: %+v", d)
	}
	if d := decide(t, g, req, gatetest.Now); d.Reason != abi.ReasonAuthenticated || g.CacheStats().Hits != 1 {
		t.Fatalf("second (cached): %+v %+v", d, g.CacheStats())
	}
	// Past exp + leeway: the cached claims must not be trusted.
	exp := gatetest.Now + 540
	if d := decide(t, g, req, exp+vectors.Leeway-1); d.Reason != abi.ReasonAuthenticated {
		t.Fatalf("just before exp+leeway: %+v", d)
	}
	if d := decide(t, g, req, exp+vectors.Leeway); d.Action != verifier.ActionRefresh || d.Reason != abi.ReasonTokenExpired {
		t.Fatalf("at exp+leeway from cache: %+v", d)
	}
	// Before nbf - leeway (a host clock going backwards).
	nbf := gatetest.Now - 60
	if d := decide(t, g, req, nbf-vectors.Leeway-1); d.Reason != abi.ReasonTokenNotYetValid {
		t.Fatalf("before nbf from cache: %+v", d)
	}
	// A newer revocation list naming the session refuses the cached token.
	list := gatetest.RevocationList(vectors.EdDSAKey(), "edgeauth-revocations+jwt", map[string]any{
		"iss": vectors.Issuer, "iat": gatetest.Now, "exp": gatetest.Now + 300, "sids": []string{gatetest.MemberSID}})
	if err := g.LoadRevocations(list, gatetest.Now); err != nil {
		t.Fatal(err)
	}
	hits := g.CacheStats().Hits
	if d := decide(t, g, req, gatetest.Now); d.Reason != abi.ReasonRevoked || len(d.ClearCookies) != 2 {
		t.Fatalf("revoked session from cache: %+v", d)
	}
	if g.CacheStats().Hits != hits+1 {
		t.Fatal("revocation check did not go through the cache")
	}
	if _, err := g.VerifyToken([]byte(gatetest.Member), gatetest.Now, nil); !errors.Is(err, abi.ErrRevoked) {
		t.Fatalf("VerifyToken of a revoked session: %v", err)
	}
}

// A token never outlives its session: a cached one is refused once its sess_exp (plus
// leeway) is past, though its exp is later (tokens issued before the control plane capped
// exp at the session's end).
func TestCacheHitRechecksSessionExpiry(t *testing.T) {
	g := newGate(t, nil)
	claims := vectors.Claims(gatetest.Now)
	sessExp := gatetest.Now + 100
	claims["sess_exp"] = sessExp
	req := verifier.Request{Path: "/dashboard", Cookies: []string{gatetest.AccessName + "=" + vectors.EdDSAKey().Token(claims)}}
	for range 2 {
		if d := decide(t, g, req, gatetest.Now); d.Reason != abi.ReasonAuthenticated {
			t.Fatalf("before sess_exp: %+v", d)
		}
	}
	if d := decide(t, g, req, sessExp+vectors.Leeway-1); d.Reason != abi.ReasonAuthenticated || g.CacheStats().Hits != 2 {
		t.Fatalf("just before sess_exp+leeway (cached): %+v %+v", d, g.CacheStats())
	}
	if d := decide(t, g, req, sessExp+vectors.Leeway); d.Action != verifier.ActionRefresh || d.Reason != abi.ReasonTokenExpired {
		t.Fatalf("at sess_exp+leeway from cache: %+v", d)
	}
}

func TestLoadKeysFlushesCache(t *testing.T) {
	g := newGate(t, nil)
	req := verifier.Request{Path: "/dashboard", Cookies: []string{gatetest.AccessName + "=" + gatetest.Valid}}
	decide(t, g, req, gatetest.Now)
	// A refused key set changes nothing, cache included.
	if err := g.LoadKeys([]byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0","alg":"HS256","kid":"h"}]}`)); !errors.Is(err, abi.ErrInvalidKeySet) {
		t.Fatalf("symmetric key set: %v", err)
	}
	if g.CacheStats().Entries != 1 {
		t.Fatal("refused key set flushed the cache")
	}
	// The EdDSA signing key is withdrawn: the cached token must not survive.
	if err := g.LoadKeys(vectors.JWKS(vectors.ES256Key().PublicJWK())); err != nil {
		t.Fatal(err)
	}
	if g.CacheStats().Entries != 0 {
		t.Fatal("cache not flushed by LoadKeys")
	}
	if d := decide(t, g, req, gatetest.Now); d.Reason != abi.ReasonUnknownKey {
		t.Fatalf("token of a withdrawn key: %+v", d)
	}
}

func TestCacheDisabled(t *testing.T) {
	g := newGate(t, func(c *verifier.Config) { c.CacheEntries = 0 })
	req := verifier.Request{Path: "/dashboard", Cookies: []string{gatetest.AccessName + "=" + gatetest.Valid}}
	for range 3 {
		if d := decide(t, g, req, gatetest.Now); d.Reason != abi.ReasonAuthenticated {
			t.Fatalf("%+v", d)
		}
	}
	if s := g.CacheStats(); s.Entries != 0 || s.Hits != 0 {
		t.Fatalf("disabled cache used: %+v", s)
	}
}

func TestCacheBoundedUnderDistinctTokens(t *testing.T) {
	g := newGate(t, func(c *verifier.Config) { c.CacheEntries = 8 })
	for i := range 50 {
		tok := vectors.EdDSAKey().Token(gatetest.Claims(map[string]any{"jti": strconv.Itoa(i)}))
		if d := decide(t, g, verifier.Request{Path: "/dashboard", Cookies: []string{gatetest.AccessName + "=" + tok}}, gatetest.Now); d.Reason != abi.ReasonAuthenticated {
			t.Fatalf("%d: %+v", i, d)
		}
	}
	if s := g.CacheStats(); s.Entries != 8 || s.Capacity != 8 || s.Misses != 50 {
		t.Fatalf("stats %+v", s)
	}
}

func TestLoadRevocations(t *testing.T) {
	ed, typ := vectors.EdDSAKey(), "edgeauth-revocations+jwt"
	payload := func(over map[string]any) map[string]any {
		p := map[string]any{"iss": vectors.Issuer, "iat": gatetest.Now, "exp": gatetest.Now + 300, "sids": []string{"new-sid"}}
		for k, v := range over {
			if v == nil {
				delete(p, k)
			} else {
				p[k] = v
			}
		}
		return p
	}
	tests := []struct {
		name string
		list []byte
		now  int64
		ok   bool
	}{
		{"newer list", gatetest.RevocationList(ed, typ, payload(nil)), gatetest.Now, true},
		{"ES256 signed", gatetest.RevocationList(vectors.ES256Key(), typ, payload(nil)), gatetest.Now, true},
		{"empty sids", gatetest.RevocationList(ed, typ, payload(map[string]any{"sids": []string{}})), gatetest.Now, true},
		{"extra members ignored", gatetest.RevocationList(ed, typ, payload(map[string]any{"jti": "l-1"})), gatetest.Now, true},
		{"rollback to an older list", gatetest.RevocationList(ed, typ, payload(map[string]any{"iat": gatetest.Now - 11})), gatetest.Now, false},
		{"bad signature", []byte(tamperList(gatetest.RevocationList(ed, typ, payload(nil)))), gatetest.Now, false},
		{"unknown key", gatetest.RevocationList(vectors.UnpublishedRS256Key(), typ, payload(nil)), gatetest.Now, false},
		{"wrong typ", gatetest.RevocationList(ed, "at+jwt", payload(nil)), gatetest.Now, false},
		{"no typ", []byte(ed.Sign(gatetest.MustJSON(map[string]any{"alg": "EdDSA", "kid": ed.KID}), gatetest.MustJSON(payload(nil)))), gatetest.Now, false},
		{"access token as list", []byte(gatetest.Valid), gatetest.Now, false},
		{"expired", gatetest.RevocationList(ed, typ, payload(nil)), gatetest.Now + 300, false},
		{"other issuer", gatetest.RevocationList(ed, typ, payload(map[string]any{"iss": "https://evil.example"})), gatetest.Now, false},
		{"no issuer", gatetest.RevocationList(ed, typ, payload(map[string]any{"iss": nil})), gatetest.Now, false},
		{"iat in the future", gatetest.RevocationList(ed, typ, payload(map[string]any{"iat": gatetest.Now + 31, "exp": gatetest.Now + 331})), gatetest.Now, false},
		{"lifetime longer than 300 s", gatetest.RevocationList(ed, typ, payload(map[string]any{"exp": gatetest.Now + 301})), gatetest.Now, false},
		{"lifetime of 300 s", gatetest.RevocationList(ed, typ, payload(map[string]any{"exp": gatetest.Now + 300})), gatetest.Now, true},
		{"exp before iat", gatetest.RevocationList(ed, typ, payload(map[string]any{"exp": gatetest.Now - 1})), gatetest.Now - 5, false},
		{"iat not an integer", gatetest.RevocationList(ed, typ, payload(map[string]any{"iat": 1.5})), gatetest.Now, false},
		{"sids missing", gatetest.RevocationList(ed, typ, payload(map[string]any{"sids": nil})), gatetest.Now, false},
		{"sids not strings", gatetest.RevocationList(ed, typ, payload(map[string]any{"sids": []any{"a", 1}})), gatetest.Now, false},
		{"empty sid", gatetest.RevocationList(ed, typ, payload(map[string]any{"sids": []string{""}})), gatetest.Now, false},
		{"not a JWS", []byte(`{"sids":[]}`), gatetest.Now, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGate(t, nil) // loaded list: iat Now-10, RevokedSID
			err := g.LoadRevocations(tt.list, tt.now)
			if tt.ok != (err == nil) {
				t.Fatalf("LoadRevocations = %v, want ok %v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, abi.ErrInvalidRevocationList) {
				t.Fatalf("error %v does not wrap ErrInvalidRevocationList", err)
			}
			// A refused list changes nothing; an accepted one replaces the old list.
			_, err = g.VerifyToken([]byte(gatetest.Revoked), gatetest.Now, nil)
			if stillRevoked := errors.Is(err, abi.ErrRevoked); stillRevoked == tt.ok {
				t.Fatalf("after load (ok=%v): revoked sid check gives %v", tt.ok, err)
			}
		})
	}
	// A list of the loaded list's iat adds to it (TestSameSecondListsUnite in
	// verifier/conformance has the rest).
	g := newGate(t, nil)
	if err := g.LoadRevocations(gatetest.RevocationList(ed, typ, payload(map[string]any{"iat": gatetest.Now - 10, "exp": gatetest.Now + 290})), gatetest.Now); err != nil {
		t.Fatalf("same iat: %v", err)
	}
	if _, err := g.VerifyToken([]byte(gatetest.Revoked), gatetest.Now, nil); !errors.Is(err, abi.ErrRevoked) {
		t.Fatalf("same iat: the loaded list's session gives %v", err)
	}
}

func tamperList(b []byte) string {
	s := []byte(string(b))
	i := len(s) - 5
	if s[i] == 'A' {
		s[i] = 'B'
	} else {
		s[i] = 'A'
	}
	return string(s)
}

func TestRevocationListDroppedOnIssuerChange(t *testing.T) {
	g := newGate(t, nil)
	cfg := gatetest.Config()
	cfg.Issuer = "https://auth2.example.test"
	if err := g.Configure(gatetest.MustJSON(cfg)); err != nil {
		t.Fatal(err)
	}
	cfg.Issuer = vectors.Issuer
	if err := g.Configure(gatetest.MustJSON(cfg)); err != nil {
		t.Fatal(err)
	}
	// The list of the first issuer was dropped, and an older list is accepted again.
	if _, err := g.VerifyToken([]byte(gatetest.Revoked), gatetest.Now, nil); err != nil {
		t.Fatalf("list survived an issuer change: %v", err)
	}
}

func TestVerifyToken(t *testing.T) {
	g := newGate(t, nil)
	out, err := g.VerifyToken([]byte(gatetest.Valid), gatetest.Now, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	want := `x{"iss":"https://auth.example.test","sub":"user-42","aud":["https://app.example.test"],"sid":"` + gatetest.ValidSID +
		`","roles":["admin","billing"],"jti":"tok-1","iat":1799999940,"nbf":1799999940,"exp":1800000540}`
	if string(out) != want {
		t.Fatalf("claims\n got %s\nwant %s", out, want)
	}
	var c verifier.Claims
	if err := json.Unmarshal(out[1:], &c); err != nil || c.Subject != "user-42" || len(c.Audience) != 1 {
		t.Fatalf("claims do not decode into verifier.Claims: %+v %v", c, err)
	}
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"bad signature", gatetest.BadSig, abi.ErrSignatureInvalid},
		{"expired", gatetest.Expired, abi.ErrExpired},
		{"not yet valid", gatetest.NotYetValid, abi.ErrNotValidYet},
		{"wrong issuer", gatetest.WrongIssuer, abi.ErrInvalidIssuer},
		{"wrong audience", gatetest.WrongAudience, abi.ErrInvalidAudience},
		{"wrong typ", gatetest.WrongType, abi.ErrInvalidType},
		{"alg none (empty signature)", gatetest.AlgNone, abi.ErrMalformed},
		{"unknown kid", gatetest.UnknownKey, abi.ErrUnknownKey},
		{"revoked", gatetest.Revoked, abi.ErrRevoked},
		{"malformed", gatetest.Malformed, abi.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := g.VerifyToken([]byte(tt.token), gatetest.Now, nil)
			if !errors.Is(err, tt.want) || len(out) != 0 {
				t.Fatalf("VerifyToken = %q, %v; want %v", out, err, tt.want)
			}
		})
	}
}

func TestVerifySignature(t *testing.T) {
	k := vectors.EdDSAKey()
	jwk := gatetest.MustJSON(k.PublicJWK())
	msg := []byte("message")
	sig := k.SignatureOver(msg)
	if err := gate.VerifySignature(abi.EncodeSignatureCheck(jwk, msg, sig)); err != nil {
		t.Fatalf("good signature: %v", err)
	}
	if err := gate.VerifySignature(abi.EncodeSignatureCheck(jwk, []byte("other"), sig)); !errors.Is(err, abi.ErrSignatureInvalid) {
		t.Fatalf("wrong message: %v", err)
	}
	if err := gate.VerifySignature(abi.EncodeSignatureCheck([]byte(`{"kty":"oct"}`), msg, sig)); !errors.Is(err, abi.ErrInvalidKeySet) {
		t.Fatalf("bad JWK: %v", err)
	}
	if err := gate.VerifySignature([]byte{1, 2}); !errors.Is(err, abi.ErrMalformed) {
		t.Fatalf("bad framing: %v", err)
	}
}

func Example() {
	g := gate.New()
	cfg := `{"issuer":"https://auth.example.test","audience":"https://app.example.test",
	  "access_cookie":{"name":"__Host-at","path":"/","secure":true,"http_only":true,"same_site":"Lax"},
	  "refresh_cookie":{"name":"__Secure-rt","path":"/auth","secure":true,"http_only":true,"same_site":"Strict"},
	  "login_path":"/login","refresh_path":"/auth/refresh","public_paths":["/login","/auth/"],
	  "default_protected":true,"cache_entries":1024}`
	if err := g.Configure([]byte(cfg)); err != nil {
		fmt.Println(err)
		return
	}
	if err := g.LoadKeys(vectors.JWKS()); err != nil {
		fmt.Println(err)
		return
	}
	out, _ := g.Decide([]byte(`{"method":"GET","path":"/orders","query":"page=2"}`), 1_800_000_000, nil)
	fmt.Println(string(out))
	out, _ = g.Decide([]byte(`{"method":"GET","path":"/orders","cookies":["__Secure-rt=opaque"]}`), 1_800_000_000, nil)
	fmt.Println(string(out))
	// Output:
	// {"action":"redirect","reason":"no_token","status":302,"location":"/login?return_to=%2Forders%3Fpage%3D2"}
	// {"action":"refresh","reason":"refresh","status":302,"location":"/auth/refresh?return_to=%2Forders"}
}

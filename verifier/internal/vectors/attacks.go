package vectors

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/asn1"
	"encoding/base64"
	"hash"
	"math/big"
	"strings"

	"github.com/edgeauth/edgeauth/verifier/abi"
)

// TokenCase is one access-token check: load JWKS, verify Token with Config, expect
// WantErr (an abi sentinel; nil means the token must be accepted). When WantErr is
// abi.ErrInvalidKeySet the JWKS itself must be refused.
type TokenCase struct {
	Name    string
	JWKS    []byte
	Token   string
	Config  ValidatorConfig
	WantErr error
}

// ed25519L is the order of the Ed25519 base point.
var ed25519L, _ = new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)

// Attacks returns the attack suite as data: positive controls, then every attack
// family, each with the sentinel a strict verifier must return. Deterministic: the same
// cases, byte for byte, on every call.
func Attacks() []TokenCase {
	ed, es, rs, other := EdDSAKey(), ES256Key(), RS256Key(), OtherEdDSAKey()
	jwks := JWKS()
	claims := Claims(Now)
	var cases []TokenCase
	add := func(name, token string, want error) {
		cases = append(cases, TokenCase{Name: name, JWKS: jwks, Token: token, Config: DefaultConfig(), WantErr: want})
	}
	addKS := func(name string, set []byte, token string, want error) {
		cases = append(cases, TokenCase{Name: name, JWKS: set, Token: token, Config: DefaultConfig(), WantErr: want})
	}
	addCfg := func(name string, cfg ValidatorConfig, token string, want error) {
		cases = append(cases, TokenCase{Name: name, JWKS: jwks, Token: token, Config: cfg, WantErr: want})
	}
	// signed signs raw header and payload JSON with k.
	signed := func(k TestKey, header, payload string) string { return k.Sign([]byte(header), []byte(payload)) }
	hdr := func(k TestKey, kv ...any) []byte { return MustJSON(set(k.Header(), kv...)) }
	body := func(kv ...any) []byte { return MustJSON(set(Claims(Now), kv...)) }

	// Positive controls: the suite is only meaningful if good tokens pass.
	for _, k := range []TestKey{ed, es, rs, other} {
		add("control/valid "+k.Alg+" "+k.KID, k.Token(claims), nil)
	}
	add("control/typ application/at+jwt", ed.Sign(hdr(ed, "typ", "application/at+jwt"), body()), nil)
	add("control/typ APPLICATION/at+jwt", ed.Sign(hdr(ed, "typ", "Application/at+jwt"), body()), nil)
	add("control/aud array containing audience", ed.Sign(hdr(ed), body("aud", []string{"other", Audience})), nil)
	add("control/roles empty", ed.Sign(hdr(ed), body("roles", []string{})), nil)
	add("control/no nbf iat jti roles", ed.Sign(hdr(ed), body("nbf", nil, "iat", nil, "jti", nil, "roles", nil)), nil)
	add("control/whitespace inside header JSON", signed(ed, "{ \"alg\" : \"EdDSA\" ,\n\t\"kid\":\""+KIDEdDSA+"\", \"typ\":\"at+jwt\" }", string(body())), nil)
	add("control/unknown header member ignored", ed.Sign(hdr(ed, "cty", "JWT", "x-note", 1), body()), nil)
	{
		// ECDSA is malleable: (r, n-s) verifies as well as (r, s). Accepted by design
		// (like every ECDSA verifier); nothing is keyed by signature or token bytes
		// except the verified-token cache, which stores claims only.
		input := b64(hdr(es)) + "." + b64(body())
		r, s := ES256Sign(es.Private.(*ecdsa.PrivateKey), []byte(input))
		add("control/ES256 (r, n-s) twin verifies", input+"."+b64(RS(r, new(big.Int).Sub(P256N, s))), nil)
	}

	// alg "none" in every spelling, with and without a signature.
	for _, none := range []string{"none", "None", "NONE", "nOnE"} {
		h := MustJSON(map[string]any{"alg": none, "kid": KIDEdDSA, "typ": "at+jwt"})
		input := b64(h) + "." + b64(body())
		add("alg none/"+none+" without signature", input+".", abi.ErrMalformed)
		add("alg none/"+none+" with signature", input+"."+b64(ed.SignatureOver([]byte(input))), abi.ErrAlgorithmNotAllowed)
		add("alg none/"+none+" without kid", b64(MustJSON(map[string]any{"alg": none}))+"."+b64(body())+".AA", abi.ErrAlgorithmNotAllowed)
	}
	add("alg/missing", ed.Sign(hdr(ed, "alg", nil), body()), abi.ErrMalformed)
	add("alg/not a string", ed.Sign(hdr(ed, "alg", []string{"EdDSA"}), body()), abi.ErrMalformed)
	add("alg/empty", ed.Sign(hdr(ed, "alg", ""), body()), abi.ErrAlgorithmNotAllowed)
	add("alg/wrong case eddsa", ed.Sign(hdr(ed, "alg", "eddsa"), body()), abi.ErrAlgorithmNotAllowed)
	add("alg/Ed25519 fully-specified name", ed.Sign(hdr(ed, "alg", "Ed25519"), body()), abi.ErrAlgorithmNotAllowed)
	add("alg/trailing space", es.Sign(hdr(es, "alg", "ES256 "), body()), abi.ErrAlgorithmNotAllowed)
	{
		cfg := DefaultConfig()
		cfg.Algorithms = []string{"EdDSA"}
		addCfg("alg/implemented but not in allow-list", cfg, rs.Token(claims), abi.ErrAlgorithmNotAllowed)
		cfg.Algorithms = []string{"EdDSA", "none", "HS256"}
		addCfg("alg/none in the allow-list is still refused", cfg, b64(MustJSON(map[string]any{"alg": "none", "kid": KIDEdDSA, "typ": "at+jwt"}))+"."+b64(body())+".AA", abi.ErrAlgorithmNotAllowed)
	}

	// Algorithm confusion: HMAC keyed with public key bytes, and asymmetric algorithm
	// swaps between keys.
	for _, k := range []TestKey{ed, es, rs} {
		for _, hs := range []struct {
			alg string
			h   func() hash.Hash
		}{{"HS256", sha256.New}, {"HS384", sha512.New384}, {"HS512", sha512.New}} {
			for _, secret := range []struct {
				name string
				key  []byte
			}{{"public key bytes", k.PublicKeyBytes()}, {"JWK JSON", MustJSON(k.PublicJWK())}, {"PEM", k.PublicKeyPEM()}} {
				h := MustJSON(map[string]any{"alg": hs.alg, "kid": k.KID, "typ": "at+jwt"})
				input := b64(h) + "." + b64(body())
				m := hmac.New(hs.h, secret.key)
				m.Write([]byte(input))
				add("confusion/"+hs.alg+" keyed with "+k.Alg+" "+secret.name, input+"."+b64(m.Sum(nil)), abi.ErrAlgorithmNotAllowed)
			}
		}
	}
	add("confusion/ES256 header with EdDSA kid", signedAs(ed, "ES256", KIDEdDSA, body()), abi.ErrUnknownKey)
	add("confusion/EdDSA header with ES256 kid", signedAs(ed, "EdDSA", KIDES256, body()), abi.ErrUnknownKey)
	add("confusion/RS256 header with ES256 kid", signedAs(rs, "RS256", KIDES256, body()), abi.ErrUnknownKey)
	add("confusion/ES256 header with RS256 kid", signedAs(es, "ES256", KIDRS256, body()), abi.ErrUnknownKey)
	{
		h := MustJSON(map[string]any{"alg": "PS256", "kid": KIDRS256, "typ": "at+jwt"})
		input := b64(h) + "." + b64(body())
		d := sha256.Sum256([]byte(input))
		sig, err := rsa.SignPSS(zeroReader{}, rs.Private.(*rsa.PrivateKey), crypto.SHA256, d[:], nil)
		if err != nil {
			panic(err)
		}
		add("confusion/PS256 with the RS256 key", input+"."+b64(sig), abi.ErrAlgorithmNotAllowed)
	}
	{
		noAlg := ed.PublicJWK()
		delete(noAlg, "alg")
		addKS("confusion/key without alg is unusable", JWKS(noAlg, es.PublicJWK()), ed.Token(claims), abi.ErrUnknownKey)
		wrongAlg := es.PublicJWK()
		wrongAlg["alg"] = "EdDSA"
		addKS("confusion/EC key declaring alg EdDSA is unusable", JWKS(wrongAlg, ed.PublicJWK()), signedAs(ed, "EdDSA", KIDES256, body()), abi.ErrUnknownKey)
		rsAsES := rs.PublicJWK()
		rsAsES["alg"] = "ES256"
		addKS("confusion/RSA key declaring alg ES256 is unusable", JWKS(rsAsES, ed.PublicJWK()), signedAs(es, "ES256", KIDRS256, body()), abi.ErrUnknownKey)
	}

	// Keys carried or referenced by the header: never used, always refused, even on a
	// token our own key signed.
	attacker := TestKey{KID: "attacker", Alg: "EdDSA", Private: edFromSeed(200)}
	add("embedded/jwk with attacker key", attacker.Sign(MustJSON(map[string]any{"alg": "EdDSA", "kid": "attacker", "typ": "at+jwt", "jwk": attacker.PublicJWK()}), body()), abi.ErrUnsupportedHeader)
	add("embedded/jwk with attacker key under our kid", attacker.Sign(MustJSON(map[string]any{"alg": "EdDSA", "kid": KIDEdDSA, "typ": "at+jwt", "jwk": set(attacker.PublicJWK(), "kid", KIDEdDSA)}), body()), abi.ErrUnsupportedHeader)
	for _, m := range []struct {
		name string
		val  any
	}{
		{"jku", "https://attacker.example/jwks.json"},
		{"x5u", "https://attacker.example/cert.pem"},
		{"x5c", []string{"MIIBszCCAVmgAwIBAgIUQ"}},
		{"x5t", "dGh1bWJwcmludA"},
		{"x5t#S256", "dGh1bWJwcmludA"},
	} {
		add("embedded/"+m.name+" on an otherwise valid token", ed.Sign(hdr(ed, m.name, m.val), body()), abi.ErrUnsupportedHeader)
	}
	add("crit/[\"exp\"]", ed.Sign(hdr(ed, "crit", []string{"exp"}), body()), abi.ErrUnsupportedHeader)
	add("crit/empty array", ed.Sign(hdr(ed, "crit", []string{}), body()), abi.ErrUnsupportedHeader)
	add("crit/b64 false (RFC 7797)", ed.Sign(hdr(ed, "crit", []string{"b64"}, "b64", false), body()), abi.ErrUnsupportedHeader)
	add("header/b64 without crit", ed.Sign(hdr(ed, "b64", false), body()), abi.ErrUnsupportedHeader)
	add("header/zip", ed.Sign(hdr(ed, "zip", "DEF"), body()), abi.ErrUnsupportedHeader)

	// kid injection.
	for _, kid := range []struct{ name, kid string }{
		{"path traversal", "../../../../dev/null"},
		{"SQL-looking", "x' OR '1'='1"},
		{"empty", ""},
		{"NUL suffix", KIDEdDSA + "\x00"},
		{"NUL prefix", "\x00" + KIDEdDSA},
		{"different case", strings.ToUpper(KIDEdDSA)},
		{"trailing space", KIDEdDSA + " "},
		{"URL", "https://attacker.example/key"},
	} {
		add("kid/"+kid.name, ed.Sign(hdr(ed, "kid", kid.kid), body()), abi.ErrUnknownKey)
	}
	add("kid/missing", ed.Sign(hdr(ed, "kid", nil), body()), abi.ErrUnknownKey)
	add("kid/number", ed.Sign(hdr(ed, "kid", 1), body()), abi.ErrMalformed)
	add("kid/null", signed(ed, `{"alg":"EdDSA","kid":null,"typ":"at+jwt"}`, string(body())), abi.ErrMalformed)
	add("kid/array", ed.Sign(hdr(ed, "kid", []string{KIDEdDSA}), body()), abi.ErrMalformed)
	add("kid/other published key of same alg", ed.Sign(hdr(ed, "kid", KIDOther), body()), abi.ErrSignatureInvalid)
	add("kid/published kid, unpublished key", UnpublishedRS256Key().Token(claims), abi.ErrSignatureInvalid)

	// ECDSA signature values.
	{
		input := b64(hdr(es)) + "." + b64(body())
		r, s := ES256Sign(es.Private.(*ecdsa.PrivateKey), []byte(input))
		max := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
		zero, one := big.NewInt(0), big.NewInt(1)
		for _, v := range []struct {
			name string
			r, s *big.Int
		}{
			{"r=0 s=0", zero, zero}, {"r=0", zero, s}, {"s=0", r, zero},
			{"r=n", P256N, s}, {"s=n", r, P256N}, {"r=n s=n", P256N, P256N},
			{"r=2^256-1", max, s}, {"s=2^256-1", r, max}, {"r=1 s=1", one, one},
			{"r=n+1", new(big.Int).Add(P256N, one), s},
		} {
			add("ecdsa/"+v.name, input+"."+b64(RS(v.r, v.s)), abi.ErrSignatureInvalid)
		}
		sig := RS(r, s)
		add("ecdsa/63 bytes", input+"."+b64(sig[:63]), abi.ErrSignatureInvalid)
		add("ecdsa/65 bytes", input+"."+b64(append(append([]byte{}, sig...), 0)), abi.ErrSignatureInvalid)
		add("ecdsa/leading zero byte", input+"."+b64(append([]byte{0}, sig...)), abi.ErrSignatureInvalid)
		der, _ := asn1.Marshal(struct{ R, S *big.Int }{r, s})
		add("ecdsa/DER encoding", input+"."+b64(der), abi.ErrSignatureInvalid)
		add("ecdsa/P-384 size (96 bytes)", input+"."+b64(append(append(make([]byte, 16), sig[:32]...), append(make([]byte, 16), sig[32:]...)...)), abi.ErrSignatureInvalid)
		flipped := append([]byte{}, sig...)
		flipped[10] ^= 1
		add("ecdsa/bit flipped", input+"."+b64(flipped), abi.ErrSignatureInvalid)
	}

	// Ed25519 malleability and sizes.
	{
		input := b64(hdr(ed)) + "." + b64(body())
		sig := ed.SignatureOver([]byte(input))
		sPlusL := leToBig(sig[32:])
		sPlusL.Add(sPlusL, ed25519L)
		mall := append(append([]byte{}, sig[:32]...), bigToLE(sPlusL, 32)...)
		add("eddsa/S+L (non-canonical S)", input+"."+b64(mall), abi.ErrSignatureInvalid)
		hiBit := append([]byte{}, sig...)
		hiBit[63] |= 0x80
		add("eddsa/S high bit set", input+"."+b64(hiBit), abi.ErrSignatureInvalid)
		add("eddsa/63 bytes", input+"."+b64(sig[:63]), abi.ErrSignatureInvalid)
		add("eddsa/65 bytes", input+"."+b64(append(append([]byte{}, sig...), 0)), abi.ErrSignatureInvalid)
		add("eddsa/all zero", input+"."+b64(make([]byte, 64)), abi.ErrSignatureInvalid)
		rFlip := append([]byte{}, sig...)
		rFlip[0] ^= 1
		add("eddsa/R changed", input+"."+b64(rFlip), abi.ErrSignatureInvalid)
	}

	// RSA signature sizes and values.
	{
		input := b64(hdr(rs)) + "." + b64(body())
		sig := rs.SignatureOver([]byte(input))
		n := rs.Private.(*rsa.PrivateKey).N
		plusN := new(big.Int).Add(new(big.Int).SetBytes(sig), n).Bytes()
		add("rsa/s+n", input+"."+b64(plusN), abi.ErrSignatureInvalid)
		add("rsa/leading zero byte", input+"."+b64(append([]byte{0}, sig...)), abi.ErrSignatureInvalid)
		add("rsa/truncated", input+"."+b64(sig[1:]), abi.ErrSignatureInvalid)
		add("rsa/zero", input+"."+b64(make([]byte, len(sig))), abi.ErrSignatureInvalid)
		add("rsa/n", input+"."+b64(n.Bytes()), abi.ErrSignatureInvalid)
		flipped := append([]byte{}, sig...)
		flipped[len(flipped)-1] ^= 1
		add("rsa/bit flipped", input+"."+b64(flipped), abi.ErrSignatureInvalid)
	}

	// Signature over something else.
	{
		t1 := ed.Token(claims)
		t2 := ed.Token(set(Claims(Now), "sub", "admin"))
		p1 := strings.Split(t1, ".")
		p2 := strings.Split(t2, ".")
		add("signature/payload swapped", p1[0]+"."+p2[1]+"."+p1[2], abi.ErrSignatureInvalid)
		add("signature/header changed", b64(hdr(ed, "typ", "application/at+jwt"))+"."+p1[1]+"."+p1[2], abi.ErrSignatureInvalid)
	}

	// Claim type confusion (all correctly signed).
	for _, c := range []struct {
		name string
		kv   []any
		want error
	}{
		{"exp as string", []any{"exp", "1800000540"}, abi.ErrInvalidClaims},
		{"exp as float", []any{"exp", 1800000540.5}, abi.ErrInvalidClaims},
		{"exp as bool", []any{"exp", true}, abi.ErrInvalidClaims},
		{"exp as array", []any{"exp", []int64{Now + 540}}, abi.ErrInvalidClaims},
		{"exp missing", []any{"exp", nil}, abi.ErrInvalidClaims},
		{"nbf as string", []any{"nbf", "1"}, abi.ErrInvalidClaims},
		{"iat as string", []any{"iat", "1"}, abi.ErrInvalidClaims},
		{"aud as object", []any{"aud", map[string]any{"aud": Audience}}, abi.ErrInvalidClaims},
		{"aud empty array", []any{"aud", []string{}}, abi.ErrInvalidClaims},
		{"aud array with number", []any{"aud", []any{Audience, 1}}, abi.ErrInvalidClaims},
		{"aud missing", []any{"aud", nil}, abi.ErrInvalidClaims},
		{"aud other", []any{"aud", "https://other.example.test"}, abi.ErrInvalidAudience},
		{"aud prefix of ours", []any{"aud", Audience + "/"}, abi.ErrInvalidAudience},
		{"aud different case", []any{"aud", strings.ToUpper(Audience)}, abi.ErrInvalidAudience},
		{"sub as number", []any{"sub", 42}, abi.ErrInvalidClaims},
		{"sub empty", []any{"sub", ""}, abi.ErrInvalidClaims},
		{"sub missing", []any{"sub", nil}, abi.ErrInvalidClaims},
		{"sid missing", []any{"sid", nil}, abi.ErrInvalidClaims},
		{"sid empty", []any{"sid", ""}, abi.ErrInvalidClaims},
		{"sid as array", []any{"sid", []string{"a"}}, abi.ErrInvalidClaims},
		{"roles as string", []any{"roles", "admin"}, abi.ErrInvalidClaims},
		{"roles with number", []any{"roles", []any{"admin", 1}}, abi.ErrInvalidClaims},
		{"roles as object", []any{"roles", map[string]any{"admin": true}}, abi.ErrInvalidClaims},
		{"iss as array", []any{"iss", []string{Issuer}}, abi.ErrInvalidClaims},
		{"iss missing", []any{"iss", nil}, abi.ErrInvalidClaims},
		{"iss other", []any{"iss", "https://attacker.example"}, abi.ErrInvalidIssuer},
		{"iss trailing slash", []any{"iss", Issuer + "/"}, abi.ErrInvalidIssuer},
		{"jti as number", []any{"jti", 7}, abi.ErrInvalidClaims},
		{"expired", []any{"exp", Now - Leeway - 1}, abi.ErrExpired},
		{"session ended (sess_exp past, exp not)", []any{"sess_exp", Now - Leeway}, abi.ErrExpired},
		{"sess_exp as string", []any{"sess_exp", "1"}, abi.ErrInvalidClaims},
		{"not yet valid", []any{"nbf", Now + Leeway + 60}, abi.ErrNotValidYet},
		{"issued in the future", []any{"iat", Now + Leeway + 60}, abi.ErrIssuedInFuture},
	} {
		add("claims/"+c.name, ed.Sign(hdr(ed), body(c.kv...)), c.want)
	}
	add("claims/roles null", signed(ed, string(hdr(ed)), strings.Replace(string(body()), `"roles":["admin","billing"]`, `"roles":null`, 1)), abi.ErrInvalidClaims)
	add("claims/exp 1e3 notation", signed(ed, string(hdr(ed)), strings.Replace(string(body("exp", 1)), `"exp":1`, `"exp":1.80000054e9`, 1)), abi.ErrInvalidClaims)
	add("claims/exp with .0", signed(ed, string(hdr(ed)), strings.Replace(string(body("exp", 1)), `"exp":1`, `"exp":1800000540.0`, 1)), abi.ErrInvalidClaims)
	add("claims/payload is an array", signed(ed, string(hdr(ed)), `[`+string(body())+`]`), abi.ErrMalformed)
	add("claims/payload is a string", signed(ed, string(hdr(ed)), `"hello"`), abi.ErrMalformed)
	add("claims/payload not JSON", signed(ed, string(hdr(ed)), `exp=1`), abi.ErrMalformed)
	add("claims/payload empty", signed(ed, string(hdr(ed)), ``), abi.ErrMalformed)
	add("claims/payload invalid UTF-8", signed(ed, string(hdr(ed)), strings.Replace(string(body()), "user-42", "user-\xff", 1)), abi.ErrMalformed)
	add("claims/payload lone surrogate", signed(ed, string(hdr(ed)), strings.Replace(string(body()), "user-42", `user-\ud800`, 1)), abi.ErrMalformed)
	add("claims/payload with BOM", signed(ed, string(hdr(ed)), "\uFEFF"+string(body())), abi.ErrMalformed)
	add("claims/payload with trailing data", signed(ed, string(hdr(ed)), string(body())+"{}"), abi.ErrMalformed)

	// Duplicate member names.
	add("duplicate/alg in header", signed(ed, `{"alg":"EdDSA","alg":"none","kid":"`+KIDEdDSA+`","typ":"at+jwt"}`, string(body())), abi.ErrMalformed)
	add("duplicate/kid in header", signed(ed, `{"alg":"EdDSA","kid":"nope","kid":"`+KIDEdDSA+`","typ":"at+jwt"}`, string(body())), abi.ErrMalformed)
	add("duplicate/sub in payload", signed(ed, string(hdr(ed)), strings.Replace(string(body()), `"sub":"user-42"`, `"sub":"user-42","sub":"admin"`, 1)), abi.ErrMalformed)
	add("duplicate/exp in payload", signed(ed, string(hdr(ed)), strings.Replace(string(body()), `"sub":"user-42"`, `"sub":"user-42","exp":99999999999`, 1)), abi.ErrMalformed)
	add("duplicate/escaped sub in payload", signed(ed, string(hdr(ed)), strings.Replace(string(body()), `"sub":"user-42"`, `"sub":"user-42","\u0073ub":"admin"`, 1)), abi.ErrMalformed)

	// typ.
	add("typ/missing", ed.Sign(hdr(ed, "typ", nil), body()), abi.ErrInvalidType)
	add("typ/JWT", ed.Sign(hdr(ed, "typ", "JWT"), body()), abi.ErrInvalidType)
	add("typ/revocation list type", ed.Sign(hdr(ed, "typ", "edgeauth-revocations+jwt"), body()), abi.ErrInvalidType)
	add("typ/at+JWT", ed.Sign(hdr(ed, "typ", "at+JWT"), body()), abi.ErrInvalidType)
	add("typ/application/AT+JWT", ed.Sign(hdr(ed, "typ", "application/AT+JWT"), body()), abi.ErrInvalidType)
	add("typ/number", ed.Sign(hdr(ed, "typ", 1), body()), abi.ErrInvalidType)

	// Encoding and structure.
	good := ed.Token(claims)
	parts := strings.Split(good, ".")
	add("encoding/padding on signature", good+"==", abi.ErrMalformed)
	add("encoding/padding on header", parts[0]+"=."+parts[1]+"."+parts[2], abi.ErrMalformed)
	add("encoding/standard alphabet (+ /)", toStd(ed, hdr(ed), body()), abi.ErrMalformed)
	add("encoding/non-zero trailing bits in signature", parts[0]+"."+parts[1]+"."+trailingBits(parts[2]), abi.ErrMalformed)
	{
		// A payload whose encoding has unused bits, then those bits set.
		p := body("jti", "x")
		for len(p)%3 == 0 {
			p = body("jti", strings.Repeat("x", len(p)%7+2))
		}
		tok := ed.Sign(hdr(ed), p)
		tp := strings.Split(tok, ".")
		add("encoding/non-zero trailing bits in payload", tp[0]+"."+trailingBits(tp[1])+"."+tp[2], abi.ErrMalformed)
	}
	{
		p1 := parts[1] + "A"
		for len(p1)%4 != 1 {
			p1 += "A"
		}
		add("encoding/length 1 mod 4 segment", parts[0]+"."+p1+"."+parts[2], abi.ErrMalformed)
	}
	add("structure/extra dot at end", good+".", abi.ErrMalformed)
	add("structure/extra segment", good+".e30", abi.ErrMalformed)
	add("structure/JWE-like five segments", parts[0]+".."+parts[1]+".."+parts[2], abi.ErrMalformed)
	add("structure/two segments", parts[0]+"."+parts[1], abi.ErrMalformed)
	add("structure/one segment", parts[0], abi.ErrMalformed)
	add("structure/empty token", "", abi.ErrMalformed)
	add("structure/empty header", "."+parts[1]+"."+parts[2], abi.ErrMalformed)
	add("structure/empty signature", parts[0]+"."+parts[1]+".", abi.ErrMalformed)
	add("structure/only dots", "..", abi.ErrMalformed)
	add("structure/BOM before token", "\uFEFF"+good, abi.ErrMalformed)
	add("structure/leading space", " "+good, abi.ErrMalformed)
	add("structure/trailing newline", good+"\n", abi.ErrMalformed)
	add("structure/Bearer prefix", "Bearer "+good, abi.ErrMalformed)
	add("structure/quoted", `"`+good+`"`, abi.ErrMalformed)
	add("structure/header is an array", signed(ed, `["EdDSA"]`, string(body())), abi.ErrMalformed)
	add("structure/header is null", signed(ed, `null`, string(body())), abi.ErrMalformed)
	add("structure/header with BOM", signed(ed, "\uFEFF"+string(hdr(ed)), string(body())), abi.ErrMalformed)
	add("structure/header invalid UTF-8", signed(ed, `{"alg":"EdDSA","kid":"`+KIDEdDSA+`","typ":"at+jwt","x":"\xc0\xaf"}`, string(body())), abi.ErrMalformed)
	add("serialization/flattened JSON", string(MustJSON(map[string]string{"protected": parts[0], "payload": parts[1], "signature": parts[2]})), abi.ErrMalformed)
	add("serialization/general JSON", string(MustJSON(map[string]any{"payload": parts[1], "signatures": []map[string]string{{"protected": parts[0], "signature": parts[2]}}})), abi.ErrMalformed)

	// Size and depth.
	add("size/token over 8 KiB", ed.Sign(hdr(ed), body("pad", strings.Repeat("a", 8<<10))), abi.ErrTooLarge)
	add("size/huge token of dots", strings.Repeat(".", 1<<20), abi.ErrTooLarge)
	add("depth/payload nested 20 deep", signed(ed, string(hdr(ed)), strings.TrimSuffix(string(body()), "}")+`,"x":`+strings.Repeat("[", 20)+strings.Repeat("]", 20)+"}"), abi.ErrTooLarge)
	add("depth/header nested 20 deep", signed(ed, strings.TrimSuffix(string(hdr(ed)), "}")+`,"x":`+strings.Repeat("[", 20)+strings.Repeat("]", 20)+"}", string(body())), abi.ErrTooLarge)

	// Key sets.
	{
		withD := ed.PublicJWK()
		withD["d"] = b64(make([]byte, 32))
		addKS("jwks/key with private member d is refused", JWKS(withD, es.PublicJWK()), ed.Token(claims), abi.ErrUnknownKey)
		addKS("jwks/only key has private member", JWKS(withD), ed.Token(claims), abi.ErrInvalidKeySet)
		oct := map[string]any{"kty": "oct", "kid": "hmac", "alg": "HS256", "k": b64(ed.PublicKeyBytes())}
		addKS("jwks/symmetric key refuses the set", JWKS(oct, ed.PublicJWK()), ed.Token(claims), abi.ErrInvalidKeySet)
		dup := es.PublicJWK()
		dup["kid"] = KIDEdDSA
		addKS("jwks/duplicate kid refuses the set", JWKS(ed.PublicJWK(), dup), ed.Token(claims), abi.ErrInvalidKeySet)
		enc := ed.PublicJWK()
		enc["use"] = "enc"
		addKS("jwks/use enc is unusable", JWKS(enc, es.PublicJWK()), ed.Token(claims), abi.ErrUnknownKey)
		ops := ed.PublicJWK()
		ops["key_ops"] = []string{"sign"}
		addKS("jwks/key_ops without verify is unusable", JWKS(ops, es.PublicJWK()), ed.Token(claims), abi.ErrUnknownKey)
		addKS("jwks/signing key no longer published", JWKS(es.PublicJWK(), rs.PublicJWK()), ed.Token(claims), abi.ErrUnknownKey)
		addKS("jwks/empty", []byte(`{"keys":[]}`), ed.Token(claims), abi.ErrInvalidKeySet)
		addKS("jwks/not JSON", []byte(`keys`), ed.Token(claims), abi.ErrInvalidKeySet)
		addKS("jwks/duplicate member", []byte(`{"keys":[],"keys":`+string(JWKS()[8:])), ed.Token(claims), abi.ErrInvalidKeySet)
	}
	return cases
}

// signedAs signs with k but writes alg and kid as given.
func signedAs(k TestKey, alg, kid string, payload []byte) string {
	return k.Sign(MustJSON(map[string]any{"alg": alg, "kid": kid, "typ": "at+jwt"}), payload)
}

// set returns m with the pairs applied (a nil value deletes the member).
func set(m map[string]any, kv ...any) map[string]any {
	for i := 0; i+1 < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(m, k)
		} else {
			m[k] = kv[i+1]
		}
	}
	return m
}

// toStd signs a token whose segments use the standard base64 alphabet; the payload is
// padded with a claim until some segment contains '+' or '/'.
func toStd(k TestKey, header, payload []byte) string {
	for i := 0; ; i++ {
		p := payload
		if i > 0 {
			p = MustJSON(set(Claims(Now), "jti", strings.Repeat("?", i)))
		}
		std := base64.RawStdEncoding
		input := std.EncodeToString(header) + "." + std.EncodeToString(p)
		tok := input + "." + std.EncodeToString(k.SignatureOver([]byte(input)))
		if strings.ContainsAny(tok, "+/") {
			return tok
		}
	}
}

// trailingBits sets the lowest unused bit of the last character of an unpadded
// base64url segment whose length is not a multiple of 4.
func trailingBits(seg string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, seg[len(seg)-1])
	if len(seg)%4 == 0 {
		panic("vectors: segment has no unused bits")
	}
	return seg[:len(seg)-1] + string(alphabet[last|1])
}

func leToBig(b []byte) *big.Int {
	be := make([]byte, len(b))
	for i := range b {
		be[len(b)-1-i] = b[i]
	}
	return new(big.Int).SetBytes(be)
}

func bigToLE(v *big.Int, size int) []byte {
	be := v.FillBytes(make([]byte, size))
	for i, j := 0, len(be)-1; i < j; i, j = i+1, j-1 {
		be[i], be[j] = be[j], be[i]
	}
	return be
}

// zeroReader makes PSS salts deterministic (test data only).
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

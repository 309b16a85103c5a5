package conformance

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/abi"
)

// outcome is what an engine said about one token, comparable across engines.
type outcome struct {
	claims verifier.Claims
	status abi.Status
}

func (o outcome) String() string {
	if o.status != abi.StatusOK {
		return fmt.Sprintf("reject %v", o.status.Err())
	}
	return fmt.Sprintf("accept %+v", o.claims)
}

// verifyAll verifies token on every engine given and returns their outcomes.
func verifyAll(t *testing.T, es []verifier.Engine, token string, now int64) []outcome {
	t.Helper()
	outs := make([]outcome, len(es))
	for i, e := range es {
		c, err := e.VerifyToken(context.Background(), token, now)
		outs[i] = outcome{c, abi.StatusOf(err)}
		if err != nil && outs[i].status == abi.StatusInternal {
			t.Errorf("engine %d: internal error: %v", i, err)
		}
	}
	return outs
}

// TestGolangJWTTokensVerifyIdentically mints tokens with golang-jwt, with fresh random
// keys of every algorithm, valid ones and ones broken in a known way, and requires the
// native engine, the module and the module on the two-phase path to agree on every one
// (claims or sentinel), and to agree with the expected verdict.
func TestGolangJWTTokensVerifyIdentically(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, alg := range []string{"EdDSA", "ES256", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			s := newSigner(t, alg, "k-"+alg)
			other := newSigner(t, alg, "k-"+alg) // same kid, key not published
			twoPhase := newWasm(t, wasmOpts1)
			es := []verifier.Engine{newNative(t), newWasm(t, moduleSigs(wasmOpts1)), twoPhase}
			for _, e := range es {
				setUp(t, e, testConfig(16), s)
			}
			type tc struct {
				name  string
				token string
				want  error
			}
			cases := []tc{
				{"valid", s.mint(t, claims(nil)), nil},
				{"aud list", s.mint(t, claims(map[string]any{"aud": []string{"other", testAudience}})), nil},
				{"expired", s.mint(t, claims(map[string]any{"exp": testNow - 1})), abi.ErrExpired},
				{"not yet valid", s.mint(t, claims(map[string]any{"nbf": testNow + 3600})), abi.ErrNotValidYet},
				{"issued in future", s.mint(t, claims(map[string]any{"iat": testNow + 3600})), abi.ErrIssuedInFuture},
				{"other issuer", s.mint(t, claims(map[string]any{"iss": "https://evil.test"})), abi.ErrInvalidIssuer},
				{"other audience", s.mint(t, claims(map[string]any{"aud": "https://other.test"})), abi.ErrInvalidAudience},
				{"no exp", s.mint(t, claims(map[string]any{"exp": nil})), abi.ErrInvalidClaims},
				{"string exp", s.mint(t, claims(map[string]any{"exp": "2000000000"})), abi.ErrInvalidClaims},
				{"unpublished key", other.mint(t, claims(nil)), abi.ErrSignatureInvalid},
			}
			valid := cases[0].token
			parts := strings.Split(valid, ".")
			forged := b64(mustJSON(t, claims(map[string]any{"roles": []string{"admin"}})))
			cases = append(cases,
				tc{"payload swapped", parts[0] + "." + forged + "." + parts[2], abi.ErrSignatureInvalid},
				tc{"signature bit flipped", parts[0] + "." + parts[1] + "." + flipBit(t, parts[2]), abi.ErrSignatureInvalid},
				tc{"signature one byte short", parts[0] + "." + parts[1] + "." + dropByte(t, parts[2]), abi.ErrSignatureInvalid},
				tc{"signature non-canonical base64", parts[0] + "." + parts[1] + "." + setPadBit(parts[2]), abi.ErrMalformed},
				tc{"padded", valid + "=", abi.ErrMalformed},
			)
			unknown := jwt.NewWithClaims(s.method, claims(nil))
			unknown.Header["kid"], unknown.Header["typ"] = "nobody", "at+jwt"
			if tok, err := unknown.SignedString(s.key); err == nil {
				cases = append(cases, tc{"unknown kid", tok, abi.ErrUnknownKey})
			}
			// Random valid claim sets: subjects, roles and times vary.
			for i := range 20 {
				iat := testNow - int64(rng.IntN(500))
				roles := []string{}
				for r := range rng.IntN(4) {
					roles = append(roles, fmt.Sprintf("role-%d", r))
				}
				cases = append(cases, tc{fmt.Sprintf("random %d", i), s.mint(t, claims(map[string]any{
					"sub": fmt.Sprintf("user-%d", rng.Uint64()), "roles": roles, "jti": fmt.Sprint(i),
					"iat": iat, "nbf": iat, "exp": iat + 600,
				})), nil})
			}
			for _, c := range cases {
				outs := verifyAll(t, es, c.token, testNow)
				n, w, w2 := outs[0], outs[1], outs[2]
				if n.status != w.status || !reflect.DeepEqual(n.claims, w.claims) ||
					n.status != w2.status || !reflect.DeepEqual(n.claims, w2.claims) {
					t.Errorf("%s: engines differ: go %v, wasm %v, wasm-twophase %v", c.name, n, w, w2)
				}
				if !errors.Is(n.status.Err(), c.want) {
					t.Errorf("%s: got %v, want %v", c.name, n, c.want)
				}
				if c.want == nil && (n.claims.Subject == "" || n.claims.ExpiresAt == 0 || n.claims.Issuer != testIssuer) {
					t.Errorf("%s: accepted with empty claims %+v", c.name, n.claims)
				}
			}
			if got := twoPhase.HostSignatureChecks(); (alg == "RS256") != (got > 0) {
				t.Errorf("%s: the host checked %d signatures on the two-phase path", alg, got)
			}
		})
	}
}

// flipBit flips one bit in the middle of a base64url signature.
func flipBit(t *testing.T, sig string) string {
	raw, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 0x10
	return b64(raw)
}

// dropByte removes the last byte of a base64url signature (canonically re-encoded).
func dropByte(t *testing.T, sig string) string {
	raw, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		t.Fatal(err)
	}
	return b64(raw[:len(raw)-1])
}

// setPadBit sets the lowest unused bit of the last base64url character: the bytes
// decode the same in a lenient decoder, but the encoding is not canonical. (Every
// signature length here, 64 and 256 bytes, leaves 4 unused bits.)
func setPadBit(sig string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, sig[len(sig)-1])
	return sig[:len(sig)-1] + string(alphabet[last|1])
}

package conformance

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/gate"
	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
	"github.com/edgeauth/edgeauth/verifier/jose"
)

// TestWycheproofJWSBothEngines takes the Wycheproof JWS and JWK cases (their accept or
// reject verdicts are checked natively in verifier/jose) through the two engines:
//
//   - every case's key set is loaded by both engines' LoadKeys, which must agree (loaded,
//     or refused with the same status);
//   - every compact token whose segments are canonical base64url has its signature
//     checked through both engines' raw-signature path (the module with its own crypto
//     and on the two-phase path, where the host checks RS256) against every key of its set
//     that carries the token's algorithm; the engines must agree, and a token the native
//     core accepts (jose.VerifyCompact) must verify on both engines under its kid.
func TestWycheproofJWSBothEngines(t *testing.T) {
	cases, err := vectors.WycheproofJWS(wycheproofDir(t))
	if err != nil {
		t.Fatal(err)
	}
	h, twoPhase := newWasm(t, moduleSigs(wasmOpts1)), newWasm(t, wasmOpts1)
	algs := []jose.Algorithm{jose.EdDSA, jose.ES256, jose.RS256}
	var keySets, refusedSets, checks, accepted int
	for _, c := range cases {
		id := fmt.Sprintf("%s tcId %d (%s)", c.File, c.TcID, c.Comment)
		if c.MACKey != nil || len(c.JWKS) == 0 {
			continue // HMAC (out of scope, refused by design) or no key set
		}
		native, wasm := newNative(t), h
		nErr, wErr := native.LoadKeys(context.Background(), c.JWKS), wasm.LoadKeys(context.Background(), c.JWKS)
		if abi.StatusOf(nErr) != abi.StatusOf(wErr) {
			t.Errorf("%s: LoadKeys differs: go %v, wasm %v", id, nErr, wErr)
		}
		keySets++
		if nErr != nil {
			refusedSets++
			continue
		}
		ks, err := jose.ParseJWKS(c.JWKS)
		if err != nil {
			t.Fatalf("%s: engines loaded a key set jose refuses: %v", id, err)
		}
		_, verifyErr := jose.VerifyCompact([]byte(c.Token), ks, algs, "")

		input, sig, hdr, ok := splitCompact(c.Token)
		if !ok {
			if verifyErr == nil {
				t.Errorf("%s: jose accepted a token with non-canonical segments", id)
			}
			continue
		}
		verifiedUnderKid := false
		for _, k := range jwksKeys(t, c.JWKS) {
			if k.Alg != hdr.Alg {
				continue
			}
			in := abi.EncodeSignatureCheck(k.raw, input, sig)
			n, w := abi.StatusOf(gate.VerifySignature(in)), abi.StatusOf(h.VerifySignature(context.Background(), in))
			w2 := abi.StatusOf(twoPhase.VerifySignature(context.Background(), in))
			checks++
			if n != w || n != w2 {
				t.Errorf("%s kid %q: raw signature check differs: go %v, wasm %v, wasm-twophase %v", id, k.Kid, n.Err(), w.Err(), w2.Err())
			}
			if n == abi.StatusOK && k.Kid == hdr.Kid {
				verifiedUnderKid = true
			}
		}
		if verifyErr == nil {
			accepted++
			if !verifiedUnderKid {
				t.Errorf("%s: jose accepts the token but its signature does not verify under kid %q on the engines", id, hdr.Kid)
			}
		}
	}
	t.Logf("JWS/JWK through both engines: %d key sets (%d refused by both), %d raw signature checks, %d tokens accepted natively and verified on both",
		keySets, refusedSets, checks, accepted)
	if keySets < 100 || checks < 100 || accepted == 0 {
		t.Errorf("too few cases exercised: %d key sets, %d checks, %d accepted", keySets, checks, accepted)
	}
}

type jwsHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

// splitCompact returns the signing input, the signature and the header of a compact
// JWS whose three segments are canonical unpadded base64url.
func splitCompact(token string) (input, sig []byte, hdr jwsHeader, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, nil, hdr, false
	}
	enc := base64.RawURLEncoding.Strict()
	h, err1 := enc.DecodeString(parts[0])
	s, err2 := enc.DecodeString(parts[2])
	if err1 != nil || err2 != nil || json.Unmarshal(h, &hdr) != nil {
		return nil, nil, hdr, false
	}
	return []byte(parts[0] + "." + parts[1]), s, hdr, true
}

type rawJWK struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	raw []byte
}

// jwksKeys lists the keys of a JWKS with each key's own JSON.
func jwksKeys(t *testing.T, jwks []byte) []rawJWK {
	t.Helper()
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(jwks, &set); err != nil {
		t.Fatalf("JWKS the engines loaded is not JSON: %v", err)
	}
	out := make([]rawJWK, 0, len(set.Keys))
	for _, raw := range set.Keys {
		var k rawJWK
		if json.Unmarshal(raw, &k) == nil {
			k.raw = raw
			out = append(out, k)
		}
	}
	return out
}

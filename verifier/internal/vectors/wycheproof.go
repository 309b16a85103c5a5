package vectors

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
)

// SignatureCase is one raw signature check from a Wycheproof signature file: verify Sig
// over Msg with the key JWK (which carries "alg", as jose.ParseJWK requires). Result is
// "valid", "invalid" or "acceptable" (may go either way; see Acceptable).
type SignatureCase struct {
	File    string
	TcID    int
	Comment string
	Flags   []string
	JWK     []byte
	Msg     []byte
	Sig     []byte
	Result  string
}

// Wycheproof signature files and the JWS algorithm each one tests.
var signatureFiles = []struct{ file, alg string }{
	{"ecdsa_secp256r1_sha256_p1363_test.json", "ES256"},
	{"ed25519_test.json", "EdDSA"},
	{"rsa_signature_2048_sha256_test.json", "RS256"},
}

// wycheproofPath is where the project carries the Wycheproof files its tests read,
// relative to the repository root (provenance and licence in that directory's README.md).
const wycheproofPath = "verifier/internal/vectors/testdata/wycheproof"

// WycheproofDir returns the directory of the Wycheproof files the project carries,
// found by walking up from the working directory to the directory holding go.mod.
func WycheproofDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, filepath.FromSlash(wycheproofPath)), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("vectors: no go.mod above the working directory")
		}
		dir = parent
	}
}

type wpFile struct {
	TestGroups []struct {
		PublicKey struct {
			Uncompressed   string `json:"uncompressed"`   // ECDSA
			PK             string `json:"pk"`             // Ed25519
			Modulus        string `json:"modulus"`        // RSA
			PublicExponent string `json:"publicExponent"` // RSA
		} `json:"publicKey"`
		Tests []struct {
			TcID    int      `json:"tcId"`
			Comment string   `json:"comment"`
			Flags   []string `json:"flags"`
			Msg     string   `json:"msg"`
			Sig     string   `json:"sig"`
			Result  string   `json:"result"`
		} `json:"tests"`
	} `json:"testGroups"`
}

// Wycheproof loads the ECDSA P-256 (P1363, the JWS encoding), Ed25519 and RSA 2048
// PKCS#1 v1.5 SHA-256 signature cases from dir (see WycheproofDir). The JWK of each
// group is built from the group's hex public key (the uncompressed point for ECDSA,
// since some groups lack publicKeyJwk), with "alg" set.
func Wycheproof(dir string) ([]SignatureCase, error) {
	var out []SignatureCase
	for _, sf := range signatureFiles {
		data, err := os.ReadFile(filepath.Join(dir, sf.file))
		if err != nil {
			return nil, err
		}
		var f wpFile
		if err := json.Unmarshal(data, &f); err != nil {
			return nil, errors.New("vectors: " + sf.file + ": " + err.Error())
		}
		for _, g := range f.TestGroups {
			jwk, err := groupJWK(sf.alg, g.PublicKey.Uncompressed, g.PublicKey.PK, g.PublicKey.Modulus, g.PublicKey.PublicExponent)
			if err != nil {
				return nil, errors.New("vectors: " + sf.file + ": " + err.Error())
			}
			for _, tc := range g.Tests {
				msg, err1 := hex.DecodeString(tc.Msg)
				sig, err2 := hex.DecodeString(tc.Sig)
				if err := errors.Join(err1, err2); err != nil {
					return nil, err
				}
				out = append(out, SignatureCase{File: sf.file, TcID: tc.TcID, Comment: tc.Comment, Flags: tc.Flags,
					JWK: jwk, Msg: msg, Sig: sig, Result: tc.Result})
			}
		}
	}
	return out, nil
}

func groupJWK(alg, uncompressed, pk, modulus, exponent string) ([]byte, error) {
	m := map[string]any{"alg": alg}
	switch alg {
	case "ES256":
		pt, err := hex.DecodeString(uncompressed)
		if err != nil || len(pt) != 65 || pt[0] != 4 {
			return nil, errors.New("bad uncompressed point")
		}
		m["kty"], m["crv"], m["x"], m["y"] = "EC", "P-256", b64(pt[1:33]), b64(pt[33:])
	case "EdDSA":
		x, err := hex.DecodeString(pk)
		if err != nil {
			return nil, err
		}
		m["kty"], m["crv"], m["x"] = "OKP", "Ed25519", b64(x)
	case "RS256":
		n, err1 := hex.DecodeString(modulus)
		e, err2 := hex.DecodeString(exponent)
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		m["kty"], m["n"], m["e"] = "RSA", b64(bytes.TrimLeft(n, "\x00")), b64(bytes.TrimLeft(e, "\x00"))
	}
	return json.Marshal(m)
}

// JWSCase is one compact-JWS case from json_web_signature_test.json or
// json_web_key_test.json: load JWKS, verify Token, expect Result. JWKS is the group's
// public key wrapped in a set when the file gives one key, the group's set otherwise
// (the private set only when no public one exists: those are symmetric sets, which a
// verifier must refuse anyway). MAC is set for the "base64" group, whose cases are
// HS256: a verifier without HMAC checks the encoding rules and the MAC separately.
type JWSCase struct {
	File    string
	TcID    int
	Group   string
	Comment string
	JWKS    []byte
	Token   string
	Result  string
	MACKey  []byte // raw HS256 key for the base64 group, nil otherwise
}

// DefectiveJWS lists JWS cases whose label is wrong (see the vectors README): they are
// reported, not counted as failures.
var DefectiveJWS = map[int]string{
	367: "identical to valid tcId 357 but labelled invalid",
	370: "identical to valid tcId 357 but labelled invalid",
	372: "labelled valid but only verifies if a decoder silently drops an inserted '?'",
	373: "labelled valid but only verifies if a decoder silently drops an inserted '?'",
}

// jwsGroups are the groups of json_web_signature_test.json this verifier can run: the
// ES256 and RS256 groups, the RFC 7520 RS256 examples, the wrong-use/key_ops groups,
// and the base64 (format) group.
func jwsGroupWanted(comment string, public map[string]any) bool {
	switch comment {
	case "es256", "rs256", "SpecialCaseEs256", "base64", "rsa_encryption", "ec_key_for_encryption":
		return true
	case "rfc7520", "rfc7520WithKeyOps":
		return public != nil && public["alg"] == "RS256"
	}
	return false
}

type wpJWSFile struct {
	TestGroups []struct {
		Comment string         `json:"comment"`
		Public  map[string]any `json:"public"`
		Private map[string]any `json:"private"`
		Tests   []struct {
			TcID    int             `json:"tcId"`
			Comment string          `json:"comment"`
			JWS     json.RawMessage `json:"jws"`
			Result  string          `json:"result"`
		} `json:"tests"`
	} `json:"testGroups"`
}

// WycheproofJWS loads the compact-JWS cases this verifier can run: the groups of
// json_web_signature_test.json named in jwsGroupWanted, and every case of
// json_web_key_test.json (most are symmetric or unusable key sets, which must be
// refused). Cases whose "jws" is not a string (JSON serialization) are skipped: the
// attack suite covers JSON serialization.
func WycheproofJWS(dir string) ([]JWSCase, error) {
	var out []JWSCase
	for _, file := range []string{"json_web_signature_test.json", "json_web_key_test.json"} {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			return nil, err
		}
		var f wpJWSFile
		if err := json.Unmarshal(data, &f); err != nil {
			return nil, errors.New("vectors: " + file + ": " + err.Error())
		}
		for _, g := range f.TestGroups {
			if file == "json_web_signature_test.json" && !jwsGroupWanted(g.Comment, g.Public) {
				continue
			}
			var jwks []byte
			var mac []byte
			switch {
			case g.Comment == "base64":
				k, _ := g.Private["k"].(string)
				mac, err = b64Decode(k)
				if err != nil {
					return nil, err
				}
			case g.Public != nil && g.Public["keys"] != nil:
				jwks = MustJSON(g.Public)
			case g.Public != nil:
				jwks = MustJSON(map[string]any{"keys": []any{g.Public}})
			case g.Private != nil && g.Private["keys"] != nil:
				jwks = MustJSON(g.Private)
			default:
				jwks = MustJSON(map[string]any{"keys": []any{g.Private}})
			}
			for _, tc := range g.Tests {
				var tok string
				if err := json.Unmarshal(tc.JWS, &tok); err != nil {
					continue
				}
				out = append(out, JWSCase{File: file, TcID: tc.TcID, Group: g.Comment, Comment: tc.Comment,
					JWKS: jwks, Token: tok, Result: tc.Result, MACKey: mac})
			}
		}
	}
	return out, nil
}

func b64Decode(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

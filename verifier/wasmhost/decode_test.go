package wasmhost

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/edgeauth/edgeauth/verifier"
)

// The reflection-free decoders must read exactly what encoding/json reads from any
// output encoding/json (or the gate's writer) can produce.

var oddStrings = []string{"", "plain", "quote\" back\\ slash/", "\x00\x01\t\n\r\x1f", "<>&", "\u2028\u2029",
	"é 日本 😀", "bad \xff\xfe utf8 \xc3", "\ufffd", "%2Fapp%3Fa%3D1"}

func decisionCases() []verifier.Decision {
	var ds []verifier.Decision
	for i, s := range oddStrings {
		o := oddStrings[(i+3)%len(oddStrings)]
		ds = append(ds,
			verifier.Decision{Action: verifier.Action(s), Reason: verifier.Reason(o), Status: 302 - i, Location: s + o, ClearCookies: []string{s, o}},
			verifier.Decision{Action: verifier.ActionAllow, Reason: verifier.Reason(s), Identity: &verifier.Identity{Subject: s, SessionID: o, Roles: []string{o, s}, ExpiresAt: int64(i) - 1<<40}},
			verifier.Decision{Action: verifier.ActionDeny, Identity: &verifier.Identity{Roles: []string{}}, ClearCookies: []string{}},
		)
	}
	return ds
}

func TestDecodeDecisionMatchesEncodingJSON(t *testing.T) {
	for _, d := range decisionCases() {
		raw, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		checkDecision(t, raw)
	}
	// Spacing, escapes encoding/json does not produce, unknown members, null identity.
	for _, raw := range []string{
		` { "action" : "allow" , "reason":"\u0061\/b\ud83d\ude00" , "identity" : null , "x" : [1, {"y": [true, false, null, -1.5e3]}] } `,
		`{"action":"redirect","status":302,"location":"/login?return_to=%2F","clear_cookies":["a=; Max-Age=0"],"future":{}}`,
		`{"identity":{"sub":"u","sid":"s","exp":-5,"new":"x"},"reason":"lone \ud800 surrogate \udc00 x"}`,
	} {
		checkDecision(t, []byte(raw))
	}
}

func checkDecision(t *testing.T, raw []byte) {
	t.Helper()
	var want verifier.Decision
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatalf("encoding/json refused %s: %v", raw, err)
	}
	got, err := decodeDecision(raw)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeDecision(%s) =\n%#v, %v\nwant\n%#v", raw, got, err, want)
	}
}

func TestDecodeClaimsMatchesEncodingJSON(t *testing.T) {
	for i, s := range oddStrings {
		o := oddStrings[(i+5)%len(oddStrings)]
		for _, c := range []verifier.Claims{
			{Issuer: s, Subject: o, Audience: []string{s, o}, SessionID: s, Roles: []string{o}, TokenID: s, IssuedAt: int64(i), NotBefore: -int64(i), ExpiresAt: 1 << 62},
			{Issuer: s, Audience: []string{}},
		} {
			raw, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			var want verifier.Claims
			json.Unmarshal(raw, &want)
			got, err := decodeClaims(raw)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("decodeClaims(%s) =\n%#v, %v\nwant\n%#v", raw, got, err, want)
			}
		}
	}
}

func TestDecodeRefusesWhatTheABIDoesNotAllow(t *testing.T) {
	for name, raw := range map[string]string{
		"empty":             ``,
		"truncated":         `{"action":"allow"`,
		"array":             `[]`,
		"trailing data":     `{"action":"allow"} {}`,
		"status string":     `{"status":"302"}`,
		"fractional status": `{"status":3.5}`,
		"identity array":    `{"identity":[]}`,
		"roles not strings": `{"identity":{"roles":[1]}}`,
		"bad escape":        `{"reason":"\x"}`,
		"control character": "{\"reason\":\"a\x01\"}",
		"unquoted name":     `{action:"allow"}`,
		"missing comma":     `{"action":"allow" "reason":"x"}`,
		// Numbers as RFC 8259 spells them, read or skipped.
		"leading zero":          `{"status":007}`,
		"plus sign":             `{"status":+1}`,
		"minus alone":           `{"status":-}`,
		"unknown, leading zero": `{"extra":00}`,
		"unknown, no digits":    `{"extra":-.e}`,
		"unknown, bare dot":     `{"extra":1.}`,
		"unknown, two signs":    `{"extra":1e+-2}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := decodeDecision([]byte(raw)); !errors.Is(err, errDecode) {
				t.Fatalf("decodeDecision(%q) = %v, want errDecode", raw, err)
			}
		})
	}
	if _, err := decodeClaims([]byte(`{"aud":"one"}`)); !errors.Is(err, errDecode) {
		t.Fatal("aud must be an array in the output")
	}
}

// FuzzDecodeDecision round-trips fuzzed field values through encoding/json.
func FuzzDecodeDecision(f *testing.F) {
	for _, s := range oddStrings {
		f.Add(s, "x", int64(302))
	}
	f.Fuzz(func(t *testing.T, s, o string, n int64) {
		for _, d := range []verifier.Decision{
			{Action: verifier.Action(s), Reason: verifier.Reason(o), Status: int(n), Location: s, ClearCookies: []string{o}},
			{Reason: verifier.Reason(s), Identity: &verifier.Identity{Subject: o, SessionID: s, Roles: []string{s, o}, ExpiresAt: n}},
		} {
			raw, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			checkDecision(t, raw)
		}
	})
}

package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
)

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVerifiesTokensWithBothEngines(t *testing.T) {
	key := vectors.EdDSAKey()
	jwks := writeFile(t, "jwks.json", vectors.JWKS(key.PublicJWK()))
	valid := key.Token(vectors.Claims(vectors.Now))
	expired := vectors.Claims(vectors.Now)
	expired["exp"] = vectors.Now - 3600
	otherAud := vectors.Claims(vectors.Now)
	otherAud["aud"] = "https://elsewhere.test"
	parts := strings.Split(valid, ".")
	other := strings.Split(key.Token(otherAud), ".")
	tampered := parts[0] + "." + other[1] + "." + parts[2]
	es := vectors.ES256Key().Token(vectors.Claims(vectors.Now))
	stdin := strings.Join([]string{
		valid,
		key.Token(expired),
		key.Token(otherAud),
		tampered,
		"not a token",
		es,
		valid + "\r", // CRLF input
	}, "\n") // no final newline: the last line still counts
	want := strings.Join([]string{
		"accept",
		"reject expired",
		"reject invalid_audience",
		"reject signature_invalid",
		"reject malformed",
		"reject algorithm_not_allowed",
		"accept",
	}, "\n") + "\n"
	for _, engine := range []string{"native", "wasm"} {
		t.Run(engine, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run([]string{"--jwks", jwks, "--issuer", vectors.Issuer, "--audience", vectors.Audience,
				"--alg", "EdDSA", "--leeway", "30", "--now", strconv.FormatInt(vectors.Now, 10), "--engine", engine},
				strings.NewReader(stdin), &stdout, &stderr)
			if code != 0 {
				t.Fatalf("exit %d, stderr %s", code, stderr.String())
			}
			if stdout.String() != want {
				t.Fatalf("output:\n%s\nwant:\n%s", stdout.String(), want)
			}
		})
	}
}

func TestHelpExitsZero(t *testing.T) {
	for _, arg := range []string{"-h", "--help"} {
		var stdout, stderr bytes.Buffer
		if code := run([]string{arg}, strings.NewReader(""), &stdout, &stderr); code != 0 {
			t.Errorf("%s: exit %d, want 0", arg, code)
		}
		if !strings.Contains(stderr.String(), "usage: edgeauth-verify") {
			t.Errorf("%s: no usage printed: %q", arg, stderr.String())
		}
	}
}

func TestUsageErrors(t *testing.T) {
	jwks := writeFile(t, "jwks.json", vectors.JWKS())
	base := []string{"--jwks", jwks, "--issuer", vectors.Issuer, "--audience", vectors.Audience}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no flags", nil, "missing required flag(s): --audience, --issuer, --jwks"},
		{"unknown flag", append(base, "--bogus"), "flag provided but not defined: -bogus"},
		{"bad engine", append(base, "--engine", "jvm"), `--engine "jvm": want native or wasm`},
		{"missing jwks file", []string{"--jwks", "/nonexistent/jwks.json", "--issuer", "a", "--audience", "b"}, "--jwks: open /nonexistent/jwks.json"},
		{"symmetric jwks", []string{"--jwks", writeFile(t, "oct.json", []byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"h","alg":"HS256"}]}`)),
			"--issuer", "a", "--audience", "b"}, "--jwks: "},
		{"bad algorithm", append(base, "--alg", "HS256"), "refused"},
		{"bad leeway", append(base, "--leeway", "soon"), `invalid value "soon" for flag -leeway`},
		{"stray argument", append(base, "token"), "unexpected argument, not shown (tokens are read from stdin"},
		{"missing revocations file", append(base, "--revocations", "/nonexistent/revs"), "--revocations: open /nonexistent/revs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tc.args, strings.NewReader(""), &stdout, &stderr); code != 2 {
				t.Fatalf("exit %d, want 2 (stderr %s)", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("stderr %q lacks %q", stderr.String(), tc.want)
			}
		})
	}
}

func TestEveryStatusHasAReason(t *testing.T) {
	seen := map[string]bool{}
	for s := abi.StatusMalformed; s.Err() != abi.ErrInternal; s++ {
		r := reason(s.Err())
		if r == "" || seen[r] || strings.ContainsAny(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZ ") {
			t.Errorf("status %d: reason %q empty, repeated or not snake case", s, r)
		}
		seen[r] = true
	}
	for err, want := range map[error]string{abi.ErrSignatureInvalid: "signature_invalid", abi.ErrInvalidRevocationList: "invalid_revocation_list",
		abi.ErrExpired: "expired", errors.New("other"): "internal"} {
		if got := reason(err); got != want {
			t.Errorf("reason(%v) = %q, want %q", err, got, want)
		}
	}
}

// A token given as an argument instead of on stdin is refused without being echoed:
// stderr is often captured (CI logs), and the token is a live credential.
func TestStrayTokenIsNotEchoed(t *testing.T) {
	jwks := writeFile(t, "jwks.json", vectors.JWKS())
	tok := "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJzdHJheSJ9.c3RyYXktc2lnbmF0dXJl"
	var stdout, stderr bytes.Buffer
	args := []string{"--jwks", jwks, "--issuer", vectors.Issuer, "--audience", vectors.Audience, tok}
	if code := run(args, strings.NewReader(""), &stdout, &stderr); code != 2 {
		t.Fatalf("exit %d, want 2 (stderr %s)", code, stderr.String())
	}
	for _, part := range strings.Split(tok, ".") {
		if strings.Contains(stdout.String()+stderr.String(), part) {
			t.Fatalf("the token was echoed: %q", stderr.String())
		}
	}
}

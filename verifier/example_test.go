package verifier_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/edgeauth/edgeauth/verifier"
)

// The native engine decides as verifier.wasm does, without wasm: configure it with the
// control plane's edge configuration and this edge's rules, load the JWKS, decide.
func ExampleNewNative() {
	ctx := context.Background()
	is := newIssuer()           // stands in for the control plane
	now := int64(1_800_000_000) // unix seconds; time.Now().Unix() in an edge
	e := verifier.NewNative()
	defer e.Close(ctx)

	cfg := verifier.Config{
		// What the control plane publishes at /.well-known/edgeauth/edge-config.
		EdgeConfig: verifier.EdgeConfig{
			Issuer: "https://auth.example.test", Audience: "https://app.example.test", Algorithms: []string{"EdDSA"},
			AccessCookie:  verifier.Cookie{Name: "__Host-edgeauth", Path: "/", Secure: true, HTTPOnly: true, SameSite: "Lax"},
			RefreshCookie: verifier.Cookie{Name: "__Secure-edgeauth-refresh", Path: "/auth", Secure: true, HTTPOnly: true, SameSite: "Lax"},
			LoginPath:     "/login", RefreshPath: "/auth/refresh",
		},
		// This edge's own rules.
		LocalConfig: verifier.LocalConfig{PublicPaths: []string{"/login", "/auth/"}, DefaultProtected: true, CacheEntries: 1024},
	}
	if err := e.Configure(ctx, cfg); err != nil {
		panic(err)
	}
	if err := e.LoadKeys(ctx, is.JWKS()); err != nil { // the control plane's /.well-known/jwks.json
		panic(err)
	}

	token := is.AccessToken("https://auth.example.test", "https://app.example.test", now)
	d, err := e.Decide(ctx, verifier.Request{Method: "GET", Path: "/app/", Cookies: []string{"__Host-edgeauth=" + token}}, now)
	fmt.Println(d.Action, d.Reason, d.Identity.Subject, err)
	h := http.Header{"X-Edgeauth-Subject": {"forged"}}
	verifier.SetIdentityHeaders(h, d.Identity) // what an edge forwards upstream
	fmt.Println(h.Get("X-Edgeauth-Subject"), h.Get("X-Edgeauth-Roles"))

	d, err = e.Decide(ctx, verifier.Request{Method: "GET", Path: "/app/", Query: "tab=2"}, now)
	fmt.Println(d.Action, d.Reason, d.Location, err)

	_, err = e.VerifyToken(ctx, token, now+3600)
	fmt.Println(errors.Is(err, verifier.ErrExpired))

	cfg.Issuer = ""
	fmt.Println(e.Configure(ctx, cfg)) // refused, with what to fix; the previous one stays
	// Output:
	// allow authenticated user-42 <nil>
	// user-42 admin,billing
	// redirect no_token /login?return_to=%2Fapp%2F%3Ftab%3D2 <nil>
	// true
	// edgeauth: invalid configuration: issuer is empty: set it to the control plane's issuer URL
}

// SafeReturnTo is the one rule for where a login page may send a user back to.
func ExampleSafeReturnTo() {
	for _, s := range []string{"/app/settings?tab=1", "//evil.example/", "/app/../admin", "https://evil.example/"} {
		fmt.Println(s, verifier.SafeReturnTo(s))
	}
	// Output:
	// /app/settings?tab=1 true
	// //evil.example/ false
	// /app/../admin false
	// https://evil.example/ false
}

// issuer stands in for the control plane in these examples: its Ed25519 signing key
// (a fixed seed, so the output is the same every run; a control plane generates and
// rotates its keys), the JWKS it publishes, and an access token it issues.
type issuer struct {
	kid  string
	priv ed25519.PrivateKey
}

func newIssuer() issuer {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i + 1)
	}
	return issuer{kid: "ed-2026-1", priv: ed25519.NewKeyFromSeed(seed)}
}

// JWKS is the document the control plane publishes at /.well-known/jwks.json.
func (is issuer) JWKS() []byte {
	b, _ := json.Marshal(map[string]any{"keys": []map[string]string{{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA",
		"use": "sig", "kid": is.kid, "x": base64.RawURLEncoding.EncodeToString(is.priv.Public().(ed25519.PublicKey))}}})
	return b
}

// AccessToken signs an access token (a compact JWS, typ at+jwt) for user-42, valid
// from a minute before now for ten minutes.
func (is issuer) AccessToken(iss, aud string, now int64) string {
	header, _ := json.Marshal(map[string]string{"alg": "EdDSA", "typ": "at+jwt", "kid": is.kid})
	claims, _ := json.Marshal(map[string]any{"iss": iss, "aud": aud, "sub": "user-42", "sid": "session-1",
		"roles": []string{"admin", "billing"}, "iat": now - 60, "nbf": now - 60, "exp": now + 540})
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(claims)
	return input + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(is.priv, []byte(input)))
}

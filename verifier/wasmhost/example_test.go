package wasmhost_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/wasmhost"
)

// A host runs the committed module: configure it, load the JWKS, decide requests.
func ExampleNewEmbedded() {
	ctx := context.Background()
	h, err := wasmhost.NewEmbedded(ctx, wasmhost.Options{})
	if err != nil {
		panic(err)
	}
	defer h.Close(ctx)
	is := newIssuer()           // stands in for the control plane
	now := int64(1_800_000_000) // unix seconds; time.Now().Unix() in an edge

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
	if err := h.Configure(ctx, cfg); err != nil {
		panic(err)
	}
	if err := h.LoadKeys(ctx, is.JWKS()); err != nil { // the control plane's /.well-known/jwks.json
		panic(err)
	}

	token := is.AccessToken("https://auth.example.test", "https://app.example.test", now)
	d, err := h.Decide(ctx, verifier.Request{Method: "GET", Path: "/app/", Cookies: []string{"__Host-edgeauth=" + token}}, now)
	fmt.Println(d.Action, d.Reason, d.Identity.Subject, err)

	d, err = h.Decide(ctx, verifier.Request{Method: "GET", Path: "/app/", Query: "tab=2"}, now)
	fmt.Println(d.Action, d.Reason, d.Location, err)
	// Output:
	// allow authenticated user-42 <nil>
	// redirect no_token /login?return_to=%2Fapp%2F%3Ftab%3D2 <nil>
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

package wasmhost_test

import (
	"context"
	"fmt"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
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

	cfg := verifier.Config{
		// What the control plane publishes at /.well-known/edgeauth/edge-config.
		EdgeConfig: verifier.EdgeConfig{
			Issuer: vectors.Issuer, Audience: vectors.Audience, Algorithms: []string{"EdDSA"},
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
	if err := h.LoadKeys(ctx, vectors.JWKS()); err != nil { // the control plane's /.well-known/jwks.json
		panic(err)
	}

	token := vectors.EdDSAKey().Token(vectors.Claims(vectors.Now))
	d, err := h.Decide(ctx, verifier.Request{Method: "GET", Path: "/app/", Cookies: []string{"__Host-edgeauth=" + token}}, vectors.Now)
	fmt.Println(d.Action, d.Reason, d.Identity.Subject, err)

	d, err = h.Decide(ctx, verifier.Request{Method: "GET", Path: "/app/", Query: "tab=2"}, vectors.Now)
	fmt.Println(d.Action, d.Reason, d.Location, err)
	// Output:
	// allow authenticated user-42 <nil>
	// redirect no_token /login?return_to=%2Fapp%2F%3Ftab%3D2 <nil>
}

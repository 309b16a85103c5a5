package verifier_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
)

// The native engine decides as verifier.wasm does, without wasm: configure it with the
// control plane's edge configuration and this edge's rules, load the JWKS, decide.
func ExampleNewNative() {
	ctx := context.Background()
	e := verifier.NewNative()
	defer e.Close(ctx)

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
	if err := e.Configure(ctx, cfg); err != nil {
		panic(err)
	}
	if err := e.LoadKeys(ctx, vectors.JWKS()); err != nil { // the control plane's /.well-known/jwks.json
		panic(err)
	}

	token := vectors.EdDSAKey().Token(vectors.Claims(vectors.Now))
	d, err := e.Decide(ctx, verifier.Request{Method: "GET", Path: "/app/", Cookies: []string{"__Host-edgeauth=" + token}}, vectors.Now)
	fmt.Println(d.Action, d.Reason, d.Identity.Subject, err)
	h := http.Header{"X-Edgeauth-Subject": {"forged"}}
	verifier.SetIdentityHeaders(h, d.Identity) // what an edge forwards upstream
	fmt.Println(h.Get("X-Edgeauth-Subject"), h.Get("X-Edgeauth-Roles"))

	d, err = e.Decide(ctx, verifier.Request{Method: "GET", Path: "/app/", Query: "tab=2"}, vectors.Now)
	fmt.Println(d.Action, d.Reason, d.Location, err)

	_, err = e.VerifyToken(ctx, token, vectors.Now+3600)
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

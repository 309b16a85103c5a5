package verifier

import (
	"context"
	"testing"

	"github.com/edgeauth/edgeauth/verifier/internal/vectors"
)

// clearingConfig is a configuration whose refresh cookie has the path refreshPath.
func clearingConfig(refreshPath string) Config {
	return Config{
		EdgeConfig: EdgeConfig{
			Issuer: vectors.Issuer, Audience: vectors.Audience, Algorithms: []string{"EdDSA"}, LeewaySeconds: 30,
			AccessCookie:  Cookie{Name: "__Host-edgeauth", Path: "/", Secure: true, HTTPOnly: true, SameSite: "Lax"},
			RefreshCookie: Cookie{Name: "__Secure-edgeauth-refresh", Path: refreshPath, Secure: true, HTTPOnly: true, SameSite: "Lax"},
			LoginPath:     "/login", RefreshPath: "/auth/refresh",
		},
		LocalConfig: LocalConfig{PublicPaths: []string{"/login", "/auth/"}, DefaultProtected: true, CacheEntries: 16},
	}
}

// A Decision the native engine returned keeps its values: its ClearCookies used to be a
// slice of one array in the engine, rewritten when a new configuration changed the
// clearing cookies, under a gate that may still be writing them into a response.
func TestNativeClearCookiesStayWithTheirDecision(t *testing.T) {
	ctx := context.Background()
	n := NewNative()
	defer n.Close(ctx)
	if err := n.Configure(ctx, clearingConfig("/auth")); err != nil {
		t.Fatal(err)
	}
	if err := n.LoadKeys(ctx, vectors.JWKS()); err != nil {
		t.Fatal(err)
	}
	bad := Request{Method: "GET", Path: "/app/", Cookies: []string{"__Host-edgeauth=not.a.token"}}
	d1, err := n.Decide(ctx, bad, vectors.Now)
	if err != nil || len(d1.ClearCookies) != 2 {
		t.Fatal(d1, err)
	}
	before := append([]string(nil), d1.ClearCookies...)
	if err := n.Configure(ctx, clearingConfig("/auth/v2")); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Decide(ctx, bad, vectors.Now); err != nil {
		t.Fatal(err)
	}
	if d1.ClearCookies[1] != before[1] {
		t.Fatalf("an earlier decision's ClearCookies changed under the caller:\nwas %q\nnow %q", before[1], d1.ClearCookies[1])
	}
}

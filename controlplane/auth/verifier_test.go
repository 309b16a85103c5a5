package auth_test

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/auth"
	"github.com/edgeauth/edgeauth/controlplane/revocation"
	"github.com/edgeauth/edgeauth/controlplane/store"
	"github.com/edgeauth/edgeauth/internal/pgtest"
	"github.com/edgeauth/edgeauth/keys"
	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/jose"
	"github.com/edgeauth/edgeauth/verifier/wasmhost"
)

// With the real signing-key manager, access tokens and the revocation list are accepted
// by the verifier core (verifier/jose, and the gate natively and as verifier.wasm)
// against the published JWKS; a session revoked by refresh-token reuse is on the list
// and every access token of it is refused at the edge.
func TestTokensAcceptedByVerifierCore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	kek := make([]byte, keys.KEKSize)
	rand.Read(kek)
	km, err := keys.NewManager(ctx, pool, keys.Config{KEK: kek, Issuer: testIssuer, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := auth.New(store.New(pool), km, auth.Config{Issuer: testIssuer, Audience: testAudience, RefreshTagKey: testTagKey, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	u, err := svc.CreateUser(ctx, auth.NewUser{Email: "verify@example.test", Password: testPassword, Roles: []string{"admin"}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := svc.Login(ctx, auth.LoginRequest{Email: "verify@example.test", Password: testPassword, IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := svc.Login(ctx, auth.LoginRequest{Email: "verify@example.test", Password: testPassword, IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := km.JWKS()
	ks, err := jose.ParseJWKS(jwks)
	if err != nil {
		t.Fatal(err)
	}
	v := &jose.Validator{Issuer: testIssuer, Audience: testAudience, Algorithms: []jose.Algorithm{jose.EdDSA}, Leeway: 5}
	now := time.Now().Unix()
	r2, err := svc.Refresh(ctx, auth.RefreshRequest{Token: r.Tokens.Refresh})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{r.Tokens.Access, r2.Tokens.Access} {
		c, err := v.Verify([]byte(tok), ks, now)
		if err != nil {
			t.Fatalf("verifier refuses the access token: %v", err)
		}
		if c.Subject != u.ID || c.SessionID != r.Session.ID || !slices.Equal(c.Roles, []string{"admin"}) ||
			!slices.Equal(c.Audience, []string{testAudience}) || c.ExpiresAt-c.IssuedAt != 600 || c.TokenID == "" {
			t.Fatalf("claims %+v", c)
		}
	}
	if _, err := v.Verify([]byte(r.Tokens.Access), ks, now+601+5); !errors.Is(err, abi.ErrExpired) {
		t.Fatalf("after exp: %v", err)
	}

	// Reuse: the session is revoked and appears on the signed list.
	if _, err := svc.Refresh(ctx, auth.RefreshRequest{Token: r.Tokens.Refresh}); err != nil {
		t.Fatalf("grace replay: %v", err)
	}
	third, err := svc.Refresh(ctx, auth.RefreshRequest{Token: r2.Tokens.Refresh})
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.Refresh(ctx, auth.RefreshRequest{Token: r.Tokens.Refresh})
	wantErr(t, err, auth.ErrRefreshReused)
	_, err = svc.Refresh(ctx, auth.RefreshRequest{Token: third.Tokens.Refresh})
	wantErr(t, err, auth.ErrRefreshInvalid)

	list, err := revocation.New(ctx, pool, km, revocation.Config{Issuer: testIssuer, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := list.Body()
	payload, err := jose.VerifyJWS(body, ks, []jose.Algorithm{jose.EdDSA}, revocation.Type)
	if err != nil {
		t.Fatalf("verifier refuses the revocation list: %v", err)
	}
	iss, _ := payload.Get("iss")
	if s, _ := iss.Str(); s != testIssuer {
		t.Fatalf("iss %q", s)
	}
	sids, _ := payload.Get("sids")
	var got []string
	for _, s := range sids.Array() {
		str, _ := s.Str()
		got = append(got, str)
	}
	if !slices.Equal(got, []string{r.Session.ID}) {
		t.Fatalf("sids %v, want [%s]", got, r.Session.ID)
	}
	iat, _ := payload.Get("iat")
	exp, _ := payload.Get("exp")
	ia, _ := iat.Int()
	ea, _ := exp.Int()
	if ea-ia != 60 {
		t.Fatalf("iat %d exp %d", ia, ea)
	}
	// The edge gate (natively and as verifier.wasm) takes the list and refuses every access
	// token of the revoked session while another session's token still passes.
	gcfg := verifier.Config{
		EdgeConfig: verifier.EdgeConfig{Issuer: testIssuer, Audience: testAudience, LeewaySeconds: 5,
			AccessCookie:  verifier.Cookie{Name: "__Host-edgeauth", Path: "/", Secure: true, HTTPOnly: true, SameSite: "Lax"},
			RefreshCookie: verifier.Cookie{Name: "__Host-edgeauth-refresh", Path: "/", Secure: true, HTTPOnly: true, SameSite: "Strict"},
			LoginPath:     "/login", RefreshPath: "/auth/refresh"},
		LocalConfig: verifier.LocalConfig{DefaultProtected: true, PublicPaths: []string{"/login", "/auth/refresh"}}}
	engines := map[string]func() (verifier.Engine, error){
		"go":   func() (verifier.Engine, error) { return verifier.NewNative(), nil },
		"wasm": func() (verifier.Engine, error) { return wasmhost.NewEmbedded(ctx, wasmhost.Options{}) },
	}
	for _, name := range []string{"go", "wasm"} {
		t.Run(name, func(t *testing.T) {
			eng, err := engines[name]()
			if err != nil {
				t.Fatal(err)
			}
			defer eng.Close(context.Background())
			if err := eng.Configure(ctx, gcfg); err != nil {
				t.Fatal(err)
			}
			if err := eng.LoadKeys(context.Background(), jwks); err != nil {
				t.Fatal(err)
			}
			now := time.Now().Unix()
			c, err := eng.VerifyToken(context.Background(), r2.Tokens.Access, now)
			if err != nil || c.SessionID != r.Session.ID || c.Subject != u.ID {
				t.Fatalf("gate before revocation: %+v, %v", c, err)
			}
			if err := eng.LoadRevocations(context.Background(), body, now); err != nil {
				t.Fatalf("gate refuses the revocation list: %v", err)
			}
			for _, tok := range []string{r.Tokens.Access, r2.Tokens.Access, third.Tokens.Access} {
				if _, err := eng.VerifyToken(context.Background(), tok, now); !errors.Is(err, verifier.ErrRevoked) {
					t.Fatalf("revoked session's token: %v, want ErrRevoked", err)
				}
			}
			if _, err := eng.VerifyToken(context.Background(), other.Tokens.Access, now); err != nil {
				t.Fatalf("other session's token refused: %v", err)
			}
		})
	}

	// An access-token verifier must not accept the list, nor the list check an access token.
	if _, err := jose.VerifyJWS([]byte(r.Tokens.Access), ks, []jose.Algorithm{jose.EdDSA}, revocation.Type); err == nil {
		t.Fatal("access token accepted as a revocation list")
	}
}

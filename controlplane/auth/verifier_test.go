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
	"github.com/edgeauth/edgeauth/migrations"
	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/jose"
)

// With the real signing-key manager, access tokens and the revocation list are accepted
// by the verifier core (verifier/jose) against the published JWKS, and a session revoked
// by refresh-token reuse is on the list.
func TestTokensAcceptedByVerifierCore(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t, pgtest.NewDatabase(t))
	if err := migrations.Apply(ctx, pool); err != nil {
		t.Fatal(err)
	}
	kek := make([]byte, keys.KEKSize)
	rand.Read(kek)
	km, err := keys.NewManager(ctx, pool, keys.Config{KEK: kek, Issuer: testIssuer}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := auth.New(store.New(pool), km, auth.Config{Issuer: testIssuer, Audience: testAudience, Logger: slog.New(slog.DiscardHandler)})
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
	// An access-token verifier must not accept the list, nor the list check an access token.
	if _, err := jose.VerifyJWS([]byte(r.Tokens.Access), ks, []jose.Algorithm{jose.EdDSA}, revocation.Type); err == nil {
		t.Fatal("access token accepted as a revocation list")
	}
}

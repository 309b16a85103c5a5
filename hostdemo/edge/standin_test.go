package edge_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/hostdemo/edge"
	"github.com/edgeauth/edgeauth/sessionauth"
	"github.com/edgeauth/edgeauth/verifier"
)

// standIn serves what a control plane publishes (edge configuration, JWKS, signed
// revocation list; no stream) and signs tokens with its one key, without a database.
// Its issuer and revoked sessions may change between requests.
type standIn struct {
	srv  *httptest.Server
	priv ed25519.PrivateKey

	mu      sync.Mutex
	issuer  string
	revoked []string
	now     int64
}

const standInAudience = "https://app.example.test"

func newStandIn(t *testing.T, issuer string, now int64) *standIn {
	t.Helper()
	seed := make([]byte, ed25519.SeedSize)
	seed[0] = 7
	s := &standIn{priv: ed25519.NewKeyFromSeed(seed), issuer: issuer, now: now, revoked: []string{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case sessionauth.EdgeConfigPath:
			json.NewEncoder(w).Encode(s.edgeConfig())
		case sessionauth.JWKSPath:
			json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{"kty": "OKP", "crv": "Ed25519",
				"alg": "EdDSA", "kid": "k1", "x": base64.RawURLEncoding.EncodeToString(s.priv.Public().(ed25519.PublicKey))}}})
		case sessionauth.RevocationsPath:
			s.mu.Lock()
			claims := map[string]any{"iss": s.issuer, "iat": s.now, "exp": s.now + 120, "sids": s.revoked}
			s.mu.Unlock()
			io.WriteString(w, s.sign("edgeauth-revocations+jwt", claims))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *standIn) edgeConfig() verifier.EdgeConfig {
	s.mu.Lock()
	defer s.mu.Unlock()
	return verifier.EdgeConfig{Issuer: s.issuer, Audience: standInAudience, Algorithms: []string{"EdDSA"},
		AccessCookie:  verifier.Cookie{Name: "at", Path: "/", HTTPOnly: true, SameSite: "Lax"},
		RefreshCookie: verifier.Cookie{Name: "rt", Path: "/auth", HTTPOnly: true, SameSite: "Lax"},
		LoginPath:     "/login", RefreshPath: "/auth/refresh"}
}

func (s *standIn) set(issuer string, revoked ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.issuer, s.revoked = issuer, append([]string{}, revoked...)
}

// token issues an access token of the current issuer; extra claims replace the
// defaults (valid from now for ten minutes).
func (s *standIn) token(sub, sid string, roles []string, extra map[string]any) string {
	s.mu.Lock()
	claims := map[string]any{"iss": s.issuer, "aud": standInAudience, "sub": sub, "sid": sid, "roles": roles,
		"iat": s.now, "exp": s.now + 600, "sess_exp": s.now + 86400}
	s.mu.Unlock()
	for k, v := range extra {
		claims[k] = v
	}
	return s.sign("at+jwt", claims)
}

func (s *standIn) sign(typ string, claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"alg": "EdDSA", "kid": "k1", "typ": typ})
	p, _ := json.Marshal(claims)
	in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	return in + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(s.priv, []byte(in)))
}

// newStandInGate is a gate (native engine, a synced Source, the clock at the stand-in's
// now) in front of upstream, for the stand-in's tokens: /pub/ public, /app/ for any
// signed-in user.
func newStandInGate(t *testing.T, upstream http.Handler) (*edge.Gate, *standIn) {
	t.Helper()
	now := time.Now().Unix()
	cp := newStandIn(t, "https://auth.example.test", now)
	ctx := context.Background()
	e := verifier.NewNative()
	t.Cleanup(func() { e.Close(ctx) })
	if err := e.Configure(ctx, verifier.Config{EdgeConfig: cp.edgeConfig(), LocalConfig: verifier.LocalConfig{
		PublicPaths: []string{"/pub/"}, Protected: []verifier.ProtectedRoute{{Prefix: "/app/"}}}}); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	clock := func() time.Time { return time.Unix(now, 0) }
	src, err := sessionauth.NewSource(sessionauth.SourceConfig{ControlPlane: cp.srv.URL, Engine: e, NoStream: true, Now: clock, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	return &edge.Gate{Engine: e, Source: src, Upstream: upstream, Now: clock, Logger: quiet}, cp
}

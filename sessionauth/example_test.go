package sessionauth_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth/sessionauth"
	"github.com/golang-jwt/jwt/v5"
)

// An API server checks the session next to its data: the middleware reads the access
// cookie (or a Bearer header), verifies it against the control plane's keys, refuses
// revoked sessions, and hands the identity to the handler.
func Example() {
	cp, accessToken := standInControlPlane()
	defer cp.Close()

	ctx := context.Background()
	src, err := sessionauth.NewSource(sessionauth.SourceConfig{
		ControlPlane: cp.URL,                     // the control plane's base URL
		Issuer:       "https://auth.example.com", // its issuer (public_url by default)
	})
	if err != nil {
		panic(err)
	}
	if err := src.Sync(ctx); err != nil { // first fetch; then keep it current:
		panic(err)
	}
	go src.Run(ctx)

	chk, err := sessionauth.NewChecker(src, sessionauth.CheckerConfig{
		Audience:    "https://app.example.com",
		AllowBearer: true, // API clients; browsers send the access cookie
	})
	if err != nil {
		panic(err)
	}
	orders := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := sessionauth.IdentityFrom(r.Context())
		fmt.Fprintf(w, "orders of %s (session %s, roles %v)\n", id.Subject, id.SessionID, id.Roles)
	})
	api := httptest.NewServer(chk.Middleware()(orders))
	defer api.Close()

	for _, auth := range []string{"Bearer " + accessToken, ""} {
		req, _ := http.NewRequest(http.MethodGet, api.URL+"/orders", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Print(resp.StatusCode, " ", string(body))
	}
	// Output:
	// 200 orders of user-42 (session s-1, roles [reader])
	// 401 {"error":{"code":"unauthenticated","message":"no valid access token: send the access cookie or an Authorization: Bearer header"}}
}

// standInControlPlane serves what a control plane publishes (its JWKS and a signed,
// empty revocation list) and returns an access token it issued. A real control plane
// is `edgeauth serve`.
func standInControlPlane() (*httptest.Server, string) {
	seed := make([]byte, ed25519.SeedSize)
	priv := ed25519.NewKeyFromSeed(seed)
	sign := func(typ string, claims jwt.MapClaims) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
		tok.Header["kid"], tok.Header["typ"] = "k1", typ
		s, _ := tok.SignedString(priv)
		return s
	}
	now := time.Now().Unix()
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA",
		"kid": "k1", "x": base64.RawURLEncoding.EncodeToString(priv.Public().(ed25519.PublicKey))}}})
	list := sign("edgeauth-revocations+jwt", jwt.MapClaims{"iss": "https://auth.example.com", "iat": now, "exp": now + 60, "sids": []string{}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/jwks.json"):
			w.Write(jwks)
		case strings.HasSuffix(r.URL.Path, "/revocations"):
			io.WriteString(w, list)
		default:
			http.NotFound(w, r)
		}
	}))
	return srv, sign("at+jwt", jwt.MapClaims{"iss": "https://auth.example.com", "aud": "https://app.example.com",
		"sub": "user-42", "sid": "s-1", "roles": []string{"reader"}, "iat": now, "exp": now + 600})
}

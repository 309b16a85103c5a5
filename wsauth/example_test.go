package wsauth_test

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
	"github.com/edgeauth/edgeauth/wsauth"
	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"
)

// An application's WebSocket server: the upgrade is authorized by the session cookie
// (with an allowed Origin) or a Bearer token, the handler knows who is connected, and
// the socket is closed with a documented code when the session ends.
func ExampleServer_Upgrade() {
	cp, token := standInControlPlane()
	defer cp.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	src, _ := sessionauth.NewSource(sessionauth.SourceConfig{ControlPlane: cp.URL, Issuer: "https://auth.example.com"})
	if err := src.Sync(ctx); err != nil {
		panic(err)
	}
	go src.Run(ctx) // keys, revocations and the revocation stream
	chk, _ := sessionauth.NewChecker(src, sessionauth.CheckerConfig{Audience: "https://app.example.com", AllowBearer: true})
	ws, err := wsauth.New(wsauth.Config{Checker: chk, AllowedOrigins: []string{"https://app.example.com"}})
	if err != nil {
		panic(err)
	}
	defer ws.Close()

	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Upgrade(w, r, nil) // refusals are answered already
		if err != nil {
			return
		}
		defer c.Close()
		c.WriteMessage(websocket.TextMessage, []byte("hello "+c.Identity().Subject))
		for { // read until the client or the session ends the connection
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}))
	defer app.Close()
	url := "ws" + strings.TrimPrefix(app.URL, "http")

	conn, _, err := websocket.DefaultDialer.Dial(url, http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		panic(err)
	}
	_, msg, _ := conn.ReadMessage()
	fmt.Println(string(msg))
	conn.Close()

	_, resp, _ := websocket.DefaultDialer.Dial(url, http.Header{"Authorization": {"Bearer " + token}, "Origin": {"https://evil.example"}})
	body, _ := io.ReadAll(resp.Body)
	fmt.Print(resp.StatusCode, " ", string(body))
	// Output:
	// hello user-42
	// 403 {"error":{"code":"origin_not_allowed","message":"this page's origin may not open a WebSocket with the session cookie"}}
}

// standInControlPlane serves what a control plane publishes (its JWKS and a signed,
// empty revocation list; no stream) and returns an access token it issued. A real
// control plane is `edgeauth serve`.
func standInControlPlane() (*httptest.Server, string) {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
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
		"sub": "user-42", "sid": "s-1", "iat": now, "exp": now + 600, "sess_exp": now + 86400})
}

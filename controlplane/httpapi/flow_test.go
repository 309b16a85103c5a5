package httpapi_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/config"
	"github.com/edgeauth/edgeauth/controlplane/cookies"
	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/jose"
	"github.com/edgeauth/edgeauth/verifier/wasmhost"
	"github.com/golang-jwt/jwt/v5"
)

// wantCookie is what a Set-Cookie header must say, attribute by attribute.
type wantCookie struct {
	name, path, domain string
	secure             bool
	maxAge             int
}

// checkSetCookie asserts every attribute of a Set-Cookie line and returns its value.
func checkSetCookie(t *testing.T, line string, w wantCookie) string {
	t.Helper()
	parts := strings.Split(line, "; ")
	name, value, _ := strings.Cut(parts[0], "=")
	if name != w.name {
		t.Fatalf("cookie name %q, want %q (%s)", name, w.name, line)
	}
	attrs := map[string]string{}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(p, "=")
		attrs[k] = v
	}
	want := map[string]string{"Path": w.path, "Max-Age": strconv.Itoa(w.maxAge), "HttpOnly": "", "SameSite": "Lax"}
	if w.secure {
		want["Secure"] = ""
	}
	if w.domain != "" {
		want["Domain"] = w.domain
	}
	if len(attrs) != len(want) {
		t.Fatalf("cookie attributes %v, want %v (%s)", attrs, want, line)
	}
	for k, v := range want {
		if got, ok := attrs[k]; !ok || got != v {
			t.Fatalf("cookie %s: %s=%q, want %q (%s)", name, k, got, v, line)
		}
	}
	return value
}

// clearingMatches asserts a clearing Set-Cookie repeats the setting one exactly, but
// for the empty value and Max-Age=0.
func clearingMatches(t *testing.T, set, clear string) {
	t.Helper()
	name, rest, _ := strings.Cut(set, "=")
	_, attrs, _ := strings.Cut(rest, ";")
	i := strings.Index(attrs, "Max-Age=")
	j := strings.Index(attrs[i:], ";")
	want := name + "=;" + attrs[:i] + "Max-Age=0" + attrs[i+j:]
	if clear != want {
		t.Fatalf("clearing cookie\n  %s\ndoes not match the setting one\n  %s\n(want %s)", clear, set, want)
	}
}

func TestFullFlowCookieAttributes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name            string
		mod             func(*config.Config)
		access, refresh wantCookie
	}{
		{
			name:    "same-site host (__Host- access, __Secure- refresh on /auth)",
			mod:     func(*config.Config) {},
			access:  wantCookie{name: "__Host-edgeauth_at", path: "/", secure: true, maxAge: 30 * 86400},
			refresh: wantCookie{name: "__Secure-edgeauth_rt", path: "/auth", secure: true, maxAge: 7 * 86400},
		},
		{
			name:    "parent domain (__Secure- names, Domain set)",
			mod:     func(c *config.Config) { c.Cookies.Domain = "example.test" },
			access:  wantCookie{name: "__Secure-edgeauth_at", path: "/", domain: "example.test", secure: true, maxAge: 30 * 86400},
			refresh: wantCookie{name: "__Secure-edgeauth_rt", path: "/auth", domain: "example.test", secure: true, maxAge: 7 * 86400},
		},
		{
			name:    "development over plain http (no Secure, no prefixes)",
			mod:     func(c *config.Config) { c.Dev = true; c.PublicURL = "http://localhost:8080"; c.Keys.KEK = "" },
			access:  wantCookie{name: "edgeauth_at", path: "/", maxAge: 30 * 86400},
			refresh: wantCookie{name: "edgeauth_rt", path: "/auth", maxAge: 7 * 86400},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{mod: tc.mod, clock: newClock()}) // a still clock: Max-Age is the time left, and a login takes time
			user := e.createUser(testEmail, testPassword)

			// Login: both cookies with every attribute; the body has the user, never a token.
			r := e.do(req{method: "POST", path: "/auth/login", body: `{"email":"` + testEmail + `","password":"` + testPassword + `"}`})
			if r.StatusCode != 200 {
				t.Fatalf("login: %d %s", r.StatusCode, r.body)
			}
			if r.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("login Cache-Control %q", r.Header.Get("Cache-Control"))
			}
			setAccess, setRefresh := r.setCookie(tc.access.name), r.setCookie(tc.refresh.name)
			at := checkSetCookie(t, setAccess, tc.access)
			rt := checkSetCookie(t, setRefresh, tc.refresh)
			if strings.Contains(string(r.body), at) || strings.Contains(string(r.body), rt) {
				t.Fatal("login body contains a token")
			}
			var lb struct {
				User struct{ ID, Email string }
			}
			r.decode(t, &lb)
			if lb.User.ID != user.ID || lb.User.Email != testEmail {
				t.Fatalf("login body %s", r.body)
			}
			accessC, refreshC := r.cookie(tc.access.name), r.cookie(tc.refresh.name)

			// Use: /auth/me and /auth/session with the cookie, and with a Bearer token.
			if r := e.do(req{method: "GET", path: "/auth/me", cookies: []*http.Cookie{accessC}}); r.StatusCode != 200 || !strings.Contains(string(r.body), testEmail) {
				t.Fatalf("me: %d %s", r.StatusCode, r.body)
			}
			var in struct {
				Active bool
				Sub    string
				Sid    string
			}
			r = e.do(req{method: "GET", path: "/auth/session", cookies: []*http.Cookie{accessC}})
			r.decode(t, &in)
			if r.StatusCode != 200 || !in.Active || in.Sub != user.ID || in.Sid == "" {
				t.Fatalf("session: %d %s", r.StatusCode, r.body)
			}
			if r := e.do(req{method: "GET", path: "/auth/session", header: map[string]string{"Authorization": "Bearer " + at}}); r.StatusCode != 200 {
				t.Fatalf("session with bearer: %d %s", r.StatusCode, r.body)
			}

			// Refresh: new cookies with the same attributes, new values.
			r = e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{refreshC}})
			if r.StatusCode != 200 || r.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("refresh: %d %s", r.StatusCode, r.body)
			}
			at2 := checkSetCookie(t, r.setCookie(tc.access.name), tc.access)
			rt2 := checkSetCookie(t, r.setCookie(tc.refresh.name), tc.refresh)
			if at2 == at || rt2 == rt {
				t.Fatal("refresh did not rotate the tokens")
			}
			accessC, refreshC = r.cookie(tc.access.name), r.cookie(tc.refresh.name)

			// Sessions: the current one is marked, with how it signed in.
			var sl struct {
				Sessions []struct {
					ID      string
					Current bool
					AMR     []string
				}
			}
			r = e.do(req{method: "GET", path: "/auth/sessions", cookies: []*http.Cookie{accessC}})
			r.decode(t, &sl)
			if len(sl.Sessions) != 1 || !sl.Sessions[0].Current || sl.Sessions[0].ID != in.Sid || !slices.Equal(sl.Sessions[0].AMR, []string{"pwd"}) {
				t.Fatalf("sessions: %s", r.body)
			}

			// Logout: both cookies cleared with exactly the attributes they were set with,
			// and nothing else (no Clear-Site-Data: it would wipe every cookie of the site).
			r = e.do(req{method: "POST", path: "/auth/logout", cookies: []*http.Cookie{accessC, refreshC}})
			if r.StatusCode != 204 || r.Header.Get("Clear-Site-Data") != "" || len(r.Header.Values("Set-Cookie")) != 2 {
				t.Fatalf("logout: %d %v", r.StatusCode, r.Header)
			}
			clearingMatches(t, setAccess, r.setCookie(tc.access.name))
			clearingMatches(t, setRefresh, r.setCookie(tc.refresh.name))

			// The access token still verifies cryptographically, but the session is gone.
			r = e.do(req{method: "GET", path: "/auth/session", cookies: []*http.Cookie{accessC}})
			if r.StatusCode != 401 || r.errorCode() != "session_inactive" {
				t.Fatalf("session after logout: %d %s", r.StatusCode, r.body)
			}
			if r := e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{refreshC}}); r.StatusCode != 401 {
				t.Fatalf("refresh after logout: %d %s", r.StatusCode, r.body)
			}

			// No secret in the logs.
			logs := e.logs.String()
			if !strings.Contains(logs, `"route":"POST /auth/login"`) {
				t.Fatalf("request log missing:\n%s", logs)
			}
			for what, secret := range map[string]string{"password": testPassword, "access token": at, "refresh token": rt, "access token 2": at2, "refresh token 2": rt2} {
				if strings.Contains(logs, secret) {
					t.Errorf("the %s appears in the logs", what)
				}
			}
		})
	}
}

// Tokens the control plane issues are accepted by the verifier core (natively and as
// the compiled verifier.wasm) and by golang-jwt, all against the published JWKS; the
// published revocation list loads into both engines and refuses a logged-out session.
func TestTokensAcceptedByVerifiers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{start: true})
	user := e.createUser(testEmail, testPassword)
	access, refresh := e.login(testEmail, testPassword)
	var in struct{ Sid string }
	e.do(req{method: "GET", path: "/auth/session", cookies: []*http.Cookie{access}}).decode(t, &in)
	// Log out, and wait for the published revocation list to name the session.
	if r := e.do(req{method: "POST", path: "/auth/logout", cookies: []*http.Cookie{access, refresh}}); r.StatusCode != 204 {
		t.Fatalf("logout: %d", r.StatusCode)
	}
	var revocations []byte
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		revocations = e.do(req{method: "GET", path: "/.well-known/edgeauth/revocations"}).body
		if slices.Contains(revokedSIDs(t, revocations), in.Sid) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("revocation list never named the session")
		}
	}
	r := e.do(req{method: "GET", path: "/.well-known/jwks.json"})
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/jwk-set+json" {
		t.Fatalf("jwks: %d %v", r.StatusCode, r.Header)
	}
	jwks := r.body
	now := time.Now().Unix()

	t.Run("verifier core (jose)", func(t *testing.T) {
		ks, err := jose.ParseJWKS(jwks)
		if err != nil {
			t.Fatal(err)
		}
		v := jose.Validator{Issuer: testPublicURL, Audience: testPublicURL, Algorithms: []jose.Algorithm{jose.EdDSA}, Type: "at+jwt"}
		c, err := v.Verify([]byte(access.Value), ks, now)
		if err != nil || c.Subject != user.ID || c.SessionID == "" {
			t.Fatalf("claims %+v, err %v", c, err)
		}
	})

	engines := verifierEngines(t, e, verifier.LocalConfig{}, jwks)
	for _, name := range []string{"native engine", "verifier.wasm"} {
		eng := engines[name]
		t.Run(name, func(t *testing.T) {
			c, err := eng.VerifyToken(context.Background(), access.Value, now)
			if err != nil || c.Subject != user.ID {
				t.Fatalf("claims %+v, err %v", c, err)
			}
			if _, err := eng.VerifyToken(context.Background(), access.Value, now+3600); !errors.Is(err, verifier.ErrExpired) {
				t.Fatalf("an hour later: %v, want ErrExpired", err)
			}
			// The control plane's signed revocation list loads, and refuses the token.
			if err := eng.LoadRevocations(context.Background(), revocations, now); err != nil {
				t.Fatalf("load revocations: %v", err)
			}
			if _, err := eng.VerifyToken(context.Background(), access.Value, now); !errors.Is(err, verifier.ErrRevoked) {
				t.Fatalf("after logout: %v, want ErrRevoked", err)
			}
		})
	}

	t.Run("golang-jwt", func(t *testing.T) {
		keys := parseEd25519JWKS(t, jwks)
		tok, err := jwt.Parse(access.Value, func(tok *jwt.Token) (any, error) {
			if tok.Header["typ"] != "at+jwt" {
				return nil, errors.New("typ")
			}
			k, ok := keys[tok.Header["kid"].(string)]
			if !ok {
				return nil, errors.New("unknown kid")
			}
			return k, nil
		}, jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithIssuer(testPublicURL), jwt.WithAudience(testPublicURL), jwt.WithExpirationRequired())
		if err != nil || !tok.Valid {
			t.Fatal(err)
		}
		if sub, _ := tok.Claims.GetSubject(); sub != user.ID {
			t.Fatalf("sub %q", sub)
		}
		if amr, _ := tok.Claims.(jwt.MapClaims)["amr"].([]any); len(amr) != 1 || amr[0] != "pwd" {
			t.Fatalf("amr %v, want [pwd] (a password login)", tok.Claims.(jwt.MapClaims)["amr"])
		}
	})
}

// verifierEngines returns the two verifier engines, "native engine" and
// "verifier.wasm", configured for e's control plane with local's route rules, jwks
// loaded; they are closed when the test ends.
func verifierEngines(t *testing.T, e *env, local verifier.LocalConfig, jwks []byte) map[string]verifier.Engine {
	t.Helper()
	ctx := context.Background()
	cfg := verifier.Config{EdgeConfig: verifier.EdgeConfig{
		Issuer: testPublicURL, Audience: testPublicURL, Algorithms: []string{"EdDSA"},
		AccessCookie:  verifierCookie(e.cfg.AccessCookie()),
		RefreshCookie: verifierCookie(e.cfg.RefreshCookie()),
		LoginPath:     "/login", RefreshPath: "/auth/refresh",
	}, LocalConfig: local}
	wasm, err := wasmhost.NewEmbedded(ctx, wasmhost.Options{PoolSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	engines := map[string]verifier.Engine{"native engine": verifier.NewNative(), "verifier.wasm": wasm}
	for _, eng := range engines {
		t.Cleanup(func() { eng.Close(ctx) })
		if err := eng.Configure(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		if err := eng.LoadKeys(ctx, jwks); err != nil {
			t.Fatal(err)
		}
	}
	return engines
}

func verifierCookie(s cookies.Spec) verifier.Cookie {
	return verifier.Cookie{Name: s.Name, Path: s.Path, Domain: s.Domain, Secure: s.Secure, HTTPOnly: true, SameSite: cookies.SameSiteName(s.SameSite)}
}

// parseEd25519JWKS reads the OKP keys of a JWKS by hand, as any third-party
// verifier would.
func parseEd25519JWKS(t *testing.T, body []byte) map[string]ed25519.PublicKey {
	t.Helper()
	var set struct {
		Keys []struct{ Kty, Crv, X, Kid, Alg string }
	}
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatal(err)
	}
	out := map[string]ed25519.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "OKP" || k.Crv != "Ed25519" || k.Alg != "EdDSA" {
			continue
		}
		x, err := base64.RawURLEncoding.DecodeString(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			t.Fatalf("bad key %s", k.Kid)
		}
		out[k.Kid] = ed25519.PublicKey(x)
	}
	if len(out) == 0 {
		t.Fatalf("no Ed25519 key in %s", body)
	}
	return out
}

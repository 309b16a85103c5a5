package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/wasmhost"
)

// When more sessions were revoked than the revocation list has room to name, the list
// the control plane publishes covers the rest with a cutoff, and both engines refuse
// what they must: the named session as revoked; the unnamed one and a live session's
// older token as expired (a refresh then tells them apart: the live one gets a token
// that passes, the revoked one 401).
func TestRevocationListCutoffReachesVerifiers(t *testing.T) {
	t.Parallel()
	clk := newClock()
	clk.ns.Store(time.Now().Truncate(time.Second).UnixNano())
	t0 := clk.Now().Unix()
	e := newEnv(t, envOptions{clock: clk, listBytes: 32 + 3}) // room for one session id
	e.createUser(testEmail, testPassword)
	ctx := context.Background()

	liveAccess, liveRefresh := e.login(testEmail, testPassword)
	goneAccess, goneRefresh := e.login(testEmail, testPassword)
	clk.Advance(2 * time.Second)
	lastAccess, lastRefresh := e.login(testEmail, testPassword)
	lastSID := e.sessionID(lastAccess)
	for _, c := range [][]*http.Cookie{{goneAccess, goneRefresh}, {lastAccess, lastRefresh}} {
		if r := e.do(req{method: "POST", path: "/auth/logout", cookies: c}); r.StatusCode != 204 {
			t.Fatalf("logout: %d %s", r.StatusCode, r.body)
		}
	}
	clk.Advance(time.Second)
	if err := e.app.Revocations.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	list := e.do(req{method: "GET", path: "/.well-known/edgeauth/revocations"}).body
	if sids, before := listCutoff(t, list); len(sids) != 1 || sids[0] != lastSID || before != t0+1 {
		t.Fatalf("list names %v with cutoff %d; want the last session and %d", sids, before, t0+1)
	}
	m := e.scrape()
	for _, want := range []string{
		"\nedgeauth_revocation_list_sessions 1\n",
		fmt.Sprintf("\nedgeauth_revocation_list_cutoff_timestamp_seconds %g\n", float64(t0+1)),
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q:\n%s", want, grepLines(m, "edgeauth_revocation_list"))
		}
	}
	jwks := e.do(req{method: "GET", path: "/.well-known/jwks.json"}).body
	renewed := e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{liveRefresh}})
	if renewed.StatusCode != 200 {
		t.Fatalf("refreshing the live session: %d %s", renewed.StatusCode, renewed.body)
	}
	if r := e.do(req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{goneRefresh}}); r.StatusCode != 401 {
		t.Fatalf("refreshing the revoked session: %d %s", r.StatusCode, r.body)
	}
	newAccess := renewed.cookie(e.cfg.AccessCookie().Name)

	for name, open := range map[string]func() (verifier.Engine, error){
		"native engine": func() (verifier.Engine, error) { return verifier.NewNative(), nil },
		"verifier.wasm": func() (verifier.Engine, error) { return wasmhost.NewEmbedded(ctx, wasmhost.Options{PoolSize: 1}) },
	} {
		t.Run(name, func(t *testing.T) {
			eng, err := open()
			if err != nil {
				t.Fatal(err)
			}
			defer eng.Close(ctx)
			cfg := verifier.Config{EdgeConfig: verifier.EdgeConfig{
				Issuer: testPublicURL, Audience: testPublicURL, Algorithms: []string{"EdDSA"},
				AccessCookie: verifierCookie(e.cfg.AccessCookie()), RefreshCookie: verifierCookie(e.cfg.RefreshCookie()),
				LoginPath: "/login", RefreshPath: "/auth/refresh",
			}}
			now := clk.Now().Unix()
			if err := eng.Configure(ctx, cfg); err != nil {
				t.Fatal(err)
			}
			if err := eng.LoadKeys(ctx, jwks); err != nil {
				t.Fatal(err)
			}
			if err := eng.LoadRevocations(ctx, list, now); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				name, token string
				want        error
			}{
				{"revoked, not named", goneAccess.Value, verifier.ErrExpired},
				{"live, issued before the cutoff", liveAccess.Value, verifier.ErrExpired},
				{"live, refreshed", newAccess.Value, nil},
				{"revoked, named", lastAccess.Value, verifier.ErrRevoked},
			} {
				if _, err := eng.VerifyToken(ctx, c.token, now); (c.want == nil) != (err == nil) || !errors.Is(err, c.want) {
					t.Errorf("%s: %v, want %v", c.name, err, c.want)
				}
			}
		})
	}
}

// listCutoff returns the session ids and the cutoff (0: none) of a signed list.
func listCutoff(t *testing.T, jws []byte) ([]string, int64) {
	t.Helper()
	var p struct {
		Sids   []string
		Before int64
	}
	if err := json.Unmarshal(jwsPayload(t, jws), &p); err != nil {
		t.Fatal(err)
	}
	return p.Sids, p.Before
}

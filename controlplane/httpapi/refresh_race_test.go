package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/edgeauth/edgeauth/controlplane/app"
	"github.com/edgeauth/edgeauth/controlplane/auth"
	"github.com/edgeauth/edgeauth/controlplane/config"
	"github.com/edgeauth/edgeauth/controlplane/httpapi"
	"github.com/edgeauth/edgeauth/controlplane/metrics"
	"github.com/edgeauth/edgeauth/controlplane/store"
)

// midRefresh is the real store, except that the first Refresh after arm runs hook
// once it has rotated: another refresh of the same token (a second tab) arriving
// between the first one's rotation and what follows it.
type midRefresh struct {
	*store.Store
	armed atomic.Bool
	hook  func()
}

func (m *midRefresh) Refresh(ctx context.Context, a store.RefreshAttempt) (store.RefreshResult, error) {
	r, err := m.Store.Refresh(ctx, a)
	if m.armed.CompareAndSwap(true, false) {
		m.hook()
	}
	return r, err
}

// Two tabs refresh a password-only session whose account must now use a second
// factor, the second within the grace while the first is between its rotation and the
// revocation that follows: both are answered 401 second_factor_required, and the
// session, revoked once, is counted once in edgeauth_session_revocations_total.
func TestSecondFactorRefreshRaceCountsOneRevocation(t *testing.T) {
	t.Parallel()
	clk := newClock()
	e := newEnv(t, envOptions{clock: clk, mod: func(c *config.Config) { c.SecondFactor.RequiredFor = []string{"admin"} }})
	ctx := context.Background()

	st := &midRefresh{Store: store.New(e.pool)}
	ac, err := app.AuthConfig(&e.cfg, slog.New(slog.DiscardHandler), clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := auth.New(st, e.app.Keys, ac)
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	h, err := httpapi.New(httpapi.Deps{Auth: svc, Keys: e.app.Keys, Revocations: e.app.Revocations, Database: store.New(e.pool),
		Metrics: m, Now: clk.Now}, e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	bob := e.createUser("bob@example.test", testPassword)
	_, refresh := e.login(bob.Email, testPassword)
	if err := e.app.Auth.SetRoles(ctx, bob.ID, []string{"admin"}); err != nil {
		t.Fatal(err)
	}
	refreshReq := req{method: "POST", path: "/auth/refresh", cookies: []*http.Cookie{refresh}}
	var second resp
	st.hook = func() { second = e.doAt(srv.URL, refreshReq) }
	st.armed.Store(true)
	first := e.doAt(srv.URL, refreshReq)
	for name, r := range map[string]resp{"first": first, "second": second} {
		if r.StatusCode != 401 || r.errorCode() != "second_factor_required" {
			t.Errorf("%s refresh: %d %s, want 401 second_factor_required", name, r.StatusCode, r.body)
		}
	}

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`edgeauth_refreshes_total{result="second_factor_required"} 2`,
		`edgeauth_session_revocations_total{reason="second_factor_required"} 1`,
	} {
		if !strings.Contains(string(b), want+"\n") {
			t.Errorf("metrics lack %q:\n%s", want, grepLines(string(b), "edgeauth_refreshes_total")+"\n"+grepLines(string(b), "edgeauth_session_revocations_total"))
		}
	}
}

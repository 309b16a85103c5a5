package auth_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/auth"
	"github.com/edgeauth/edgeauth/controlplane/revocation"
	"github.com/edgeauth/edgeauth/controlplane/store"
)

// tokenRows returns the session's refresh-token rows.
func tokenRows(t testing.TB, e *env, sid string) []store.RefreshToken {
	t.Helper()
	rows, err := e.st.SessionRefreshTokens(context.Background(), sid)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func liveCount(rows []store.RefreshToken) int {
	n := 0
	for _, r := range rows {
		if r.UsedAt == nil {
			n++
		}
	}
	return n
}

func auditCount(t testing.TB, e *env, kind, sid string) int {
	t.Helper()
	ev, err := e.st.AuditEvents(context.Background(), kind, sid, 100)
	if err != nil {
		t.Fatal(err)
	}
	return len(ev)
}

// 100 tabs refresh with the same token at once: all succeed with identical tokens, one
// rotation happened, one live successor, the session lives. Then the same token after the
// grace window revokes the session and nothing of it works any more.
func TestConcurrentRefreshGraceThenReplayRevokes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.user(t, "tabs@example.test")
	r := e.login(t, "tabs@example.test")
	sid := r.Session.ID

	const tabs = 100
	results := make([]*auth.Result, tabs)
	errs := make([]error, tabs)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range tabs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], errs[i] = e.refresh(r.Tokens.Refresh)
		}()
	}
	close(start)
	wg.Wait()
	for i := range tabs {
		if errs[i] != nil {
			t.Fatalf("tab %d: %v", i, errs[i])
		}
		if results[i].Tokens != results[0].Tokens {
			t.Fatalf("tab %d got different tokens", i)
		}
	}
	if results[0].Tokens.Refresh == r.Tokens.Refresh {
		t.Fatal("no rotation")
	}
	rows := tokenRows(t, e, sid)
	if len(rows) != 2 || liveCount(rows) != 1 || rows[0].UsedAt == nil || rows[1].ParentID == nil || *rows[1].ParentID != rows[0].ID {
		t.Fatalf("want exactly one rotation and one live successor, got %+v", rows)
	}
	e.active(t, sid, true)
	if n := auditCount(t, e, auth.ReasonRefreshReused, sid); n != 0 {
		t.Fatalf("%d reuse events", n)
	}
	succ := results[0].Tokens

	// Within the grace window, still the same successor.
	e.clock.Add(auth.DefaultRefreshGrace)
	if again := mustRefresh(t, e, r.Tokens.Refresh); again.Tokens != succ {
		t.Fatal("replay at the end of the grace window returned other tokens")
	}
	// After it: reuse.
	e.clock.Add(time.Second)
	_, err := e.refresh(r.Tokens.Refresh)
	wantErr(t, err, auth.ErrRefreshReused)
	e.active(t, sid, false)
	_, err = e.refresh(succ.Refresh)
	wantErr(t, err, auth.ErrRefreshInvalid)
	_, err = e.refresh(r.Tokens.Refresh)
	wantErr(t, err, auth.ErrRefreshInvalid) // revoked already: no second revocation
	if n := auditCount(t, e, auth.ReasonRefreshReused, sid); n != 1 {
		t.Fatalf("%d reuse events, want 1", n)
	}
	s, err := e.st.SessionByID(context.Background(), sid)
	if err != nil || s.RevokedAt == nil || s.RevokeReason != auth.ReasonRefreshReused {
		t.Fatalf("session %+v, %v", s, err)
	}
	if rows := tokenRows(t, e, sid); len(rows) != 2 {
		t.Fatalf("tokens minted after revocation: %d rows", len(rows))
	}
	// The revocation list now names the session, so edges refuse its access tokens.
	list, err := revocation.New(context.Background(), e.pool, e.signer, revocation.Config{Issuer: testIssuer, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if c := e.signer.parseList(t, list, e.clock.Now()); !slices.Contains(c.SessionIDs, sid) {
		t.Fatalf("revocation list %v lacks %s", c.SessionIDs, sid)
	}
}

func TestReuseRules(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// run rotates; it returns the token to replay, the latest token, and whether the
		// replay must revoke the session.
		run func(t *testing.T, e *env, first string) (replay, latest string, revokes bool)
	}{
		{"older token across several rotations", func(t *testing.T, e *env, first string) (string, string, bool) {
			tok := first
			for range 3 {
				e.clock.Add(time.Minute)
				tok = mustRefresh(t, e, tok).Tokens.Refresh
			}
			return first, tok, true
		}},
		{"token whose successor was itself rotated, within the grace window", func(t *testing.T, e *env, first string) (string, string, bool) {
			second := mustRefresh(t, e, first).Tokens.Refresh
			third := mustRefresh(t, e, second).Tokens.Refresh
			return first, third, true
		}},
		{"previous token after the grace window", func(t *testing.T, e *env, first string) (string, string, bool) {
			second := mustRefresh(t, e, first).Tokens.Refresh
			e.clock.Add(auth.DefaultRefreshGrace + time.Second)
			return first, second, true
		}},
		{"previous token within the grace window", func(t *testing.T, e *env, first string) (string, string, bool) {
			second := mustRefresh(t, e, first).Tokens.Refresh
			e.clock.Add(auth.DefaultRefreshGrace / 2)
			return first, second, false
		}},
		{"immediately previous token after two rotations, within the grace window", func(t *testing.T, e *env, first string) (string, string, bool) {
			second := mustRefresh(t, e, first).Tokens.Refresh
			third := mustRefresh(t, e, second).Tokens.Refresh
			return second, third, false
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			e.user(t, "reuse@example.test")
			r := e.login(t, "reuse@example.test")
			replay, latest, revokes := c.run(t, e, r.Tokens.Refresh)
			got, err := e.refresh(replay)
			if !revokes {
				if err != nil {
					t.Fatalf("replay refused: %v", err)
				}
				if got.Tokens.Refresh != latest {
					t.Fatal("grace replay did not return the live successor")
				}
				e.active(t, r.Session.ID, true)
				mustRefresh(t, e, latest)
				return
			}
			wantErr(t, err, auth.ErrRefreshReused)
			e.active(t, r.Session.ID, false)
			_, err = e.refresh(latest)
			wantErr(t, err, auth.ErrRefreshInvalid)
			if n := auditCount(t, e, auth.ReasonRefreshReused, r.Session.ID); n != 1 {
				t.Fatalf("%d reuse audit events", n)
			}
		})
	}
}

// A reuse of one session leaves the user's other sessions alone.
func TestReuseRevokesOnlyThatSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.user(t, "two@example.test")
	a := e.login(t, "two@example.test")
	b := e.login(t, "two@example.test")
	second := mustRefresh(t, e, a.Tokens.Refresh).Tokens.Refresh
	mustRefresh(t, e, second)
	_, err := e.refresh(a.Tokens.Refresh)
	wantErr(t, err, auth.ErrRefreshReused)
	e.active(t, a.Session.ID, false)
	e.active(t, b.Session.ID, true)
	mustRefresh(t, e, b.Tokens.Refresh)
}

package auth_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/auth"
	"github.com/edgeauth/edgeauth/controlplane/revocation"
	"github.com/edgeauth/edgeauth/controlplane/store"
)

// sessionRow returns the session's row as stored.
func sessionRow(t testing.TB, e *env, sid string) store.Session {
	t.Helper()
	s, err := e.st.SessionByID(context.Background(), sid)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// secretHash is SHA-256 of a refresh token's secret: what the session row holds.
func secretHash(t testing.TB, tok string) []byte {
	t.Helper()
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[len(parts)-1])
	if err != nil {
		t.Fatalf("%q: %v", tok, err)
	}
	h := sha256.Sum256(raw)
	return h[:]
}

// wantChain fails unless the session's row says it was rotated exactly to generation
// with live as its live token and parent as that token's parent ("" for none).
func wantChain(t testing.TB, e *env, sid string, generation int, live, parent string) {
	t.Helper()
	s := sessionRow(t, e, sid)
	var parentHash []byte
	if parent != "" {
		parentHash = secretHash(t, parent)
	}
	if s.Generation != generation || !bytes.Equal(s.TokenHash, secretHash(t, live)) || !bytes.Equal(s.PreviousHash, parentHash) {
		t.Fatalf("session at generation %d (want %d), live hash %x, parent hash %x", s.Generation, generation, s.TokenHash, s.PreviousHash)
	}
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
	wantChain(t, e, sid, 2, results[0].Tokens.Refresh, r.Tokens.Refresh) // one rotation, one live successor
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
	wantChain(t, e, sid, 2, succ.Refresh, r.Tokens.Refresh) // nothing rotated after the revocation
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

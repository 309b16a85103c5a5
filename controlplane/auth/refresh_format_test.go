package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/auth"
	"github.com/edgeauth/edgeauth/controlplane/store"
)

// A refresh token names its session, so anyone who knows a session id (it is every
// access token's sid) can name it. Without one of its secrets that changes nothing: no
// reuse detection, no revocation, no audit, no rotation.
func TestNamingASessionWithoutItsSecretChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.user(t, "named@example.test")
	r := e.login(t, "named@example.test")
	second := mustRefresh(t, e, r.Tokens.Refresh).Tokens.Refresh
	third := mustRefresh(t, e, second).Tokens.Refresh
	forge := func(gen string) string {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return r.Session.ID + "." + gen + "." + base64.RawURLEncoding.EncodeToString(b)
	}
	// Genuine secrets moved to another generation or session: each token's tag covers
	// its session and generation, so neither passes for an issued token.
	secretOf := func(tok string) string { return tok[strings.LastIndexByte(tok, '.')+1:] }
	other := e.login(t, "named@example.test")
	otherFirst := other.Tokens.Refresh
	mustRefresh(t, e, otherFirst)
	spliced := []string{
		r.Session.ID + ".1." + secretOf(second),
		r.Session.ID + ".1." + secretOf(third),
		r.Session.ID + ".1." + secretOf(otherFirst),
	}
	e.clock.Add(time.Hour)
	for _, gen := range []string{"1", "2", "3", "4", "2147483647"} {
		_, err := e.refresh(forge(gen))
		wantErr(t, err, auth.ErrRefreshInvalid)
		wantErr(t, errOf(e.svc.LogoutByRefreshToken(context.Background(), forge(gen))), auth.ErrRefreshInvalid)
	}
	for _, tok := range spliced {
		_, err := e.refresh(tok)
		wantErr(t, err, auth.ErrRefreshInvalid)
		wantErr(t, errOf(e.svc.LogoutByRefreshToken(context.Background(), tok)), auth.ErrRefreshInvalid)
	}
	e.active(t, r.Session.ID, true)
	if n := auditCount(t, e, auth.ReasonRefreshReused, r.Session.ID); n != 0 {
		t.Fatalf("%d reuse events", n)
	}
	wantChain(t, e, r.Session.ID, 3, third, second)
	mustRefresh(t, e, third)
}

// Refresh tokens of the earlier format (the secret alone, 43 characters; migration 005)
// are refused cleanly: the client gets ErrRefreshInvalid (the HTTP layer clears the
// cookies and the user signs in again) and nothing is written.
func TestOldFormatRefreshTokenIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.user(t, "old@example.test")
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	old := base64.RawURLEncoding.EncodeToString(raw)
	h := sha256.Sum256(raw)
	now := e.clock.Now()
	sid := strings.Repeat("o", 32)
	err := e.st.CreateSession(context.Background(), store.Session{ID: sid, UserID: u.ID, Created: now, LastUsed: now,
		IdleExpires: now.Add(time.Hour), AbsoluteExpires: now.Add(24 * time.Hour), TokenHash: h[:]})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.refresh(old)
	wantErr(t, err, auth.ErrRefreshInvalid)
	wantErr(t, errOf(e.svc.LogoutByRefreshToken(context.Background(), old)), auth.ErrRefreshInvalid)
	e.active(t, sid, true)
	if s := sessionRow(t, e, sid); s.Generation != 1 || s.RotatedAt != nil {
		t.Fatalf("session %+v", s)
	}
	if ev, err := e.st.AuditEvents(context.Background(), "", sid, 10); err != nil || len(ev) != 0 {
		t.Fatalf("audit %+v %v", ev, err)
	}
}

// A grace replay answers with the very tokens of the rotation (EdDSA signs
// deterministically, and the access token's claims follow from the rotation), even when
// it comes later in the window, and the user's roles as they are now.
func TestGraceReplayReturnsTheRotationsTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.user(t, "replay@example.test", "a")
	r := e.login(t, "replay@example.test")
	e.clock.Add(time.Minute)
	first := mustRefresh(t, e, r.Tokens.Refresh)
	e.clock.Add(auth.DefaultRefreshGrace / 2)
	again := mustRefresh(t, e, r.Tokens.Refresh)
	if again.Tokens != first.Tokens || !reflect.DeepEqual(again.Session, first.Session) {
		t.Fatalf("replay %+v\nfirst %+v", again, first)
	}
	_, c := e.signer.parse(t, again.Tokens.Access, e.clock.Now())
	if int64(c["iat"].(float64)) != first.Session.LastUsed.Unix() {
		t.Fatalf("iat %v, rotation at %v", c["iat"], first.Session.LastUsed)
	}
}

// Refresh tokens of migration 005's format (a random secret, no tag) keep working as
// the live token and its parent (migration 006 moved their hashes into the session
// row): the live one rotates into a tagged successor, the parent within the grace is a
// replay and after it a reuse. An older one cannot be told from a made-up one and is
// refused, changing nothing.
func TestUntaggedRefreshTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.user(t, "untagged@example.test")
	untagged := func(t *testing.T) (sid, tok string) {
		t.Helper()
		raw := make([]byte, 32)
		_, _ = rand.Read(raw)
		sidRaw := make([]byte, 24)
		_, _ = rand.Read(sidRaw)
		sid = base64.RawURLEncoding.EncodeToString(sidRaw)
		h := sha256.Sum256(raw)
		now := e.clock.Now()
		err := e.st.CreateSession(context.Background(), store.Session{ID: sid, UserID: u.ID, Created: now, LastUsed: now,
			IdleExpires: now.Add(time.Hour), AbsoluteExpires: now.Add(24 * time.Hour), TokenHash: h[:]})
		if err != nil {
			t.Fatal(err)
		}
		return sid, sid + ".1." + base64.RawURLEncoding.EncodeToString(raw)
	}
	t.Run("live, then the parent after the grace", func(t *testing.T) {
		sid, first := untagged(t)
		second := mustRefresh(t, e, first).Tokens.Refresh
		wantChain(t, e, sid, 2, second, first)
		if again := mustRefresh(t, e, first).Tokens.Refresh; again != second {
			t.Fatal("grace replay of an untagged parent returned another token")
		}
		e.clock.Add(auth.DefaultRefreshGrace + time.Second)
		_, err := e.refresh(first)
		wantErr(t, err, auth.ErrRefreshReused)
		e.active(t, sid, false)
	})
	t.Run("older than the parent", func(t *testing.T) {
		sid, first := untagged(t)
		second := mustRefresh(t, e, first).Tokens.Refresh
		third := mustRefresh(t, e, second).Tokens.Refresh
		_, err := e.refresh(first)
		wantErr(t, err, auth.ErrRefreshInvalid)
		wantErr(t, errOf(e.svc.LogoutByRefreshToken(context.Background(), first)), auth.ErrRefreshInvalid)
		e.active(t, sid, true)
		wantChain(t, e, sid, 3, third, second)
		// Its tagged successors are recognised: the same replay of a tagged token revokes.
		mustRefresh(t, e, third)
		_, err = e.refresh(second)
		wantErr(t, err, auth.ErrRefreshReused)
		e.active(t, sid, false)
	})
}

// A change of RefreshTagKey (a KEK rotation) keeps reuse detection for the tokens
// issued before it while the old key is among PreviousRefreshTagKeys: an old token
// replayed is reuse and revokes the session. Without it the replay is refused as
// made up, and the session lives on.
func TestReuseDetectedAcrossATagKeyChange(t *testing.T) {
	t.Parallel()
	newKey := []byte("edgeauth auth tests: the tag key after a KEK rotation")
	for _, tc := range []struct {
		name     string
		previous [][]byte
		want     error
		active   bool
	}{
		{"old key among the previous ones", [][]byte{[]byte("edgeauth auth tests: some other, older tag key"), testTagKey}, auth.ErrRefreshReused, false},
		{"old key forgotten", nil, auth.ErrRefreshInvalid, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			before := newEnv(t, nil)
			before.user(t, "kek@example.test")
			first := before.login(t, "kek@example.test")
			second := mustRefresh(t, before, first.Tokens.Refresh).Tokens.Refresh
			third := mustRefresh(t, before, second).Tokens.Refresh

			after := envOn(t, before.pool, func(c *auth.Config) {
				c.RefreshTagKey, c.PreviousRefreshTagKeys = newKey, tc.previous
			})
			// The live token is decided by its hash, whatever the key: it still rotates.
			fourth := mustRefresh(t, after, third).Tokens.Refresh
			_, err := after.refresh(first.Tokens.Refresh)
			wantErr(t, err, tc.want)
			after.active(t, first.Session.ID, tc.active)
			if tc.active {
				mustRefresh(t, after, fourth)
			}
		})
	}
}

package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/store"
	"github.com/edgeauth/edgeauth/internal/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// newStore returns a store on a fresh, migrated database, and its pool.
func newStore(t *testing.T) (*store.Store, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.NewPool(t)
	return store.New(pool), pool
}

func hash(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

const phc = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"

func mkUser(t *testing.T, s *store.Store, email string) store.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), store.User{Email: email, PasswordHash: phc, Roles: []string{"r"}})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func mkSession(t *testing.T, s *store.Store, id, userID, firstToken string) store.Session {
	t.Helper()
	ss := store.Session{ID: id, UserID: userID, UserAgent: "ua", IP: "192.0.2.1", Created: t0, LastUsed: t0,
		IdleExpires: t0.Add(time.Hour), AbsoluteExpires: t0.Add(24 * time.Hour), TokenHash: hash(firstToken)}
	if err := s.CreateSession(context.Background(), ss); err != nil {
		t.Fatal(err)
	}
	return ss
}

func is(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got %v, want %v", err, want)
	}
}

// The store contract, run against PostgreSQL (the only implementation; no mocks).
func TestStoreConformance(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("users", func(t *testing.T) {
		t.Parallel()
		s, _ := newStore(t)
		u := mkUser(t, s, "Ann@Example.test")
		if u.ID == "" || u.Created.IsZero() || !slices.Equal(u.Roles, []string{"r"}) {
			t.Fatalf("created %+v", u)
		}
		_, err := s.CreateUser(ctx, store.User{Email: "ann@example.TEST", PasswordHash: phc})
		is(t, err, store.ErrConflict)
		_, err = s.CreateUser(ctx, store.User{Email: "ａｎｎ@example.test", PasswordHash: phc}) // fullwidth
		is(t, err, store.ErrConflict)
		for _, name := range []string{"ANN@example.test", " ＡＮＮ@ｅｘａｍｐｌｅ.test "} {
			got, err := s.UserByEmail(ctx, name)
			if err != nil || got.ID != u.ID || got.PasswordHash != phc || got.Email != "Ann@Example.test" {
				t.Fatalf("by email %q: %+v %v", name, got, err)
			}
		}
		_, err = s.UserByEmail(ctx, "nobody@example.test")
		is(t, err, store.ErrNotFound)
		_, err = s.UserByID(ctx, "not-a-uuid")
		is(t, err, store.ErrNotFound)
		if err := s.SetUserRoles(ctx, u.ID, []string{"a", "b"}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.UserByID(ctx, u.ID); !slices.Equal(got.Roles, []string{"a", "b"}) {
			t.Fatalf("roles %v", got.Roles)
		}
		is(t, s.SetUserRoles(ctx, "00000000-0000-0000-0000-000000000000", nil), store.ErrNotFound)
		// The schema refuses anything but an argon2id hash.
		_, err = s.CreateUser(ctx, store.User{Email: "plain@example.test", PasswordHash: "hunter2"})
		if err == nil {
			t.Fatal("plaintext password accepted")
		}
	})

	t.Run("sessions", func(t *testing.T) {
		t.Parallel()
		s, pool := newStore(t)
		u := mkUser(t, s, "bo@example.test")
		v := mkUser(t, s, "cy@example.test")
		a := mkSession(t, s, "session-a-xxxxxxxxxxxxxxxx", u.ID, "ta")
		mkSession(t, s, "session-b-xxxxxxxxxxxxxxxx", u.ID, "tb")
		mkSession(t, s, "session-v-xxxxxxxxxxxxxxxx", v.ID, "tv")
		is(t, s.CreateSession(ctx, a), store.ErrConflict)
		got, err := s.SessionByID(ctx, a.ID)
		if err != nil || got.UserID != u.ID || !got.IdleExpires.Equal(a.IdleExpires) || got.RevokedAt != nil {
			t.Fatalf("session %+v %v", got, err)
		}
		list, err := s.ListActiveSessions(ctx, u.ID, t0)
		if err != nil || len(list) != 2 {
			t.Fatalf("list %v %v", list, err)
		}
		if list, err := s.ListActiveSessions(ctx, "not-a-uuid", t0); err != nil || len(list) != 0 {
			t.Fatalf("list for a malformed user id: %v %v", list, err)
		}
		is(t, s.RevokeSession(ctx, a.ID, "not-a-uuid", "test", t0), store.ErrNotFound)
		if list, _ := s.ListActiveSessions(ctx, u.ID, t0.Add(2*time.Hour)); len(list) != 0 {
			t.Fatalf("idle-expired sessions listed: %v", list)
		}
		// Revocation NOTIFYs from inside the transaction: heard after commit, not after rollback.
		listener, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig)
		if err != nil {
			t.Fatal(err)
		}
		defer listener.Close(ctx)
		if _, err := listener.Exec(ctx, "LISTEN "+store.RevocationChannel); err != nil {
			t.Fatal(err)
		}
		rollback := errors.New("rollback")
		err = s.InTx(ctx, func(q store.Queries) error {
			if err := q.RevokeSession(ctx, "session-b-xxxxxxxxxxxxxxxx", "", "test", t0); err != nil {
				return err
			}
			return rollback
		})
		is(t, err, rollback)
		if got, _ := s.SessionByID(ctx, "session-b-xxxxxxxxxxxxxxxx"); got.RevokedAt != nil {
			t.Fatal("rolled-back revocation persisted")
		}
		is(t, s.RevokeSession(ctx, a.ID, v.ID, "test", t0), store.ErrNotFound) // not v's session
		if err := s.RevokeSession(ctx, a.ID, u.ID, "test", t0.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		is(t, s.RevokeSession(ctx, a.ID, "", "again", t0), store.ErrNotFound) // already revoked
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		n, err := listener.WaitForNotification(wctx)
		cancel()
		if err != nil { // the first heard: the rolled-back one never was
			t.Fatal(err)
		}
		if got, ok := store.ParseRevocationNotice(n.Payload); !ok || got.SessionID != a.ID || got.Reason != "test" || got.Seq < 1 {
			t.Fatalf("notification %q: %+v", n.Payload, got)
		}
		if got, _ := s.SessionByID(ctx, a.ID); got.RevokedAt == nil || got.RevokeReason != "test" {
			t.Fatalf("revoked %+v", got)
		}
		ids, err := s.RevokeUserSessions(ctx, u.ID, "", "all", t0.Add(2*time.Second))
		if err != nil || !slices.Equal(ids, []string{"session-b-xxxxxxxxxxxxxxxx"}) {
			t.Fatalf("revoke user sessions %v %v", ids, err)
		}
		revoked, err := s.RevokedSince(ctx, t0)
		if err != nil || !slices.Equal(revoked, []string{a.ID, "session-b-xxxxxxxxxxxxxxxx"}) {
			t.Fatalf("revoked since %v %v", revoked, err)
		}
		if revoked, _ := s.RevokedSince(ctx, t0.Add(time.Second)); len(revoked) != 1 {
			t.Fatalf("window not applied: %v", revoked)
		}
		n2, err := s.DeleteSessionsBefore(ctx, t0.Add(3*time.Second))
		if err != nil || n2 != 2 {
			t.Fatalf("deleted %d %v", n2, err)
		}
	})

	t.Run("refresh statement", func(t *testing.T) {
		t.Parallel()
		s, pool := newStore(t)
		u := mkUser(t, s, "fi@example.test")
		ss := mkSession(t, s, "session-f-xxxxxxxxxxxxxxxx", u.ID, "f1")
		const grace = 30 * time.Second
		attempt := func(gen int, tok, next string, at time.Time) store.RefreshAttempt {
			return store.RefreshAttempt{SessionID: ss.ID, Generation: gen, Hash: hash(tok), At: at, GraceFrom: at.Add(-grace),
				NewHash: hash(next), SuccessorBox: []byte("box-" + next), IdleExpires: at.Add(time.Hour),
				ReuseReason: "refresh_token_reused", IP: "192.0.2.9"}
		}
		refresh := func(a store.RefreshAttempt, want store.RefreshOutcome) store.RefreshResult {
			t.Helper()
			r, err := s.Refresh(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			if r.Outcome != want {
				t.Fatalf("outcome %v, want %v (%+v)", r.Outcome, want, r)
			}
			return r
		}
		row := func() store.Session {
			t.Helper()
			got, err := s.SessionByID(ctx, ss.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		unchanged := func(what string, before store.Session) {
			t.Helper()
			if after := row(); !reflect.DeepEqual(before, after) {
				t.Fatalf("%s changed the session:\n%+v\n%+v", what, before, after)
			}
		}
		// Invalid: nothing written.
		before := row()
		for name, a := range map[string]store.RefreshAttempt{
			"unknown session":   func() store.RefreshAttempt { a := attempt(1, "f1", "x", t0); a.SessionID = "nope"; return a }(),
			"wrong secret":      attempt(1, "nope", "x", t0),
			"future generation": attempt(2, "f1", "x", t0),
			"expired session":   attempt(1, "f1", "x", t0.Add(2*time.Hour)),
		} {
			if r := refresh(a, store.RefreshInvalid); name != "unknown session" && r.Session.ID != ss.ID {
				t.Fatalf("%s: %+v", name, r)
			}
		}
		if _, err := s.Refresh(ctx, store.RefreshAttempt{SessionID: ss.ID}); !errors.Is(err, store.ErrInvalidInput) {
			t.Fatalf("incomplete attempt: %v", err)
		}
		unchanged("refusals", before)
		// Rotation: one row, the session's: the successor's hash in, the presented one's
		// kept as the parent's.
		r := refresh(attempt(1, "f1", "f2", t0.Add(time.Minute)), store.RefreshRotated)
		if r.User.ID != u.ID || !slices.Equal(r.User.Roles, []string{"r"}) || r.Session.Generation != 2 ||
			!r.Session.RotatedAt.Equal(t0.Add(time.Minute)) || string(r.Session.SuccessorBox) != "box-f2" {
			t.Fatalf("rotation result %+v", r)
		}
		got := row()
		if got.Generation != 2 || !got.RotatedAt.Equal(t0.Add(time.Minute)) || string(got.SuccessorBox) != "box-f2" ||
			!bytes.Equal(got.TokenHash, hash("f2")) || !bytes.Equal(got.PreviousHash, hash("f1")) ||
			!got.LastUsed.Equal(t0.Add(time.Minute)) || !got.IdleExpires.Equal(t0.Add(time.Hour+time.Minute)) || got.RevokedAt != nil {
			t.Fatalf("session after rotation %+v", got)
		}
		// The previous token within the grace: the box, nothing written. Issued or not,
		// a made-up secret for that generation is not the parent.
		before = row()
		r = refresh(attempt(1, "f1", "f2b", t0.Add(time.Minute+grace)), store.RefreshGrace)
		if string(r.Session.SuccessorBox) != "box-f2" || r.Session.Generation != 2 {
			t.Fatalf("grace %+v", r)
		}
		refresh(attempt(1, "made-up", "f2b", t0.Add(time.Minute+grace)), store.RefreshInvalid)
		unchanged("a grace replay", before)
		// Two more rotations; then an older token: reuse if issued (the tag, which auth
		// checks), refused otherwise (the row cannot tell it from a made-up one).
		refresh(attempt(2, "f2", "f3", t0.Add(2*time.Minute)), store.RefreshRotated)
		refresh(attempt(3, "f3", "f4", t0.Add(2*time.Minute)), store.RefreshRotated)
		before = row()
		refresh(attempt(1, "f1", "x", t0.Add(2*time.Minute)), store.RefreshInvalid)
		refresh(attempt(2, "f2", "x", t0.Add(2*time.Minute)), store.RefreshInvalid)
		unchanged("older tokens not issued", before)
		// The constraints keep the row coherent: a generation above 1 has a parent.
		if _, err := pool.Exec(ctx, `UPDATE sessions SET previous_hash = NULL, generation = 2 WHERE id = $1`, ss.ID); err == nil {
			t.Fatal("a rotated session without its parent's hash accepted")
		}
		if _, err := pool.Exec(ctx, `UPDATE sessions SET token_hash = NULL WHERE id = $1`, ss.ID); err == nil {
			t.Fatal("a session without a live hash accepted")
		}
		issued := attempt(2, "f2", "x", t0.Add(2*time.Minute))
		issued.Issued = true
		refresh(issued, store.RefreshReused)
		got = row()
		ev, _ := s.AuditEvents(ctx, "refresh_token_reused", ss.ID, 10)
		if got.RevokedAt == nil || got.RevokeReason != "refresh_token_reused" || got.SuccessorBox != nil || got.Generation != 4 ||
			len(ev) != 1 || ev[0].UserID != u.ID || ev[0].IP != "192.0.2.9" || ev[0].Detail["generation"] != float64(2) || ev[0].Detail["live_generation"] != float64(4) {
			t.Fatalf("revocation not written: %+v, events %+v", got, ev)
		}
		// A revoked session neither rotates nor revokes again.
		before = row()
		refresh(attempt(4, "f4", "f5", t0.Add(3*time.Minute)), store.RefreshInvalid)
		refresh(attempt(3, "f3", "f5", t0.Add(3*time.Minute)), store.RefreshInvalid)
		refresh(issued, store.RefreshInvalid)
		unchanged("refreshes of a revoked session", before)
		if ev, _ := s.AuditEvents(ctx, "refresh_token_reused", ss.ID, 10); len(ev) != 1 {
			t.Fatalf("%d events after refusals", len(ev))
		}
		locked, lu, err := s.LockSession(ctx, ss.ID)
		if err != nil || locked.ID != ss.ID || lu.ID != u.ID || locked.Generation != 4 {
			t.Fatalf("lock %+v %+v %v", locked, lu, err)
		}
		_, _, err = s.LockSession(ctx, "nope")
		is(t, err, store.ErrNotFound)
	})

	// A session's second factor: written when it is created, read back by every query
	// that reads sessions (the refresh statement's both branches included), and set
	// afterwards on one live session of the user only.
	t.Run("second factor", func(t *testing.T) {
		t.Parallel()
		s, _ := newStore(t)
		u := mkUser(t, s, "gu@example.test")
		v := mkUser(t, s, "ha@example.test")
		ss := store.Session{ID: "session-g-xxxxxxxxxxxxxxxx", UserID: u.ID, Created: t0, LastUsed: t0,
			IdleExpires: t0.Add(time.Hour), AbsoluteExpires: t0.Add(24 * time.Hour), TokenHash: hash("g1"), SecondFactor: "recovery_code"}
		if err := s.CreateSession(ctx, ss); err != nil {
			t.Fatal(err)
		}
		plain := mkSession(t, s, "session-h-xxxxxxxxxxxxxxxx", u.ID, "h1")
		want := func(what, got, want string) {
			t.Helper()
			if got != want {
				t.Fatalf("%s: second factor %q, want %q", what, got, want)
			}
		}
		got, err := s.SessionByID(ctx, ss.ID)
		if err != nil {
			t.Fatal(err)
		}
		want("by id", got.SecondFactor, "recovery_code")
		if got, _ := s.SessionByID(ctx, plain.ID); got.SecondFactor != "" {
			t.Fatalf("a session without one: %q", got.SecondFactor)
		}
		list, err := s.ListActiveSessions(ctx, u.ID, t0)
		if err != nil || len(list) != 2 {
			t.Fatalf("list %v %v", list, err)
		}
		for _, l := range list {
			want("listed "+l.ID, l.SecondFactor, map[string]string{ss.ID: "recovery_code", plain.ID: ""}[l.ID])
		}
		err = s.InTx(ctx, func(q store.Queries) error {
			locked, _, err := q.LockSession(ctx, ss.ID)
			want("locked", locked.SecondFactor, "recovery_code")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		a := store.RefreshAttempt{SessionID: ss.ID, Generation: 1, Hash: hash("g1"), At: t0, GraceFrom: t0.Add(-time.Minute),
			NewHash: hash("g2"), SuccessorBox: []byte("box"), IdleExpires: t0.Add(time.Hour), ReuseReason: "refresh_token_reused"}
		for _, outcome := range []store.RefreshOutcome{store.RefreshRotated, store.RefreshGrace} {
			r, err := s.Refresh(ctx, a)
			if err != nil || r.Outcome != outcome {
				t.Fatalf("refresh: %v %v, want %v", r.Outcome, err, outcome)
			}
			want(fmt.Sprintf("refresh (outcome %v)", outcome), r.Session.SecondFactor, "recovery_code")
		}

		if err := s.SetSessionSecondFactor(ctx, plain.ID, u.ID, "totp", t0); err != nil {
			t.Fatal(err)
		}
		got, _ = s.SessionByID(ctx, plain.ID)
		want("set", got.SecondFactor, "totp")
		got, _ = s.SessionByID(ctx, ss.ID)
		want("another session of the user", got.SecondFactor, "recovery_code")
		is(t, s.SetSessionSecondFactor(ctx, plain.ID, v.ID, "totp", t0), store.ErrNotFound)
		is(t, s.SetSessionSecondFactor(ctx, plain.ID, u.ID, "totp", t0.Add(2*time.Hour)), store.ErrNotFound) // idle-expired
		is(t, s.SetSessionSecondFactor(ctx, plain.ID, "not-a-uuid", "totp", t0), store.ErrNotFound)
		if err := s.RevokeSession(ctx, plain.ID, "", "test", t0); err != nil {
			t.Fatal(err)
		}
		is(t, s.SetSessionSecondFactor(ctx, plain.ID, u.ID, "totp", t0), store.ErrNotFound)
		if err := s.SetSessionSecondFactor(ctx, ss.ID, u.ID, "sms", t0); err == nil {
			t.Fatal("a factor the schema does not know was recorded")
		}
	})

	// A confirmation turns on the secret it checked its code against, only while that
	// one is still pending: another enrollment (after an operator's reset, or a second
	// "begin") may have replaced it since the confirmation read it.
	t.Run("enabling the pending secret that was read", func(t *testing.T) {
		t.Parallel()
		s, _ := newStore(t)
		u := mkUser(t, s, "pe@example.test")
		if err := s.SetTOTPPending(ctx, u.ID, []byte("p1")); err != nil {
			t.Fatal(err)
		}
		if err := s.SetTOTPPending(ctx, u.ID, []byte("p2")); err != nil { // replaces p1
			t.Fatal(err)
		}
		is(t, s.EnableTOTP(ctx, u.ID, []byte("p1"), []byte("p1"), 7, [][]byte{hash("c")}), store.ErrConflict)
		got, err := s.UserByID(ctx, u.ID)
		if err != nil || got.TOTPSecret != nil || string(got.TOTPPending) != "p2" {
			t.Fatalf("after enabling a replaced secret: secret %q pending %q (%v), want none and p2", got.TOTPSecret, got.TOTPPending, err)
		}
		// The pending one, re-sealed (a KEK rotation): stored as given.
		if err := s.EnableTOTP(ctx, u.ID, []byte("p2"), []byte("p2 resealed"), 7, [][]byte{hash("c")}); err != nil {
			t.Fatal(err)
		}
		if got, _ = s.UserByID(ctx, u.ID); string(got.TOTPSecret) != "p2 resealed" || got.TOTPPending != nil {
			t.Fatalf("enabled: secret %q pending %q", got.TOTPSecret, got.TOTPPending)
		}
	})

	t.Run("the parent after the grace is reuse without a tag", func(t *testing.T) {
		t.Parallel()
		s, _ := newStore(t)
		u := mkUser(t, s, "gi@example.test")
		ss := mkSession(t, s, "session-g-xxxxxxxxxxxxxxxx", u.ID, "g1")
		a := store.RefreshAttempt{SessionID: ss.ID, Generation: 1, Hash: hash("g1"), At: t0, GraceFrom: t0.Add(-time.Second),
			NewHash: hash("g2"), SuccessorBox: []byte("box"), IdleExpires: t0.Add(time.Hour), ReuseReason: "refresh_token_reused"}
		if r, err := s.Refresh(ctx, a); err != nil || r.Outcome != store.RefreshRotated {
			t.Fatalf("%+v %v", r, err)
		}
		a.At, a.GraceFrom = t0.Add(time.Minute), t0.Add(time.Minute-time.Second)
		if r, err := s.Refresh(ctx, a); err != nil || r.Outcome != store.RefreshReused || r.Session.RevokedAt == nil {
			t.Fatalf("%+v %v", r, err)
		}
	})

	t.Run("audit and login failures", func(t *testing.T) {
		t.Parallel()
		s, _ := newStore(t)
		u := mkUser(t, s, "ed@example.test")
		if err := s.AddAudit(ctx, store.AuditEvent{Kind: "login", UserID: u.ID, SessionID: "sx", IP: "192.0.2.1", At: t0, Detail: map[string]any{"n": 1}}); err != nil {
			t.Fatal(err)
		}
		if err := s.AddAudit(ctx, store.AuditEvent{Kind: "login_failed", At: t0}); err != nil {
			t.Fatal(err)
		}
		ev, err := s.AuditEvents(ctx, "login", "", 10)
		if err != nil || len(ev) != 1 || ev[0].UserID != u.ID || ev[0].Detail["n"] != float64(1) {
			t.Fatalf("audit %+v %v", ev, err)
		}
		acct := hash("ed@example.test")
		for i, client := range []string{"192.0.2.1", "192.0.2.1", "192.0.2.1", "192.0.2.2"} {
			if _, err := s.RecordLoginFailure(ctx, acct, client, t0.Add(time.Duration(i)*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.RecordLoginFailure(ctx, hash("other"), "192.0.2.1", t0.Add(4*time.Minute)); err != nil {
			t.Fatal(err)
		}
		// Windows: the pair's and the client's from 30 s (the first failure is out), the
		// account's from the start.
		since := store.FailureSince{Pair: t0.Add(30 * time.Second), Client: t0.Add(30 * time.Second), Account: t0.Add(-time.Hour)}
		c, err := s.LoginFailures(ctx, acct, "192.0.2.1", since)
		want := store.FailureCounts{Pair: 2, PairOldest: t0.Add(time.Minute), Client: 3, ClientOldest: t0.Add(time.Minute),
			Account: 4, AccountOldest: t0}
		if err != nil || c.Pair != want.Pair || c.Client != want.Client || c.Account != want.Account ||
			!c.PairOldest.Equal(want.PairOldest) || !c.ClientOldest.Equal(want.ClientOldest) || !c.AccountOldest.Equal(want.AccountOldest) {
			t.Fatalf("counts %+v %v, want %+v", c, err, want)
		}
		if err := s.ClearPairFailures(ctx, acct, "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		c, _ = s.LoginFailures(ctx, acct, "192.0.2.1", store.FailureSince{Pair: t0.Add(-time.Hour), Client: t0.Add(-time.Hour), Account: t0.Add(-time.Hour)})
		if c.Pair != 0 || c.Client != 1 || c.Account != 1 || !c.PairOldest.IsZero() {
			t.Fatalf("after clearing the pair %+v", c)
		}
		// Sign-in addresses: remembered, newest time kept, forgotten when pruned.
		if known, err := s.KnownClient(ctx, acct, "192.0.2.1", t0.Add(-time.Hour)); err != nil || known {
			t.Fatalf("known before any login: %v %v", known, err)
		}
		for _, at := range []time.Time{t0, t0.Add(time.Hour), t0.Add(time.Minute)} {
			if err := s.RememberClient(ctx, acct, "192.0.2.1", at); err != nil {
				t.Fatal(err)
			}
		}
		if known, err := s.KnownClient(ctx, acct, "192.0.2.1", t0.Add(30*time.Minute)); err != nil || !known {
			t.Fatalf("known after logins: %v %v", known, err)
		}
		if known, _ := s.KnownClient(ctx, acct, "192.0.2.2", t0.Add(-time.Hour)); known {
			t.Fatal("another address known")
		}
		if n, err := s.DeleteLoginClientsBefore(ctx, t0.Add(2*time.Hour)); err != nil || n != 1 {
			t.Fatalf("delete clients %d %v", n, err)
		}
		if n, err := s.DeleteLoginFailuresBefore(ctx, t0.Add(time.Hour)); err != nil || n != 2 {
			t.Fatalf("delete %d %v", n, err)
		}
	})
}

// ReplaceUserSessions ends every live session of the user, the replaced one with its own
// reason, and says whether that one was live; another user's sessions stay.
func TestReplaceUserSessions(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	u, v := mkUser(t, s, "ada@example.test"), mkUser(t, s, "bob@example.test")
	here := mkSession(t, s, "session-here-xxxxxxxxxxxxx", u.ID, "t1")
	mkSession(t, s, "session-other-xxxxxxxxxxxx", u.ID, "t2")
	mkSession(t, s, "session-gone-xxxxxxxxxxxxx", u.ID, "t3")
	bob := mkSession(t, s, "session-bob-xxxxxxxxxxxxxx", v.ID, "t4")
	if err := s.RevokeSession(ctx, "session-gone-xxxxxxxxxxxxx", "", "logout", t0); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.ReplaceUserSessions(ctx, u.ID, "", "replaced", "changed", t0)
	is(t, err, store.ErrInvalidInput)

	others, wasLive, err := s.ReplaceUserSessions(ctx, u.ID, here.ID, "replaced", "changed", t0.Add(time.Second))
	if err != nil || !wasLive || !slices.Equal(others, []string{"session-other-xxxxxxxxxxxx"}) {
		t.Fatalf("replace: %v %v %v", others, wasLive, err)
	}
	for id, want := range map[string]string{here.ID: "replaced", "session-other-xxxxxxxxxxxx": "changed", "session-gone-xxxxxxxxxxxxx": "logout", bob.ID: ""} {
		if got, err := s.SessionByID(ctx, id); err != nil || got.RevokeReason != want {
			t.Errorf("%s: reason %q, want %q (%v)", id, got.RevokeReason, want, err)
		}
	}
	// Once it has ended, the replaced session is not live: the caller must not go on.
	others, wasLive, err = s.ReplaceUserSessions(ctx, u.ID, here.ID, "replaced", "changed", t0.Add(2*time.Second))
	if err != nil || wasLive || len(others) != 0 {
		t.Fatalf("replace again: %v %v %v", others, wasLive, err)
	}
}

package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

// groupFixture is a store with one lane, a user and sessions to refresh, and a way to
// keep the lane busy so that refreshes queue and run as groups.
type groupFixture struct {
	t    *testing.T
	s    *Store
	user string
	t0   time.Time
}

func newGroupFixture(t *testing.T) *groupFixture {
	t.Helper()
	s := New(pgtest.NewPool(t))
	s.groups.lanes = 1
	u, err := s.CreateUser(context.Background(), User{Email: "group@example.test",
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"})
	if err != nil {
		t.Fatal(err)
	}
	return &groupFixture{t: t, s: s, user: u.ID, t0: time.Now().Truncate(time.Microsecond)}
}

func sum(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

func (f *groupFixture) session(id string) {
	f.t.Helper()
	err := f.s.CreateSession(context.Background(), Session{ID: id, UserID: f.user, Created: f.t0, LastUsed: f.t0,
		IdleExpires: f.t0.Add(time.Hour), AbsoluteExpires: f.t0.Add(24 * time.Hour), TokenHash: sum(id + ".1")})
	if err != nil {
		f.t.Fatal(err)
	}
}

// attempt presents generation gen of session id's tokens and mints the next.
func (f *groupFixture) attempt(id string, gen int, at time.Time) RefreshAttempt {
	return RefreshAttempt{SessionID: id, Generation: gen, Hash: sum(fmt.Sprintf("%s.%d", id, gen)), Issued: true,
		At: at, GraceFrom: at.Add(-time.Minute), NewHash: sum(fmt.Sprintf("%s.%d", id, gen+1)),
		SuccessorBox: []byte(fmt.Sprintf("box %s.%d", id, gen+1)), IdleExpires: at.Add(time.Hour),
		ReuseReason: "refresh_token_reused", IP: "192.0.2.7"}
}

// begin starts a transaction that the test's end rolls back if it is still open (a
// failing test must not leave its row locks held), running stmts in it first.
func (f *groupFixture) begin(stmts ...string) pgx.Tx {
	f.t.Helper()
	ctx := context.Background()
	tx, err := f.s.pool.Begin(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = tx.Rollback(ctx) })
	for _, sql := range stmts {
		if _, err := tx.Exec(ctx, sql); err != nil {
			f.t.Fatalf("%s: %v", sql, err)
		}
	}
	return tx
}

// lockRow takes session id's row lock in tx.
func (f *groupFixture) lockRow(tx pgx.Tx, id string) {
	f.t.Helper()
	if _, err := tx.Exec(context.Background(), `SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE`, id); err != nil {
		f.t.Fatal(err)
	}
}

// holdLane takes the store's one lane with a refresh of session id that waits on the
// row lock a transaction holds; release commits that transaction, and the lane frees
// when that refresh is done (its outcome is sent on the returned channel).
func (f *groupFixture) holdLane(id string) (release func(), done <-chan RefreshOutcome) {
	f.t.Helper()
	ctx := context.Background()
	tx := f.begin()
	f.lockRow(tx, id)
	out := make(chan RefreshOutcome, 1)
	go func() {
		r, err := f.s.Refresh(ctx, f.attempt(id, 1, f.t0))
		if err != nil {
			f.t.Error(err)
		}
		out <- r.Outcome
	}()
	f.waitFor(func(g *refreshGroups) bool { return g.running == 1 })
	return func() {
		if err := tx.Commit(ctx); err != nil {
			f.t.Fatal(err)
		}
	}, out
}

// waitFor polls the groups' state until cond holds.
func (f *groupFixture) waitFor(cond func(*refreshGroups) bool) {
	f.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		g := &f.s.groups
		g.mu.Lock()
		ok := cond(g)
		g.mu.Unlock()
		if ok {
			return
		}
	}
	f.t.Fatal("timed out waiting for the refresh groups")
}

// waitForLockWaits polls until n of the database's connections wait for a lock.
func (f *groupFixture) waitForLockWaits(n int) {
	f.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var waiting int
		if err := f.s.pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			f.t.Fatal(err)
		}
		if waiting == n {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("%d connections wait for a lock, want %d", waiting, n)
		}
	}
}

type answer struct {
	a   RefreshAttempt
	r   RefreshResult
	err error
}

// queue starts a refresh per attempt while the lane is held and waits until all are
// queued; collect returns their answers.
func (f *groupFixture) queue(ctx context.Context, attempts []RefreshAttempt) (collect func() []answer) {
	f.t.Helper()
	answers := make([]answer, len(attempts))
	var wg sync.WaitGroup
	for i, a := range attempts {
		wg.Go(func() {
			r, err := f.s.Refresh(ctx, a)
			answers[i] = answer{a, r, err}
		})
	}
	f.waitFor(func(g *refreshGroups) bool { return len(g.queue) == len(attempts) })
	return func() []answer { wg.Wait(); return answers }
}

// Refreshes that queue behind a busy lane run as groups (one pipeline, one commit each),
// and every rule of a lone rotation holds inside a group: each session rotates once; a
// token presented twice in one group gets the same successor the second time (the
// grace); an old token is reuse, revoking its session with an audit event and a NOTIFY;
// a made-up token is refused and writes nothing.
func TestRefreshGroups(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newGroupFixture(t)
	const n = 40
	for i := range n {
		f.session(fmt.Sprintf("group-session-%02d-xxxxxxxxxx", i))
	}
	f.session("group-blocker-xxxxxxxxxxxxxxxx")
	f.session("group-reused-xxxxxxxxxxxxxxxxx")
	reused := "group-reused-xxxxxxxxxxxxxxxxx"
	// Rotate the reused session twice, long ago (beyond the grace).
	for gen := 1; gen <= 2; gen++ {
		if r, err := f.s.Refresh(ctx, f.attempt(reused, gen, f.t0.Add(-time.Duration(3-gen)*time.Minute))); err != nil || r.Outcome != RefreshRotated {
			t.Fatalf("setting up: %v %v", r.Outcome, err)
		}
	}
	listener, err := pgx.ConnectConfig(ctx, f.s.pool.Config().ConnConfig)
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close(ctx)
	if _, err := listener.Exec(ctx, "LISTEN "+RevocationChannel); err != nil {
		t.Fatal(err)
	}

	var attempts []RefreshAttempt
	for i := range n {
		a := f.attempt(fmt.Sprintf("group-session-%02d-xxxxxxxxxx", i), 1, f.t0)
		attempts = append(attempts, a)
		if i%4 == 0 { // the same token again (a second tab), in the same group
			attempts = append(attempts, a)
		}
	}
	attempts = append(attempts, f.attempt(reused, 1, f.t0)) // the grandparent: reuse
	madeUp := f.attempt("group-session-07-xxxxxxxxxx", 1, f.t0)
	madeUp.Hash, madeUp.Issued = sum("made up"), false
	attempts = append(attempts, madeUp)

	release, held := f.holdLane("group-blocker-xxxxxxxxxxxxxxxx")
	collect := f.queue(ctx, attempts)
	release()
	if o := <-held; o != RefreshRotated {
		t.Fatalf("the refresh holding the lane: %v", o)
	}
	answers := collect()
	if groups, grouped := f.s.RefreshGroupStats(); groups != 4 || grouped != int64(len(attempts)) {
		t.Fatalf("%d refreshes ran in %d groups, want all %d in 4 (16, 16, 16, 4)", grouped, groups, len(attempts))
	}

	rotated := map[string]int{}
	for _, an := range answers {
		a, r := an.a, an.r
		if an.err != nil {
			t.Fatalf("%s: %v", a.SessionID, an.err)
		}
		switch {
		case a.SessionID == reused:
			if r.Outcome != RefreshReused || r.Session.RevokedAt == nil {
				t.Fatalf("grandparent token: %v, revoked %v", r.Outcome, r.Session.RevokedAt)
			}
		case bytes.Equal(a.Hash, sum("made up")):
			if r.Outcome != RefreshInvalid {
				t.Fatalf("made-up token: %v", r.Outcome)
			}
		case r.Outcome == RefreshRotated:
			rotated[a.SessionID]++
		case r.Outcome == RefreshGrace:
			if !bytes.Equal(r.Session.SuccessorBox, a.SuccessorBox) || r.Session.Generation != 2 {
				t.Fatalf("%s: the grace replay's successor %q (generation %d), want the rotation's", a.SessionID, r.Session.SuccessorBox, r.Session.Generation)
			}
		default:
			t.Fatalf("%s: %v", a.SessionID, r.Outcome)
		}
	}
	for i := range n {
		id := fmt.Sprintf("group-session-%02d-xxxxxxxxxx", i)
		got, err := f.s.SessionByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if rotated[id] != 1 || got.Generation != 2 || !bytes.Equal(got.TokenHash, sum(id+".2")) || got.RevokedAt != nil {
			t.Fatalf("%s: rotated %d times; generation %d, revoked %v", id, rotated[id], got.Generation, got.RevokedAt)
		}
	}
	var audits int
	if err := f.s.pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE session_id = $1 AND kind = 'refresh_token_reused'`, reused).Scan(&audits); err != nil || audits != 1 {
		t.Fatalf("reuse audit events: %d %v", audits, err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	note, err := listener.WaitForNotification(waitCtx)
	if err != nil || !bytes.Contains([]byte(note.Payload), []byte(reused)) {
		t.Fatalf("revocation NOTIFY: %v %v", note, err)
	}
}

// A group that fails answers none of its callers from its own run: each runs its
// refresh again alone and gets what a lone refresh gets. Here the group outlives its
// timeout waiting for a row lock and is rolled back, rotations included.
func TestRefreshGroupFailureRunsEachAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newGroupFixture(t)
	f.s.groups.timeout = 200 * time.Millisecond
	ids := []string{"fail-a-xxxxxxxxxxxxxxxxxxxxxx", "fail-b-xxxxxxxxxxxxxxxxxxxxxx", "fail-c-xxxxxxxxxxxxxxxxxxxxxx"}
	for _, id := range ids {
		f.session(id)
	}
	f.session("fail-blocker-xxxxxxxxxxxxxxxx")
	// A transaction holds fail-c's row lock past the group's timeout: the group rotates
	// fail-a and fail-b (sorted first), then waits for fail-c and is cancelled.
	tx := f.begin()
	f.lockRow(tx, ids[2])
	release, held := f.holdLane("fail-blocker-xxxxxxxxxxxxxxxx")
	var attempts []RefreshAttempt
	for _, id := range ids {
		attempts = append(attempts, f.attempt(id, 1, f.t0))
	}
	collect := f.queue(ctx, attempts)
	release()
	<-held
	// The group has failed once fail-a's caller, running alone, has rotated it.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if got, err := f.s.SessionByID(ctx, ids[0]); err == nil && got.Generation == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("fail-a never rotated")
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for _, an := range collect() {
		if an.err != nil || an.r.Outcome != RefreshRotated {
			t.Fatalf("%s: %v %v", an.a.SessionID, an.r.Outcome, an.err)
		}
	}
	if groups, grouped := f.s.RefreshGroupStats(); groups != 0 || grouped != 0 {
		t.Fatalf("%d refreshes in %d groups counted; the group failed", grouped, groups)
	}
}

// A caller that gives up while queued gets its context's error at once. Its refresh
// still runs with the group, so the client, presenting the same token again, gets the
// successor that rotation minted (the grace), not a second rotation.
func TestRefreshGroupCallerLeaves(t *testing.T) {
	t.Parallel()
	f := newGroupFixture(t)
	id := "leaving-xxxxxxxxxxxxxxxxxxxxxx"
	f.session(id)
	f.session("leaving-blocker-xxxxxxxxxxxxxx")
	release, held := f.holdLane("leaving-blocker-xxxxxxxxxxxxxx")
	ctx, cancel := context.WithCancel(context.Background())
	collect := f.queue(ctx, []RefreshAttempt{f.attempt(id, 1, f.t0)})
	cancel()
	an := collect()[0]
	if !errors.Is(an.err, context.Canceled) && !errors.Is(an.err, ErrUnavailable) {
		t.Fatalf("the caller that left: %v", an.err)
	}
	release()
	<-held
	f.waitFor(func(g *refreshGroups) bool { return g.running == 0 })
	again := f.attempt(id, 1, f.t0.Add(time.Second))
	again.NewHash, again.SuccessorBox = sum("another successor"), []byte("another box")
	r, err := f.s.Refresh(context.Background(), again)
	if err != nil || r.Outcome != RefreshGrace || !bytes.Equal(r.Session.SuccessorBox, f.attempt(id, 1, f.t0).SuccessorBox) {
		t.Fatalf("presented again: %v %v (box %q)", r.Outcome, err, r.Session.SuccessorBox)
	}
}

// A deadlock between a group and another transaction is invisible to the group's
// callers: PostgreSQL aborts the group, and each caller runs its refresh alone, as if the
// group had never run. Here a transaction that revokes two sessions in the reverse of
// their ids' order (the store's own RevokeUserSessions locks in id order:
// TestRefreshGroupAndLogoutAllLockInOneOrder) holds one session's row and then wants
// another's, which the group has just rotated while it waits for the first.
func TestRefreshGroupDeadlockRunsEachAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newGroupFixture(t)
	first, second := "deadlock-a-xxxxxxxxxxxxxxxxxx", "deadlock-b-xxxxxxxxxxxxxxxxxx"
	f.session(first)
	f.session(second)
	f.session("deadlock-blocker-xxxxxxxxxxxxx")
	// The logout checks for deadlocks only after a minute, so the group's check (after
	// the server's deadlock_timeout) is the one that finds the cycle, however slow the
	// machine.
	logout := f.begin(`SET LOCAL deadlock_timeout = '60s'`)
	if _, err := logout.Exec(ctx, `UPDATE sessions SET revoked_at = $2, revoke_reason = 'logout_all' WHERE id = $1`, second, f.t0); err != nil {
		t.Fatal(err)
	}
	release, held := f.holdLane("deadlock-blocker-xxxxxxxxxxxxx")
	collect := f.queue(ctx, []RefreshAttempt{f.attempt(first, 1, f.t0), f.attempt(second, 1, f.t0)})
	release()
	<-held
	// The group rotates the first session (its row lock held) and waits for the second.
	f.waitForLockWaits(1)
	// Now the logout wants the first session: a cycle, which PostgreSQL breaks by
	// aborting the group, whose deadlock check runs first.
	if _, err := logout.Exec(ctx, `UPDATE sessions SET revoked_at = $2, revoke_reason = 'logout_all' WHERE id = $1`, first, f.t0); err != nil {
		t.Fatalf("the logout was chosen to break the deadlock: %v", err)
	}
	if err := logout.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// The second session's lone refresh waits for the logout, which holds its row, and
	// finds it revoked. The first's races the logout for a row nobody holds once the
	// group is gone: PostgreSQL gives it to whichever updates it first, so either order
	// is a true answer: refused (the logout came first) or rotated and then revoked by
	// the logout. No caller sees the deadlock, and the logout revokes both sessions.
	outcome := map[string]RefreshOutcome{}
	for _, an := range collect() {
		if an.err != nil {
			t.Fatalf("%s after the logout: %v", an.a.SessionID, an.err)
		}
		outcome[an.a.SessionID] = an.r.Outcome
	}
	if o := outcome[second]; o != RefreshInvalid {
		t.Fatalf("%s after the logout: %v, want invalid", second, o)
	}
	if o := outcome[first]; o != RefreshInvalid && o != RefreshRotated {
		t.Fatalf("%s after the logout: %v, want invalid or rotated", first, o)
	}
	for _, id := range []string{first, second} {
		gen := 1
		if outcome[id] == RefreshRotated {
			gen = 2
		}
		got, err := f.s.SessionByID(ctx, id)
		if err != nil || got.Generation != gen || got.RevokedAt == nil || got.RevokeReason != "logout_all" {
			t.Fatalf("%s (%v): generation %d, revoked %v (%q), %v: want generation %d and the logout's revocation", id, outcome[id], got.Generation, got.RevokedAt, got.RevokeReason, err, gen)
		}
	}
	if groups, grouped := f.s.RefreshGroupStats(); groups != 0 || grouped != 0 {
		t.Fatalf("%d refreshes in %d groups counted; the group was aborted", grouped, groups)
	}
}

// A logout-all and a group that both want several of one user's sessions do not
// deadlock: both lock rows in session id order, so whichever takes the first row goes
// first. Here the sessions' rows lie in the table in the reverse of their ids' order (a
// logout-all locking in table order took the second one first), the group waits for
// the first row, and the logout-all comes while it waits.
func TestRefreshGroupAndLogoutAllLockInOneOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newGroupFixture(t)
	first, second := "order-a-xxxxxxxxxxxxxxxxxxxxx", "order-b-xxxxxxxxxxxxxxxxxxxxx"
	f.session(second) // created first: it comes first in the table
	f.session(first)
	f.session("order-blocker-xxxxxxxxxxxxxxx")
	hold := f.begin()
	f.lockRow(hold, first)
	release, held := f.holdLane("order-blocker-xxxxxxxxxxxxxxx")
	collect := f.queue(ctx, []RefreshAttempt{f.attempt(first, 1, f.t0), f.attempt(second, 1, f.t0)})
	release()
	<-held
	f.waitForLockWaits(1) // the group, at the first session
	type result struct {
		ids []string
		err error
	}
	logout := make(chan result, 1)
	go func() {
		var ids []string
		err := f.s.InTx(ctx, func(q Queries) (err error) {
			ids, err = q.RevokeUserSessions(ctx, f.user, "", "logout_all", f.t0)
			return err
		})
		logout <- result{ids, err}
	}()
	f.waitForLockWaits(2) // and the logout-all
	if err := hold.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// The group took the first session before the logout-all and rotates both; the
	// logout-all then revokes all three, rotated ones included.
	for _, an := range collect() {
		if an.err != nil || an.r.Outcome != RefreshRotated {
			t.Fatalf("%s: %v %v, want rotated (the group came first)", an.a.SessionID, an.r.Outcome, an.err)
		}
	}
	r := <-logout
	if slices.Sort(r.ids); r.err != nil || len(r.ids) != 3 {
		t.Fatalf("logout-all: %v %v, want all three sessions revoked and no deadlock", r.ids, r.err)
	}
	for _, id := range []string{first, second} {
		got, err := f.s.SessionByID(ctx, id)
		if err != nil || got.Generation != 2 || got.RevokedAt == nil || got.RevokeReason != "logout_all" {
			t.Fatalf("%s: generation %d, revoked %v (%q), %v: want the group's rotation, then the logout's revocation", id, got.Generation, got.RevokedAt, got.RevokeReason, err)
		}
	}
	if groups, grouped := f.s.RefreshGroupStats(); groups != 1 || grouped != 2 {
		t.Fatalf("%d refreshes in %d groups, want the two in one", grouped, groups)
	}
}

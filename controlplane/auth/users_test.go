package auth_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/auth"
	"github.com/edgeauth/edgeauth/controlplane/store"
)

func TestSetPasswordRevokesOtherSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	u := e.user(t, "pw@example.test")
	keep := e.login(t, "pw@example.test")
	other := e.login(t, "pw@example.test")
	wantErr(t, e.svc.SetPassword(ctx, u.ID, "short", keep.Session.ID), auth.ErrPasswordPolicy)
	if err := e.svc.SetPassword(ctx, u.ID, "a brand new passphrase", keep.Session.ID); err != nil {
		t.Fatal(err)
	}
	e.active(t, keep.Session.ID, true)
	e.active(t, other.Session.ID, false)
	_, err := e.svc.Login(ctx, auth.LoginRequest{Email: "pw@example.test", Password: testPassword, IP: "192.0.2.3"})
	wantErr(t, err, auth.ErrInvalidCredentials)
	if _, err := e.svc.Login(ctx, auth.LoginRequest{Email: "pw@example.test", Password: "a brand new passphrase", IP: "192.0.2.3"}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, e.svc.SetPassword(ctx, "00000000-0000-0000-0000-000000000000", "a brand new passphrase", ""), auth.ErrUserNotFound)
}

func TestSetRolesReachNextAccessToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	u := e.user(t, "roles@example.test", "reader")
	r := e.login(t, "roles@example.test")
	if err := e.svc.SetRoles(ctx, u.ID, []string{"reader", "editor"}); err != nil {
		t.Fatal(err)
	}
	r2 := mustRefresh(t, e, r.Tokens.Refresh)
	if !slices.Equal(r2.User.Roles, []string{"reader", "editor"}) {
		t.Fatalf("roles %v", r2.User.Roles)
	}
	_, c := e.signer.parse(t, r2.Tokens.Access, e.clock.Now())
	if roles := c["roles"].([]any); len(roles) != 2 || roles[1] != "editor" {
		t.Fatalf("roles claim %v", roles)
	}
	wantErr(t, e.svc.SetRoles(ctx, "00000000-0000-0000-0000-000000000000", nil), auth.ErrUserNotFound)
}

// Role names reach every upstream joined with commas in one header (X-Edgeauth-Roles):
// a name with a comma would read as two roles there, and one with a control character
// cannot be sent at all. Both are refused, and nothing changes; other Unicode is fine.
func TestRoleNamesAnEdgeCanForward(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	u := e.user(t, "names@example.test", "reader", "管理者", "rédacteur")
	for _, bad := range []string{"billing,admin", "", " admin", "admin\n", "ad\x00min", "bad\xffutf8"} {
		wantErr(t, e.svc.SetRoles(ctx, u.ID, []string{"reader", bad}), auth.ErrInvalidRole)
		_, err := e.svc.CreateUser(ctx, auth.NewUser{Email: "other@example.test", Password: testPassword, Roles: []string{bad}})
		wantErr(t, err, auth.ErrInvalidRole)
	}
	got, err := e.svc.User(ctx, u.ID)
	if err != nil || !slices.Equal(got.Roles, []string{"reader", "管理者", "rédacteur"}) {
		t.Fatalf("roles after the refused changes: %v %v", got.Roles, err)
	}
	if _, err := e.svc.CreateUser(ctx, auth.NewUser{Email: "other@example.test", Password: testPassword}); err != nil {
		t.Fatalf("the refused creations left the name taken: %v", err)
	}
}

func TestPrune(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *auth.Config) { c.IdleTTL = time.Hour; c.AbsoluteTTL = 2 * time.Hour })
	ctx := context.Background()
	e.user(t, "prune@example.test")
	old := e.login(t, "prune@example.test")
	revoked := e.login(t, "prune@example.test")
	if _, err := e.svc.Logout(ctx, revoked.Session.ID); err != nil {
		t.Fatal(err)
	}
	_, _ = e.svc.Login(ctx, auth.LoginRequest{Email: "prune@example.test", Password: "wrong password", IP: "192.0.2.4"})
	e.clock.Add(90 * time.Minute) // old idles out
	live := e.login(t, "prune@example.test")
	e.clock.Add(24 * time.Hour) // cut-off for keep = 24 h: the moment live was created
	live2 := e.login(t, "prune@example.test")
	n, err := e.svc.Prune(ctx, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// old (idle-expired 30 min before the cut-off) and revoked go; live (idle-expired 23 h
	// ago, after the cut-off) and live2 stay.
	if n != 2 {
		t.Fatalf("pruned %d sessions, want 2", n)
	}
	for _, sid := range []string{old.Session.ID, revoked.Session.ID} {
		if _, err := e.st.SessionByID(ctx, sid); err == nil {
			t.Fatalf("session %s not pruned", sid)
		}
	}
	for _, sid := range []string{live.Session.ID, live2.Session.ID} {
		if _, err := e.st.SessionByID(ctx, sid); err != nil {
			t.Fatalf("session %s pruned: %v", sid, err)
		}
	}
	if c, _ := e.st.LoginFailures(ctx, make([]byte, 32), "192.0.2.4", store.FailureSince{}); c.Client != 0 {
		t.Fatalf("old login failures kept: %+v", c)
	}
}

// A password hash made with weaker parameters is upgraded at the next successful login.
func TestLoginUpgradesOldHash(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	u := e.user(t, "old@example.test")
	e.plantWeakHash(t, u.ID)
	e.login(t, "old@example.test")
	su, err := e.st.UserByID(ctx, u.ID)
	if err != nil || !strings.HasPrefix(su.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash not upgraded: %q %v", su.PasswordHash, err)
	}
	e.login(t, "old@example.test") // the new hash verifies
}

// A hash that costs at least as much as the defaults is left as it is: the upgrade only
// ever strengthens. One made with more memory (an operator's import, OWASP's m=46 MiB,
// t=1) or more passes is not rewritten to the defaults at the next login; one with a
// shorter key or salt is.
func TestLoginKeepsAHashAtLeastAsStrong(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	for _, c := range []struct {
		name     string
		p        auth.Params
		upgraded bool
	}{
		{"more memory, one pass (OWASP)", auth.Params{Memory: 46 * 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, false},
		{"more passes", auth.Params{Memory: 19 * 1024, Time: 3, Threads: 1, SaltLen: 16, KeyLen: 32}, false},
		{"more threads", auth.Params{Memory: 19 * 1024, Time: 2, Threads: 2, SaltLen: 16, KeyLen: 32}, false},
		{"less memory", auth.Params{Memory: 12 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, true},
		{"a shorter key", auth.Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 16}, true},
		{"a shorter salt", auth.Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 8, KeyLen: 32}, true},
	} {
		email := strings.ReplaceAll(strings.ReplaceAll(c.name, " ", "-"), ",", "") + "@example.test"
		email = strings.NewReplacer("(", "", ")", "").Replace(email)
		u := e.user(t, email)
		planted := auth.HashWithParams(testPassword, c.p)
		if err := e.st.SetPasswordHash(ctx, u.ID, planted); err != nil {
			t.Fatal(err)
		}
		e.login(t, email)
		su, err := e.st.UserByID(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if upgraded := su.PasswordHash != planted; upgraded != c.upgraded {
			t.Errorf("%s: rehashed %v, want %v (now %.30s)", c.name, upgraded, c.upgraded, su.PasswordHash)
		}
	}
}

// Prune never deletes a revoked session while the revocation list still names it: an
// edge accepts its last access token until exp plus the verifiers' leeway, and the list's
// window is AccessTTL + Leeway. A keep shorter than that (here 0) is raised to it.
func TestPruneKeepsRevokedSessionsForTheListWindow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *auth.Config) { c.AccessTTL = 10 * time.Minute; c.Leeway = time.Minute })
	ctx := context.Background()
	e.user(t, "window@example.test")
	r := e.login(t, "window@example.test")
	if _, err := e.svc.Logout(ctx, r.Session.ID); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(10*time.Minute + 30*time.Second) // the access token expired, but within leeway
	if _, err := e.svc.Prune(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.SessionByID(ctx, r.Session.ID); err != nil {
		t.Fatalf("revoked session pruned while its token is within leeway: %v", err)
	}
	e.clock.Add(time.Minute) // past exp + leeway: nothing can present it any more
	if n, err := e.svc.Prune(ctx, 0); err != nil || n != 1 {
		t.Fatalf("pruned %d (%v), want 1", n, err)
	}
}

// Every replica prunes: a prune meets rows another one (or a refresh, a revocation) has
// locked. It skips them instead of waiting, deletes a backlog larger than one batch, and
// leaves the skipped row for a later run.
func TestPruneSkipsLockedRowsAndDeletesInBatches(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	u := e.user(t, "backlog@example.test")
	const ended = 2500 // more than one batch
	if _, err := e.pool.Exec(ctx, `INSERT INTO sessions (id, user_id, created_at, last_used_at, idle_expires_at, absolute_expires_at, token_hash)
		SELECT 'ended-session-' || lpad(i::text, 10, '0'), $1, $2, $2, $2, $2, sha256(i::text::bytea)
		FROM generate_series(1, $3) i`, u.ID, e.clock.Now().Add(-48*time.Hour), ended); err != nil {
		t.Fatal(err)
	}
	tx, err := e.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	const locked = "ended-session-0000000007"
	if _, err := tx.Exec(ctx, `SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE`, locked); err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	n, err := e.svc.Prune(pctx, 24*time.Hour)
	if err != nil || n != ended-1 {
		t.Fatalf("pruned %d (%v), want %d", n, err, ended-1)
	}
	if _, err := e.st.SessionByID(ctx, locked); err != nil {
		t.Fatalf("the locked session: %v", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := e.svc.Prune(ctx, 24*time.Hour); err != nil || n != 1 {
		t.Fatalf("second prune: %d (%v)", n, err)
	}
}

// A browser drops a cookie whose name and value exceed 4096 bytes (RFC 6265bis; OWASP
// ASVS 5.0 3.3.5), and the access token carries the roles: a role set that would push
// the access cookie past that is refused, and the largest one accepted still fits with
// room for the longest signature (RS256 with a keys.RSABits key: 512 characters, 426
// more than the Ed25519 signature of this test's signer).
func TestRolesFitInTheAccessCookie(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	u := e.user(t, "many-roles@example.test")
	roles := func(n int) []string { // n bytes joined with commas, as X-Edgeauth-Roles carries them
		var rs []string
		for ; n > 64; n -= 64 {
			rs = append(rs, strings.Repeat("r", 63))
		}
		return append(rs, strings.Repeat("r", n))
	}
	largest := roles(auth.MaxRolesBytes)
	if got := len(strings.Join(largest, ",")); got != auth.MaxRolesBytes {
		t.Fatalf("test setup: %d bytes of roles, want %d", got, auth.MaxRolesBytes)
	}
	if err := e.svc.SetRoles(ctx, u.ID, largest); err != nil {
		t.Fatalf("the largest role set: %v", err)
	}
	access := e.login(t, "many-roles@example.test").Tokens.Access
	if n := len("__Secure-edgeauth_at=") + len(access) + 426; n > 4096 {
		t.Fatalf("the largest role set makes an access cookie of %d bytes with the longest signature; browsers keep at most 4096", n)
	}
	tooMany := append(slices.Clone(largest[:len(largest)-1]), largest[len(largest)-1]+"r")
	wantErr(t, e.svc.SetRoles(ctx, u.ID, tooMany), auth.ErrInvalidRole)
	_, err := e.svc.CreateUser(ctx, auth.NewUser{Email: "more-roles@example.test", Password: testPassword, Roles: tooMany})
	wantErr(t, err, auth.ErrInvalidRole)
	if got, err := e.svc.User(ctx, u.ID); err != nil || !slices.Equal(got.Roles, largest) {
		t.Fatalf("roles after the refused change: %d roles, %v", len(got.Roles), err)
	}
}

// EndSessions ends every session of the named user (ended_by_operator), audits the
// operator's act, leaves the password and other users alone, and refuses an unknown
// name (ErrUserNotFound) changing nothing.
func TestEndSessionsEndsEverySessionOfTheUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	u := e.user(t, "ops@example.test")
	e.user(t, "other@example.test")
	one, two := e.login(t, "ops@example.test"), e.login(t, "ops@example.test")
	other := e.login(t, "other@example.test")

	_, _, err := e.svc.EndSessions(ctx, "nobody@example.test")
	wantErr(t, err, auth.ErrUserNotFound)
	e.active(t, one.Session.ID, true)

	got, n, err := e.svc.EndSessions(ctx, " OPS@example.test ")
	if err != nil || n != 2 || got.ID != u.ID {
		t.Fatalf("EndSessions = %+v, %d, %v; want %s, 2", got, n, err, u.ID)
	}
	e.active(t, one.Session.ID, false)
	e.active(t, two.Session.ID, false)
	e.active(t, other.Session.ID, true)
	for _, r := range []*auth.Result{one, two} {
		sess, err := e.st.SessionByID(ctx, r.Session.ID)
		if err != nil || sess.RevokeReason != auth.ReasonEndedByOperator {
			t.Fatalf("session revoked with %q (%v), want %s", sess.RevokeReason, err, auth.ReasonEndedByOperator)
		}
		_, err = e.refresh(r.Tokens.Refresh)
		wantErr(t, err, auth.ErrRefreshInvalid)
	}
	evs, err := e.st.AuditEvents(ctx, auth.ReasonEndedByOperator, "", 10)
	if err != nil || len(evs) != 1 || evs[0].UserID != u.ID || evs[0].Detail["by"] != "operator" {
		t.Fatalf("audit events %+v, %v", evs, err)
	}
	if n, err := e.svc.LogoutAll(ctx, u.ID); err != nil || n != 0 {
		t.Fatalf("sessions left after EndSessions: %d, %v", n, err)
	}
	// The password stays: the user signs in again.
	e.login(t, "ops@example.test")
}

// DisableUser ends every session of the user (account_disabled) and makes its login
// ErrInvalidCredentials, with the right password too; a second disabling changes
// nothing. EnableUser lets it sign in again, the ended sessions staying ended. Both
// refuse an unknown name (ErrUserNotFound) and audit what they change, and only that.
func TestDisableAndEnableUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	u := e.user(t, "off@example.test")
	e.user(t, "on@example.test")
	one, two := e.login(t, "off@example.test"), e.login(t, "off@example.test")
	other := e.login(t, "on@example.test")
	audits := func() int {
		evs, err := e.st.AuditEvents(ctx, "", "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		return len(evs)
	}

	_, err := e.svc.DisableUser(ctx, "nobody@example.test")
	wantErr(t, err, auth.ErrUserNotFound)
	_, err = e.svc.EnableUser(ctx, "nobody@example.test")
	wantErr(t, err, auth.ErrUserNotFound)

	ch, err := e.svc.DisableUser(ctx, "Off@example.test")
	if err != nil || !ch.Changed || ch.Ended != 2 || ch.User.ID != u.ID {
		t.Fatalf("DisableUser = %+v, %v", ch, err)
	}
	for _, r := range []*auth.Result{one, two} {
		e.active(t, r.Session.ID, false)
		sess, err := e.st.SessionByID(ctx, r.Session.ID)
		if err != nil || sess.RevokeReason != auth.ReasonAccountDisabled {
			t.Fatalf("session revoked with %q (%v), want %s", sess.RevokeReason, err, auth.ReasonAccountDisabled)
		}
		_, err = e.refresh(r.Tokens.Refresh)
		wantErr(t, err, auth.ErrRefreshInvalid)
	}
	e.active(t, other.Session.ID, true)
	for _, pw := range []string{testPassword, "a wrong password"} {
		_, err := e.svc.Login(ctx, auth.LoginRequest{Email: "off@example.test", Password: pw, IP: "192.0.2.3"})
		wantErr(t, err, auth.ErrInvalidCredentials)
	}
	if evs, err := e.st.AuditEvents(ctx, auth.ReasonAccountDisabled, "", 10); err != nil || len(evs) != 1 || evs[0].Detail["by"] != "operator" {
		t.Fatalf("audit of the disabling: %+v, %v", evs, err)
	}

	n := audits()
	if ch, err := e.svc.DisableUser(ctx, "off@example.test"); err != nil || ch.Changed || ch.Ended != 0 {
		t.Fatalf("second DisableUser = %+v, %v", ch, err)
	}
	if ch, err := e.svc.EnableUser(ctx, "on@example.test"); err != nil || ch.Changed {
		t.Fatalf("EnableUser of an enabled account = %+v, %v", ch, err)
	}
	if audits() != n {
		t.Fatal("a change that changed nothing was audited")
	}

	if ch, err := e.svc.EnableUser(ctx, "off@example.test"); err != nil || !ch.Changed {
		t.Fatalf("EnableUser = %+v, %v", ch, err)
	}
	e.active(t, one.Session.ID, false)
	e.login(t, "off@example.test")
	if audits() != n+2 { // account_enabled, login
		t.Fatalf("%d audit events after enabling and a login, want %d", audits(), n+2)
	}
}

// Ending sessions counts only the sessions that were live: one that already expired
// (idle) had ended, so an operator is not told that sessions ended when none was live.
func TestEndingSessionsCountsOnlyLiveOnes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *auth.Config) { c.IdleTTL = time.Hour })
	ctx := context.Background()
	e.user(t, "ops@example.test")
	stale := e.login(t, "ops@example.test")
	e.clock.Add(time.Hour + time.Second) // stale's idle expiry passed
	e.active(t, stale.Session.ID, false)
	if _, n, err := e.svc.EndSessions(ctx, "ops@example.test"); err != nil || n != 0 {
		t.Errorf("EndSessions with no live session = %d, %v; want 0", n, err)
	}
	live := e.login(t, "ops@example.test")
	if _, n, err := e.svc.EndSessions(ctx, "ops@example.test"); err != nil || n != 1 {
		t.Errorf("EndSessions with one live session = %d, %v; want 1", n, err)
	}
	e.active(t, live.Session.ID, false)

	// So does disabling, which still revokes the expired session (the operator's clock
	// may run ahead of the control plane's): the account is deleted after the window.
	e.user(t, "gone@example.test")
	gone := e.login(t, "gone@example.test")
	e.clock.Add(time.Hour + time.Second)
	if ch, err := e.svc.DisableUser(ctx, "gone@example.test"); err != nil || ch.Ended != 0 {
		t.Fatalf("DisableUser with no live session = %+v, %v", ch, err)
	}
	if sess, err := e.st.SessionByID(ctx, gone.Session.ID); err != nil || sess.RevokeReason != auth.ReasonAccountDisabled {
		t.Fatalf("the expired session after disabling: %q, %v", sess.RevokeReason, err)
	}
	e.clock.Add(11*time.Minute + time.Second)
	if _, err := e.svc.DeleteUser(ctx, "gone@example.test", 11*time.Minute); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
}

// DeleteUser deletes a disabled account from the moment its sessions leave the
// revocation list (the list names a session revoked after now minus its window), which
// is the time a refusal said it could: not a moment later, and without moving that
// time on by another window.
func TestDeleteUserFromTheTimeItSays(t *testing.T) {
	t.Parallel()
	const window = 11 * time.Minute
	e := newEnv(t, nil)
	ctx := context.Background()
	e.user(t, "gone@example.test")
	e.login(t, "gone@example.test")
	if _, err := e.svc.DisableUser(ctx, "gone@example.test"); err != nil {
		t.Fatal(err)
	}
	disabled := e.clock.Now()
	e.clock.Add(window - time.Second)
	_, err := e.svc.DeleteUser(ctx, "gone@example.test", window)
	var tooSoon *auth.DisabledRecentlyError
	if !errors.As(err, &tooSoon) || !tooSoon.DeletableFrom.Equal(disabled.Add(window)) {
		t.Fatalf("DeleteUser a second early = %v; want deletable from %v", err, disabled.Add(window))
	}
	e.clock.Add(time.Second)
	if _, err := e.svc.DeleteUser(ctx, "gone@example.test", window); err != nil {
		t.Fatalf("DeleteUser at %v, the time it said: %v", tooSoon.DeletableFrom, err)
	}
}

// A session that ended after the disabling (edgeauth revokes them all as it disables;
// here one is moved later by hand) keeps the account from being deleted until the
// revocation list stops naming it: a refusal says from then, its end plus the window,
// whether it comes within the window after the disabling or after it, and not a window
// from the refusal.
func TestDeleteUserAfterALaterSessionEndFromTheTimeItSays(t *testing.T) {
	t.Parallel()
	const window = 11 * time.Minute
	e := newEnv(t, nil)
	ctx := context.Background()
	e.user(t, "gone@example.test")
	r := e.login(t, "gone@example.test")
	if _, err := e.svc.DisableUser(ctx, "gone@example.test"); err != nil {
		t.Fatal(err)
	}
	ended := e.clock.Now().Add(5 * time.Minute)
	if _, err := e.pool.Exec(ctx, `UPDATE sessions SET revoked_at = $2 WHERE id = $1`, r.Session.ID, ended); err != nil {
		t.Fatal(err)
	}
	var tooSoon *auth.DisabledRecentlyError
	// Within the window after the disabling, then a second before the time said.
	for _, step := range []time.Duration{time.Minute, 4*time.Minute + window - time.Second} {
		e.clock.Add(step)
		_, err := e.svc.DeleteUser(ctx, "gone@example.test", window)
		if !errors.As(err, &tooSoon) || !tooSoon.DeletableFrom.Equal(ended.Add(window)) {
			t.Fatalf("DeleteUser at %v = %v; want deletable from %v", e.clock.Now(), err, ended.Add(window))
		}
	}
	e.clock.Add(time.Second)
	if _, err := e.svc.DeleteUser(ctx, "gone@example.test", window); err != nil {
		t.Fatalf("DeleteUser at %v, the time it said: %v", tooSoon.DeletableFrom, err)
	}
}

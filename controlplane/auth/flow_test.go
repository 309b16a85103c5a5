package auth_test

import (
	"context"
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/auth"
	"github.com/edgeauth/edgeauth/controlplane/store"
)

func TestLoginRefreshLogout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	u := e.user(t, "Alice@Example.test", "admin", "staff")

	r := e.login(t, "alice@example.TEST") // case-insensitive
	if r.User.ID != u.ID || !slices.Equal(r.User.Roles, []string{"admin", "staff"}) {
		t.Fatalf("login user = %+v", r.User)
	}
	if raw, err := base64.RawURLEncoding.DecodeString(r.Session.ID); err != nil || len(raw) < 16 {
		t.Fatalf("session id %q: not >= 128 bits base64url", r.Session.ID)
	}
	// <session id>.<generation>.<256 bits base64url>
	if sid, rest, _ := strings.Cut(r.Tokens.Refresh, "."); sid != r.Session.ID || !strings.HasPrefix(rest, "1.") {
		t.Fatalf("refresh token %q does not name its session and generation 1", r.Tokens.Refresh)
	} else if raw, err := base64.RawURLEncoding.Strict().DecodeString(strings.TrimPrefix(rest, "1.")); err != nil || len(raw) != 32 {
		t.Fatalf("refresh token's secret is not 256 bits base64url")
	}
	now := e.clock.Now()
	h, c := e.signer.parse(t, r.Tokens.Access, now)
	if h["typ"] != "at+jwt" || h["kid"] != "test-1" {
		t.Fatalf("header %v", h)
	}
	if c["iss"] != testIssuer || c["aud"] != testAudience || c["sub"] != u.ID || c["sid"] != r.Session.ID {
		t.Fatalf("claims %v", c)
	}
	if roles, _ := c["roles"].([]any); len(roles) != 2 || roles[0] != "admin" {
		t.Fatalf("roles claim %v", c["roles"])
	}
	if c["exp"].(float64)-c["iat"].(float64) != 600 || c["nbf"] != c["iat"] || c["jti"] == "" {
		t.Fatalf("times/jti %v", c)
	}
	if se, _ := c["sess_exp"].(float64); int64(se) != r.Session.AbsoluteExpires.Unix() {
		t.Fatalf("sess_exp %v, want the session's absolute expiry %v", c["sess_exp"], r.Session.AbsoluteExpires)
	}
	if amr, _ := c["amr"].([]any); len(amr) != 1 || amr[0] != "pwd" {
		t.Fatalf("amr %v, want [pwd] (the password alone)", c["amr"])
	}
	if !r.Tokens.AccessExpires.Equal(now.Add(10 * time.Minute)) {
		t.Fatalf("AccessExpires %v", r.Tokens.AccessExpires)
	}
	e.active(t, r.Session.ID, true)

	e.clock.Add(5 * time.Minute)
	r2 := mustRefresh(t, e, r.Tokens.Refresh)
	if r2.Tokens.Refresh == r.Tokens.Refresh || r2.Tokens.Access == r.Tokens.Access || r2.Session.ID != r.Session.ID {
		t.Fatal("refresh did not rotate")
	}
	_, c2 := e.signer.parse(t, r2.Tokens.Access, e.clock.Now())
	if c2["jti"] == c["jti"] || c2["sid"] != r.Session.ID {
		t.Fatalf("claims after refresh %v", c2)
	}
	if !r2.Session.LastUsed.Equal(e.clock.Now()) {
		t.Fatalf("last used %v", r2.Session.LastUsed)
	}

	if revoked, err := e.svc.Logout(ctx, r.Session.ID); err != nil || !revoked {
		t.Fatalf("logout: revoked %v, %v", revoked, err)
	}
	e.active(t, r.Session.ID, false)
	_, err := e.refresh(r2.Tokens.Refresh)
	wantErr(t, err, auth.ErrRefreshInvalid)
	// Again: it succeeds, and says it revoked nothing (the metrics count revocations).
	if revoked, err := e.svc.Logout(ctx, r.Session.ID); err != nil || revoked {
		t.Fatalf("second logout: revoked %v, %v", revoked, err)
	}
	wantErr(t, errOf(e.svc.Logout(ctx, "no-such-session-xxxxxxxxxxxx")), auth.ErrSessionNotFound)
}

func TestLoginKeepsOtherSessionsAndListsThem(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	u := e.user(t, "bob@example.test")
	other := e.user(t, "carol@example.test")
	a := e.login(t, "bob@example.test")
	e.clock.Add(time.Second)
	b := e.login(t, "bob@example.test")
	e.clock.Add(time.Second)
	c := e.login(t, "bob@example.test")
	o := e.login(t, "carol@example.test")
	for _, r := range []*auth.Result{a, b, c} {
		e.active(t, r.Session.ID, true)
	}

	list, err := e.svc.ListSessions(ctx, u.ID, b.Session.ID)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range list {
		ids = append(ids, s.ID)
		if s.Current != (s.ID == b.Session.ID) || s.UserAgent != "test" || s.IP != "192.0.2.1" {
			t.Fatalf("session %+v", s)
		}
	}
	if !slices.Equal(ids, []string{c.Session.ID, b.Session.ID, a.Session.ID}) {
		t.Fatalf("sessions %v", ids)
	}

	// Only one's own sessions can be revoked.
	wantErr(t, e.svc.RevokeSession(ctx, u.ID, o.Session.ID), auth.ErrSessionNotFound)
	e.active(t, o.Session.ID, true)
	if err := e.svc.RevokeSession(ctx, u.ID, a.Session.ID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, e.svc.RevokeSession(ctx, u.ID, a.Session.ID), auth.ErrSessionNotFound)
	e.active(t, a.Session.ID, false)

	n, err := e.svc.LogoutOthers(ctx, u.ID, c.Session.ID)
	if err != nil || n != 1 {
		t.Fatalf("LogoutOthers = %d, %v", n, err)
	}
	e.active(t, b.Session.ID, false)
	e.active(t, c.Session.ID, true)
	n, err = e.svc.LogoutAll(ctx, u.ID)
	if err != nil || n != 1 {
		t.Fatalf("LogoutAll = %d, %v", n, err)
	}
	e.active(t, c.Session.ID, false)
	e.active(t, o.Session.ID, true)
	if list, _ := e.svc.ListSessions(ctx, u.ID, ""); len(list) != 0 {
		t.Fatalf("sessions after logout-all: %v", list)
	}
	if list, _ := e.svc.ListSessions(ctx, other.ID, ""); len(list) != 1 {
		t.Fatalf("other user's sessions: %v", list)
	}
	if got, err := e.svc.User(ctx, u.ID); err != nil || got.Email != "bob@example.test" {
		t.Fatalf("User = %+v, %v", got, err)
	}
	_, err = e.svc.User(ctx, "00000000-0000-0000-0000-000000000000")
	wantErr(t, err, auth.ErrUserNotFound)
}

func TestLogoutByRefreshToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.user(t, "dan@example.test")
	r := e.login(t, "dan@example.test")
	if revoked, err := e.svc.LogoutByRefreshToken(context.Background(), r.Tokens.Refresh); err != nil || !revoked {
		t.Fatalf("logout: revoked %v, %v", revoked, err)
	}
	e.active(t, r.Session.ID, false)
	if revoked, err := e.svc.LogoutByRefreshToken(context.Background(), r.Tokens.Refresh); err != nil || revoked {
		t.Fatalf("again: revoked %v, %v; want a success that revoked nothing", revoked, err)
	}
	wantErr(t, errOf(e.svc.LogoutByRefreshToken(context.Background(), "garbage")), auth.ErrRefreshInvalid)

	// Any token the session issued ends it: the live one's parent, or one older still
	// (a browser whose cookie jar lagged behind another tab's).
	for _, older := range []int{1, 2} {
		r := e.login(t, "dan@example.test")
		toks := []string{r.Tokens.Refresh}
		for range 2 {
			toks = append(toks, mustRefresh(t, e, toks[len(toks)-1]).Tokens.Refresh)
		}
		if _, err := e.svc.LogoutByRefreshToken(context.Background(), toks[len(toks)-1-older]); err != nil {
			t.Fatalf("logout with a token %d generation(s) behind: %v", older, err)
		}
		e.active(t, r.Session.ID, false)
	}
}

func TestRefreshInvalid(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *auth.Config) { c.IdleTTL = time.Hour; c.AbsoluteTTL = 3 * time.Hour })
	e.user(t, "erin@example.test")
	cases := []struct {
		name  string
		token func(t *testing.T) string
	}{
		{"empty", func(*testing.T) string { return "" }},
		{"not base64url", func(*testing.T) string { return "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" }},
		{"wrong length", func(*testing.T) string { return "AAAA" }},
		{"non-canonical", func(t *testing.T) string {
			tok := e.login(t, "erin@example.test").Tokens.Refresh
			last := tok[len(tok)-1]
			// The last character carries 4 unused bits; setting one gives a non-canonical encoding.
			idx := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
			i := slices.Index([]byte(idx), last)
			return tok[:len(tok)-1] + string(idx[i^1])
		}},
		{"unknown", func(*testing.T) string { return base64.RawURLEncoding.EncodeToString(make([]byte, 32)) }},
		{"idle expired", func(t *testing.T) string {
			tok := e.login(t, "erin@example.test").Tokens.Refresh
			e.clock.Add(time.Hour + time.Second)
			return tok
		}},
		{"absolutely expired", func(t *testing.T) string {
			tok := e.login(t, "erin@example.test").Tokens.Refresh
			for range 4 { // keep it from idling out
				e.clock.Add(40 * time.Minute)
				tok = mustRefresh(t, e, tok).Tokens.Refresh
			}
			e.clock.Add(25 * time.Minute) // 185 min > 3 h, used 25 min ago
			return tok
		}},
		{"logged out", func(t *testing.T) string {
			r := e.login(t, "erin@example.test")
			if _, err := e.svc.Logout(context.Background(), r.Session.ID); err != nil {
				t.Fatal(err)
			}
			return r.Tokens.Refresh
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.refresh(c.token(t))
			wantErr(t, err, auth.ErrRefreshInvalid)
		})
	}
}

// New refuses a configuration it cannot work with, naming every problem at once, and
// takes one it can.
func TestNewRefusesWhatCannotWork(t *testing.T) {
	t.Parallel()
	st, signer := store.New(nil), newSigner(t)
	good := auth.Config{Issuer: testIssuer, Audience: testAudience, RefreshTagKey: testTagKey}
	if _, err := auth.New(st, signer, good); err != nil {
		t.Fatalf("a complete configuration refused: %v", err)
	}
	cases := []struct {
		name   string
		mod    func(*auth.Config)
		nilArg bool
		want   []string
	}{
		{"no issuer or audience", func(c *auth.Config) { c.Issuer, c.Audience = "", "" }, false, []string{"Issuer is required", "Audience is required"}},
		{"no tag key", func(c *auth.Config) { c.RefreshTagKey = nil }, false, []string{"RefreshTagKey must hold at least 32 bytes"}},
		{"short tag key", func(c *auth.Config) { c.RefreshTagKey = make([]byte, 31) }, false, []string{"RefreshTagKey"}},
		{"short previous tag key", func(c *auth.Config) { c.PreviousRefreshTagKeys = [][]byte{testTagKey, make([]byte, 31)} }, false, []string{"PreviousRefreshTagKeys must hold at least 32 bytes"}},
		{"negative duration", func(c *auth.Config) { c.IdleTTL = -time.Second }, false, []string{"negative"}},
		{"idle beyond absolute", func(c *auth.Config) { c.IdleTTL, c.AbsoluteTTL = 2*time.Hour, time.Hour }, false, []string{"IdleTTL exceeds AbsoluteTTL"}},
		{"grace beyond the access lifetime", func(c *auth.Config) { c.RefreshGrace, c.AccessTTL = time.Hour, time.Minute }, false, []string{"RefreshGrace exceeds AccessTTL"}},
		{"account window shorter than the window", func(c *auth.Config) { c.Throttle.Window, c.Throttle.AccountWindow = time.Hour, time.Minute }, false, []string{"AccountWindow is shorter"}},
		{"no store or signer", nil, true, []string{"a store and a signer are required"}},
		{"everything at once", func(c *auth.Config) { c.Issuer, c.RefreshTagKey = "", nil }, true,
			[]string{"Issuer is required", "RefreshTagKey", "a store and a signer are required"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := good
			if c.mod != nil {
				c.mod(&cfg)
			}
			var err error
			if c.nilArg {
				_, err = auth.New(nil, nil, cfg)
			} else {
				_, err = auth.New(st, signer, cfg)
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not say %q", err, w)
				}
			}
		})
	}
}

// An access token never outlives its session's absolute expiry: verifiers check exp
// (sess_exp only binds sockets), so a token issued near the end of a session expires
// with it, not an access-token lifetime later (OWASP ASVS 5.0 7.3.2).
func TestAccessTokensExpireWithTheSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *auth.Config) { c.IdleTTL = time.Hour; c.AbsoluteTTL = time.Hour })
	e.user(t, "erin@example.test")
	in := e.login(t, "erin@example.test")
	e.clock.Add(55 * time.Minute)
	r := mustRefresh(t, e, in.Tokens.Refresh)
	_, claims := e.signer.parse(t, r.Tokens.Access, e.clock.Now())
	end := in.Session.AbsoluteExpires.Unix()
	if exp := int64(claims["exp"].(float64)); exp > end || r.Tokens.AccessExpires.Unix() > end {
		t.Errorf("access token exp %d (AccessExpires %d) after the session's absolute expiry %d", exp, r.Tokens.AccessExpires.Unix(), end)
	}
}

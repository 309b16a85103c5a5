package auth_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/edgeauth/edgeauth/controlplane/auth"
	"github.com/edgeauth/edgeauth/controlplane/breached"
	"github.com/edgeauth/edgeauth/internal/pwnedtest"
	"github.com/edgeauth/edgeauth/internal/syncbuf"
	"github.com/trustelem/zxcvbn/frequency"
)

func TestCheckPassword(t *testing.T) {
	t.Parallel()
	const strong = "correct horse battery staple" // 28 code points, 2e20 guesses
	cases := []struct {
		name string
		pw   string
		ok   bool
	}{
		{"empty", "", false},
		{"seven", "Zq8#vLp", false},
		{"eight", "Zq8#vLp2", true},
		{"no composition rules", "kvzqpwtj", true},
		{"eight runes of multibyte", "ñçøßæ€łğ", true},
		{"seven runes of multibyte", "ñçøßæ€ł", false},
		{"sixty-four", strong + strings.Repeat("x", 64-28), true},
		{"256", strong + strings.Repeat("x", 256-28), true},
		{"257", strong + strings.Repeat("x", 257-28), false},
		{"spaces count", "q w e r t y u i o p"[:8] + "zk", true},
		{"invalid UTF-8", "abcdefgh\xff", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := auth.CheckPassword(c.pw)
			if (err == nil) != c.ok || (err != nil && !errors.Is(err, auth.ErrPasswordPolicy)) {
				t.Fatalf("CheckPassword = %v, want ok=%v", err, c.ok)
			}
		})
	}
}

// TestCheckPasswordRefusesGuessablePasswords: ASVS 5.0 6.2.4 (the most common passwords)
// and 6.2.11 (words of the context), without composition rules.
func TestCheckPasswordRefusesGuessablePasswords(t *testing.T) {
	t.Parallel()
	const (
		common  = "it is a common password, or close to one"
		context = "it contains the login name or the service's name"
		pattern = "it is made of common words, names, dates, repeats or keyboard patterns"
	)
	cases := []struct {
		pw      string
		context []string
		why     string // "" when accepted; otherwise the rule, one of three fixed sentences that never quote the password
	}{
		{"password", nil, common},
		{"12345678", nil, common},
		{"Password1", nil, common},
		{"P@ssw0rd", nil, common},
		{"iloveyou2024", nil, common},
		{"drowssap1", nil, common}, // reversed
		{"qwertyuiop", nil, common},
		{"aaaaaaaaaa", nil, pattern},
		{"zxcvbnm,./", nil, pattern}, // a keyboard row
		{"1985-12-31", nil, pattern},
		{"edgeauth2026", nil, context}, // always context
		// The login name, and its parts.
		{"zanzibarq2024", nil, ""},
		{"zanzibarq2024", []string{"Zanzibarq@example.test"}, context},
		// A login name in another Unicode form is the same name (loginname.Key), as
		// the password is compared after NFKC.
		{"zanzibarq2024", []string{"ｚａｎｚｉｂａｒｑ@example.test"}, context},
		{"Northwindz2024", nil, ""},
		{"Northwindz2024", []string{"zanzibarq@northwindz.example"}, context},
		// The service's names, given as URLs or names.
		{"northwindtraders7", nil, ""},
		{"northwindtraders7", []string{"https://northwindtraders.example:8443/auth"}, context},
		// Only the first 32 characters are judged.
		{strings.Repeat("a", 32) + "Xk9#mQ2$vL7&pR4!", nil, pattern},
		{"Xk9#mQ2$vL7&pR4!" + strings.Repeat("a", 32), nil, ""},
		// Long passphrases and random strings pass.
		{"correct horse battery staple", nil, ""},
		{"a brand new passphrase", nil, ""},
		{"Tr0ub4dor&3", nil, ""},
		{"w8Lq-3tNz", nil, ""},
	}
	for _, c := range cases {
		err := auth.CheckPassword(c.pw, c.context...)
		if c.why == "" {
			if err != nil {
				t.Errorf("CheckPassword(%q, %q) = %v, want accepted", c.pw, c.context, err)
			}
			continue
		}
		var refused *auth.PasswordPolicyError
		if !errors.As(err, &refused) || !errors.Is(err, auth.ErrPasswordPolicy) {
			t.Errorf("CheckPassword(%q, %q) = %v, want a *PasswordPolicyError", c.pw, c.context, err)
			continue
		}
		if want := "the password is too easy to guess: " + c.why; refused.Rule != want {
			t.Errorf("CheckPassword(%q, %q): rule %q, want %q", c.pw, c.context, refused.Rule, want)
		}
	}
}

// TestCheckPasswordRefusesTheMostCommon: ASVS 5.0 6.2.4 asks that new passwords be checked
// against at least the 3,000 most common ones that the length rule lets through. Here
// are the first 3,000 of eight characters or more in the estimator's own list (from
// 10 million leaked passwords, most common first), each as it is and capitalised.
func TestCheckPasswordRefusesTheMostCommon(t *testing.T) {
	t.Parallel()
	checked := 0
	for _, pw := range frequency.FrequencyLists["passwords"] {
		if utf8.RuneCountInString(pw) < auth.MinPasswordRunes {
			continue
		}
		for _, v := range []string{pw, strings.ToUpper(pw[:1]) + pw[1:]} {
			if err := auth.CheckPassword(v); !errors.Is(err, auth.ErrPasswordPolicy) {
				t.Errorf("CheckPassword(%q) = %v, want refused", v, err)
			}
		}
		if checked++; checked == 3000 {
			return
		}
	}
	t.Fatalf("the list has only %d passwords of 8 characters or more", checked)
}

// TestNewPasswordsAreJudgedWithTheirContext: every way a password is set passes the
// login name and the service's issuer and audience to CheckPassword.
func TestNewPasswordsAreJudgedWithTheirContext(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *auth.Config) { c.Issuer, c.Audience = "https://northwindz.example", "tailspinq" })
	ctx := context.Background()
	u := e.user(t, "zanzibarq@example.test")
	s := e.login(t, u.Email)
	storedHash := func() (h string) {
		if err := e.pool.QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1`, u.ID).Scan(&h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	hash := storedHash()
	for _, pw := range []string{"Northwindz2024", "tailspinq2024", "zanzibarq2024"} {
		if _, err := e.svc.CreateUser(ctx, auth.NewUser{Email: "zanzibarq+1@example.test", Password: pw}); !errors.Is(err, auth.ErrPasswordPolicy) {
			t.Errorf("CreateUser with %q: %v", pw, err)
		}
		if _, err := e.svc.Signup(ctx, auth.SignupRequest{Email: "zanzibarq+2@example.test", Password: pw, IP: "192.0.2.8"}); !errors.Is(err, auth.ErrPasswordPolicy) {
			t.Errorf("Signup with %q: %v", pw, err)
		}
		if _, _, err := e.svc.ChangePassword(ctx, auth.ChangePasswordRequest{UserID: u.ID, SessionID: s.Session.ID, Current: testPassword, New: pw, IP: "192.0.2.8"}); !errors.Is(err, auth.ErrPasswordPolicy) {
			t.Errorf("ChangePassword to %q: %v", pw, err)
		}
		if err := e.svc.SetPassword(ctx, u.ID, pw, ""); !errors.Is(err, auth.ErrPasswordPolicy) {
			t.Errorf("SetPassword to %q: %v", pw, err)
		}
		if _, _, err := e.svc.ResetPassword(ctx, u.Email, pw); !errors.Is(err, auth.ErrPasswordPolicy) {
			t.Errorf("ResetPassword to %q: %v", pw, err)
		}
	}
	if storedHash() != hash {
		t.Error("a refused password was stored")
	}
}

func TestCreateUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	u, err := e.svc.CreateUser(ctx, auth.NewUser{Email: "  Frank@Example.test ", Password: testPassword, Roles: []string{"admin"}})
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "Frank@Example.test" || !slices.Equal(u.Roles, []string{"admin"}) || u.ID == "" {
		t.Fatalf("user %+v", u)
	}
	cases := []struct {
		name string
		nu   auth.NewUser
		want error
	}{
		{"taken, other case", auth.NewUser{Email: "frank@EXAMPLE.test", Password: testPassword}, auth.ErrUserExists},
		{"short password", auth.NewUser{Email: "g@example.test", Password: "short"}, auth.ErrPasswordPolicy},
		{"empty e-mail", auth.NewUser{Email: " ", Password: testPassword}, auth.ErrInvalidEmail},
		{"space in e-mail", auth.NewUser{Email: "a b@example.test", Password: testPassword}, auth.ErrInvalidEmail},
		{"control character", auth.NewUser{Email: "a\x00b@example.test", Password: testPassword}, auth.ErrInvalidEmail},
		{"SQL-looking e-mail is just a name", auth.NewUser{Email: "x'OR'1'='1@example.test", Password: testPassword}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.svc.CreateUser(ctx, c.nu)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

// The stored hash is argon2id in PHC format with the OWASP parameters and a random salt;
// the password is never stored.
func TestStoredPasswordHash(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	a := e.user(t, "hash1@example.test")
	b := e.user(t, "hash2@example.test")
	var hashes []string
	for _, u := range []auth.User{a, b} {
		su, err := e.st.UserByID(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(su.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(su.PasswordHash, testPassword) {
			t.Fatalf("stored hash %q", su.PasswordHash)
		}
		p, salt, key, err := auth.ParsePHC(su.PasswordHash)
		if err != nil || p.Memory != 19*1024 || p.Time != 2 || p.Threads != 1 || len(salt) != 16 || len(key) != 32 {
			t.Fatalf("parsed %+v salt %d key %d: %v", p, len(salt), len(key), err)
		}
		hashes = append(hashes, su.PasswordHash)
	}
	if hashes[0] == hashes[1] {
		t.Fatal("same hash for the same password: salt not random")
	}
	// NFKC: a password typed with a compatibility character matches its normal form.
	if _, err := e.svc.CreateUser(ctx, auth.NewUser{Email: "nfkc@example.test", Password: "ｋｖｚｑ ｐｗｔｊ ９"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Login(ctx, auth.LoginRequest{Email: "nfkc@example.test", Password: "kvzq pwtj 9", IP: "192.0.2.9"}); err != nil {
		t.Fatalf("normalized password refused: %v", err)
	}
}

// Unknown accounts and wrong passwords get the same error after the same work: one
// argon2id run each, with the same parameters. (Counted, not timed: a wall-clock
// comparison fails on a loaded machine without a defect.) Serial: the counters are global.
func TestLoginDoesNotRevealAccounts(t *testing.T) {
	e := newEnv(t, func(c *auth.Config) {
		c.Throttle = auth.Throttle{PairFailures: 1000, ClientFailures: 1000, AccountFailures: 1000}
	})
	e.user(t, "known@example.test")
	ctx := context.Background()
	attempt := func(email string) (err error, runs, work int64) {
		runs0, work0 := auth.Argon2Runs()
		_, err = e.svc.Login(ctx, auth.LoginRequest{Email: email, Password: "wrong password", IP: "192.0.2.7"})
		runs1, work1 := auth.Argon2Runs()
		return err, runs1 - runs0, work1 - work0
	}
	for range 3 {
		err1, n1, w1 := attempt("nobody@example.test")
		err2, n2, w2 := attempt("known@example.test")
		if err1 != auth.ErrInvalidCredentials || err2 != auth.ErrInvalidCredentials {
			t.Fatalf("errors differ or are wrapped: unknown %v, wrong password %v", err1, err2)
		}
		if n1 != 1 || n2 != 1 || w1 != w2 || w1 == 0 {
			t.Fatalf("argon2id: unknown %d runs (work %d), wrong password %d runs (work %d); want one run each, the same work", n1, w1, n2, w2)
		}
	}
}

func TestLoginThrottling(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	e.user(t, "victim@example.test")
	login := func(email, pw, ip string) error {
		_, err := e.svc.Login(ctx, auth.LoginRequest{Email: email, Password: pw, IP: ip})
		return err
	}

	t.Run("per account and address, with Retry-After, reset by success", func(t *testing.T) {
		for range auth.DefaultPairFailures {
			wantErr(t, login("victim@example.test", "bad password", "198.51.100.1"), auth.ErrInvalidCredentials)
			e.clock.Add(time.Minute)
		}
		// Even the right password is refused now from that address, in any letter case.
		err := login("VICTIM@example.test", testPassword, "198.51.100.1")
		wantErr(t, err, auth.ErrThrottled)
		ra, ok := auth.RetryAfter(err)
		if want := auth.DefaultFailureWindow - 5*time.Minute; !ok || ra != want {
			t.Fatalf("RetryAfter = %v, want %v", ra, want)
		}
		// The owner elsewhere is not locked out.
		if err := login("victim@example.test", testPassword, "203.0.113.5"); err != nil {
			t.Fatalf("owner from another address: %v", err)
		}
		e.clock.Add(ra)
		if err := login("victim@example.test", testPassword, "198.51.100.1"); err != nil {
			t.Fatalf("after the wait: %v", err)
		}
		// Success cleared the pair: four more failures do not throttle.
		for range auth.DefaultPairFailures - 1 {
			wantErr(t, login("victim@example.test", "bad password", "198.51.100.1"), auth.ErrInvalidCredentials)
		}
		if err := login("victim@example.test", testPassword, "198.51.100.1"); err != nil {
			t.Fatalf("after reset: %v", err)
		}
	})

	t.Run("per client address, IPv6 by /64", func(t *testing.T) {
		for i := range auth.DefaultClientFailures {
			// Different (unknown) accounts: only the address adds up.
			wantErr(t, login("spray"+string(rune('a'+i))+"@example.test", "bad password", "2001:db8::"+string(rune('a'+i%6))), auth.ErrInvalidCredentials)
		}
		err := login("victim@example.test", testPassword, "2001:db8::ffff")
		wantErr(t, err, auth.ErrThrottled)
		if ra, _ := auth.RetryAfter(err); ra <= 0 || ra > auth.DefaultFailureWindow {
			t.Fatalf("RetryAfter %v", ra)
		}
		if err := login("victim@example.test", testPassword, "2001:db8:1::1"); err != nil {
			t.Fatalf("another /64 throttled: %v", err)
		}
	})
}

// Guessing from many addresses hits the account-wide ceiling, which refuses new
// addresses but not those the owner signed in from.
func TestLoginAccountCeiling(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *auth.Config) { c.Throttle.AccountFailures = 12 })
	ctx := context.Background()
	e.user(t, "owner@example.test")
	login := func(pw, ip string) error {
		_, err := e.svc.Login(ctx, auth.LoginRequest{Email: "owner@example.test", Password: pw, IP: ip})
		return err
	}
	if err := login(testPassword, "192.0.2.10"); err != nil { // the owner's usual address
		t.Fatal(err)
	}
	e.clock.Add(time.Hour)
	for i := range 12 { // three attackers, four guesses each: under their pair budgets
		wantErr(t, login("guess", "198.51.100."+strconv.Itoa(1+i%3)), auth.ErrInvalidCredentials)
	}
	err := login("guess", "198.51.100.4")
	wantErr(t, err, auth.ErrThrottled)
	if ra, _ := auth.RetryAfter(err); ra <= 23*time.Hour || ra > auth.DefaultAccountWindow {
		t.Fatalf("RetryAfter %v, want the account window's remainder", ra)
	}
	wantErr(t, login(testPassword, "203.0.113.9"), auth.ErrThrottled) // a new address, even with the password
	if err := login(testPassword, "192.0.2.10"); err != nil {
		t.Fatalf("owner at a known address locked out: %v", err)
	}
	// Known for KnownClientFor only.
	e.clock.Add(auth.DefaultKnownClientFor + time.Minute)
	for i := range 12 {
		wantErr(t, login("guess", "198.51.100."+strconv.Itoa(1+i%3)), auth.ErrInvalidCredentials)
	}
	wantErr(t, login(testPassword, "192.0.2.10"), auth.ErrThrottled)
}

// With a breached-password service configured, every setter asks it about a new
// password that the local rules accept and refuses one found in breaches, changing
// nothing; when the service does not answer, the password is accepted and a warning
// logged, which never quotes it.
func TestNewPasswordsAreCheckedForBreaches(t *testing.T) {
	t.Parallel()
	const breachedPw, freshPw = "tranquil meadow otter 1904", "kvzqpwtj sailboat lantern"
	svc := pwnedtest.Start(t, map[string]int{breachedPw: 23})
	checker, err := breached.New(svc.URL, 0)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncbuf.Buffer{}
	e := newEnv(t, func(c *auth.Config) {
		c.Breached = checker
		c.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	})
	ctx := context.Background()
	u := e.user(t, "ada@example.test")
	s := e.login(t, u.Email)
	state := func() string {
		var h string
		var users int
		if err := e.pool.QueryRow(ctx, `SELECT password_hash, (SELECT count(*) FROM users) FROM users WHERE id = $1`, u.ID).Scan(&h, &users); err != nil {
			t.Fatal(err)
		}
		return h + " " + strconv.Itoa(users)
	}
	before, askedBefore := state(), len(svc.Asked())
	setters := map[string]func(pw string) error{
		"CreateUser": func(pw string) error {
			_, err := e.svc.CreateUser(ctx, auth.NewUser{Email: "bob@example.test", Password: pw})
			return err
		},
		"Signup": func(pw string) error {
			_, err := e.svc.Signup(ctx, auth.SignupRequest{Email: "carol@example.test", Password: pw, IP: "192.0.2.8"})
			return err
		},
		"ChangePassword": func(pw string) error {
			_, _, err := e.svc.ChangePassword(ctx, auth.ChangePasswordRequest{UserID: u.ID, SessionID: s.Session.ID, Current: testPassword, New: pw, IP: "192.0.2.8"})
			return err
		},
		"SetPassword":   func(pw string) error { return e.svc.SetPassword(ctx, u.ID, pw, "") },
		"ResetPassword": func(pw string) error { _, _, err := e.svc.ResetPassword(ctx, u.Email, pw); return err },
	}
	for name, set := range setters {
		var pe *auth.PasswordPolicyError
		if err := set(breachedPw); !errors.As(err, &pe) || !strings.Contains(pe.Rule, "known data breaches") {
			t.Errorf("%s with a breached password: %v", name, err)
		}
	}
	if after := state(); after != before {
		t.Errorf("refused passwords changed the database: %s -> %s", before, after)
	}
	if n := len(svc.Asked()) - askedBefore; n != len(setters) {
		t.Errorf("the service was asked %d times for %d refusals", n, len(setters))
	}

	// The service is down: the password is accepted (CreateUser here), with a warning.
	svc.SetDown(true)
	if _, err := e.svc.CreateUser(ctx, auth.NewUser{Email: "dave@example.test", Password: freshPw}); err != nil {
		t.Fatalf("CreateUser while the service is down: %v", err)
	}
	if !strings.Contains(logs.String(), "breached-password check failed") {
		t.Errorf("no warning logged:\n%s", logs)
	}
	svc.SetDown(false)
	if _, err := e.svc.CreateUser(ctx, auth.NewUser{Email: "erin@example.test", Password: freshPw + " too"}); err != nil {
		t.Fatalf("CreateUser with a password the service does not know: %v", err)
	}
	if strings.Contains(logs.String(), freshPw) || strings.Contains(logs.String(), breachedPw) {
		t.Errorf("a password reached the logs:\n%s", logs)
	}
}

// The breach checker is a third party: a stranger must not make the control plane ask
// it at will. A password change asks it only once the current password matched, and a
// signup only once the attempt passed the throttle; a breached password's refusal then
// counts nothing, as the local rules' refusals do.
func TestBreachCheckWaitsForTheThrottleAndTheCurrentPassword(t *testing.T) {
	t.Parallel()
	const breachedPw = "tranquil meadow otter 1904"
	svc := pwnedtest.Start(t, map[string]int{breachedPw: 23})
	checker, err := breached.New(svc.URL, 0)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *auth.Config) {
		c.Breached = checker
		c.Throttle.ClientFailures = 3
	})
	ctx := context.Background()
	u := e.user(t, "ada@example.test")
	s := e.login(t, u.Email)
	base := len(svc.Asked()) // creating the account asked about its password
	asked := func() int { return len(svc.Asked()) - base }
	failures := func() int {
		var n int
		if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM login_failures`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	change := func(current string) error {
		_, _, err := e.svc.ChangePassword(ctx, auth.ChangePasswordRequest{UserID: u.ID, SessionID: s.Session.ID,
			Current: current, New: breachedPw, IP: "192.0.2.8"})
		return err
	}
	wantErr(t, change("not the password"), auth.ErrInvalidCredentials)
	if asked() != 0 {
		t.Fatalf("a wrong current password asked the breach service %d times", asked())
	}
	before := failures()
	wantErr(t, change(testPassword), auth.ErrPasswordPolicy)
	if asked() != 1 || failures() != before {
		t.Fatalf("a breached new password: asked %d times, failures %d -> %d", asked(), before, failures())
	}

	// Signups from one address: a breached password stays counted, as a signup that
	// meets a taken name does, so a stranger repeating it is throttled like any other
	// guesser; once the address's failures reach the limit, the service is asked
	// nothing more.
	signup := func(email, pw string) error {
		_, err := e.svc.Signup(ctx, auth.SignupRequest{Email: email, Password: pw, IP: "198.51.100.7"})
		return err
	}
	refused := 0
	for {
		err := signup(fmt.Sprintf("carol%d@example.test", refused), breachedPw)
		if errors.Is(err, auth.ErrThrottled) {
			break
		}
		wantErr(t, err, auth.ErrPasswordPolicy)
		if refused++; refused > 3 {
			t.Fatalf("%d breached signups from one address, none throttled (ClientFailures 3)", refused)
		}
	}
	if asked() != 1+refused {
		t.Fatalf("breached signups asked %d times, want %d", asked()-1, refused)
	}
	n := asked()
	wantErr(t, signup("dave@example.test", breachedPw), auth.ErrThrottled)
	if asked() != n {
		t.Fatal("a throttled signup asked the breach service")
	}
}

// A password is stored and matched as NFKC makes it, so the breach check must ask about
// that form: typed in fullwidth characters, a breached password is the breached
// password at every login, and must be refused as it is.
func TestBreachCheckAsksAboutThePasswordAsStored(t *testing.T) {
	t.Parallel()
	const breachedPw = "tranquil meadow otter 1904"
	const fullwidth = "ｔｒａｎｑｕｉｌ ｍｅａｄｏｗ ｏｔｔｅｒ １９０４" // NFKC: breachedPw
	svc := pwnedtest.Start(t, map[string]int{breachedPw: 23})
	checker, err := breached.New(svc.URL, 0)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *auth.Config) { c.Breached = checker })
	ctx := context.Background()
	_, err = e.svc.CreateUser(ctx, auth.NewUser{Email: "ada@example.test", Password: fullwidth})
	var pe *auth.PasswordPolicyError
	if !errors.As(err, &pe) || !strings.Contains(pe.Rule, "known data breaches") {
		_, lerr := e.svc.Login(ctx, auth.LoginRequest{Email: "ada@example.test", Password: breachedPw, IP: "192.0.2.1"})
		t.Fatalf("a breached password in fullwidth characters: %v (and a login with the breached password as listed: %v)", err, lerr)
	}
}

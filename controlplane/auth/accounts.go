package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/store"
)

// AccountStorage is what Accounts needs from storage; *store.Store implements it.
type AccountStorage interface {
	InTx(ctx context.Context, fn func(q store.Queries) error) error
	UserByID(ctx context.Context, id string) (store.User, error)
}

// AccountsConfig tunes Accounts. Zero values take the defaults noted.
type AccountsConfig struct {
	// HashConcurrency bounds simultaneous argon2id computations (each takes 19 MiB);
	// default GOMAXPROCS.
	HashConcurrency int
	Now             func() time.Time // clock; default time.Now
	Logger          *slog.Logger     // default slog.Default(); never receives secrets
	// SiteNames are the deployment's names (its issuer, audience, public URL): a new
	// password must not be built from them, nor from the login name (CheckPassword).
	SiteNames []string
	// Breached, when set, is asked about every new password that CheckPassword
	// accepts, in the form it is stored in (NFKC); one it reports breached is refused
	// (ASVS 6.2.12). When it cannot answer, the password is accepted and a warning
	// logged: the check adds to the local rules, and a third party's outage must not
	// stop signups.
	Breached BreachChecker
}

// BreachChecker tells whether a password appears in known data breaches
// (controlplane/breached asks a k-anonymity range service).
type BreachChecker interface {
	Breached(ctx context.Context, password string) (bool, error)
}

// Accounts manages users: creation, passwords and roles. It needs storage only (no
// signing key, no issuer), so a command-line tool can create a user with nothing but a
// database. Service embeds it. Safe for concurrent use.
type Accounts struct {
	st     AccountStorage
	cfg    AccountsConfig
	hashes chan struct{} // semaphore for argon2id
}

// withDefaults returns c with every zero field set to its default.
func (c AccountsConfig) withDefaults() AccountsConfig {
	def(&c.HashConcurrency, runtime.GOMAXPROCS(0))
	if c.Now == nil {
		c.Now = time.Now
	}
	def(&c.Logger, slog.Default())
	return c
}

// Validate reports every problem of the configuration (after defaults are applied), or nil.
func (c AccountsConfig) Validate() error {
	if c.HashConcurrency < 0 {
		return errors.New("auth: negative AccountsConfig.HashConcurrency")
	}
	return nil
}

// NewAccounts returns Accounts on st.
func NewAccounts(st AccountStorage, cfg AccountsConfig) (*Accounts, error) {
	err := cfg.Validate()
	if st == nil {
		err = errors.Join(err, errors.New("auth: a store is required"))
	}
	if err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Accounts{st: st, cfg: cfg, hashes: make(chan struct{}, cfg.HashConcurrency)}, nil
}

// Revocation reasons (and audit kinds) of the sessions Accounts ends.
const (
	// ReasonPasswordChanged: ended by a password change (the user's or an operator's).
	ReasonPasswordChanged = "password_changed"
	// ReasonEndedByOperator: ended by an operator (EndSessions, `edgeauth users logout`).
	ReasonEndedByOperator = "ended_by_operator"
	// ReasonAccountDisabled: ended by the disabling of the account (DisableUser,
	// `edgeauth users disable`).
	ReasonAccountDisabled = "account_disabled"
)

// Audit kinds of an operator's enabling of a disabled account (EnableUser) and
// deletion of one (DeleteUser).
const (
	auditAccountEnabled = "account_enabled"
	auditAccountDeleted = "account_deleted"
)

// CreateUser creates an account after checking the e-mail/username, the roles and the
// password policy. Errors: ErrInvalidEmail, ErrInvalidRole, ErrPasswordPolicy (wrapped,
// with the rule), ErrUserExists.
func (a *Accounts) CreateUser(ctx context.Context, nu NewUser) (User, error) {
	if err := checkRoles(nu.Roles); err != nil {
		return User{}, err
	}
	email, hash, err := a.prepare(ctx, nu.Email, nu.Password)
	if err != nil {
		return User{}, err
	}
	var u store.User
	err = a.st.InTx(ctx, func(q store.Queries) error {
		var err error
		u, err = createUser(ctx, q, email, hash, nu.Roles, a.cfg.Now())
		return err
	})
	if err != nil {
		return User{}, err
	}
	return userFrom(u), nil
}

// prepare checks a new account's login name and password and hashes the password.
func (a *Accounts) prepare(ctx context.Context, email, password string) (string, string, error) {
	email, err := normalizeEmail(email)
	if err != nil {
		return "", "", err
	}
	if err := a.checkNewPassword(ctx, password, email); err != nil {
		return "", "", err
	}
	hash, err := a.hash(ctx, password)
	return email, hash, err
}

// checkNewPassword applies CheckPassword to a password for the account with that
// login name (checkLocalPassword), then asks the breach checker, if any
// (checkBreached).
func (a *Accounts) checkNewPassword(ctx context.Context, password, loginName string) error {
	if err := a.checkLocalPassword(password, loginName); err != nil {
		return err
	}
	return a.checkBreached(ctx, password)
}

// checkLocalPassword applies CheckPassword to a password for the account with that
// login name: the rules that need nothing but this process.
func (a *Accounts) checkLocalPassword(password, loginName string) error {
	return CheckPassword(password, append([]string{loginName}, a.cfg.SiteNames...)...)
}

// checkBreached asks the breach checker, if any, about a password the local rules
// accepted, as it is hashed and matched at login (NFKC): typed in another form (say,
// fullwidth characters), a breached password is still the breached one at every login.
// It makes a request to a third party: what strangers can start (a signup, a password
// change) asks it only once the attempt has passed the login throttle, and a password
// change only once the current password matched.
func (a *Accounts) checkBreached(ctx context.Context, password string) error {
	if a.cfg.Breached == nil {
		return nil
	}
	breached, err := a.cfg.Breached.Breached(ctx, normalizePassword(password))
	switch {
	case err != nil:
		a.cfg.Logger.WarnContext(ctx, "breached-password check failed: the new password was accepted without it", "err", err)
		return nil
	case breached:
		return errBreachedPassword
	}
	return nil
}

var errBreachedPassword = &PasswordPolicyError{"the password appears in known data breaches: choose another"}

// createUser inserts the account and its audit event inside a transaction.
// ErrUserExists when the name is taken.
func createUser(ctx context.Context, q store.Queries, email, hash string, roles []string, now time.Time) (store.User, error) {
	u, err := q.CreateUser(ctx, store.User{Email: email, PasswordHash: hash, Roles: append([]string{}, roles...)})
	if errors.Is(err, store.ErrConflict) {
		return u, ErrUserExists
	}
	if err != nil {
		return u, err
	}
	return u, q.AddAudit(ctx, store.AuditEvent{Kind: "user_created", UserID: u.ID, At: now})
}

// User returns the account with that id. ErrUserNotFound if none.
func (a *Accounts) User(ctx context.Context, id string) (User, error) {
	u, err := a.st.UserByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return User{}, ErrUserNotFound
	}
	if err != nil {
		return User{}, err
	}
	return userFrom(u), nil
}

// Account is a user as an operator sees it: whether it is disabled and what second
// factor it has.
type Account struct {
	User
	Disabled bool
	// SecondFactor is "on", "pending" (begun, not confirmed) or "none".
	SecondFactor string
}

// Accounts lists every account, oldest first.
func (a *Accounts) Accounts(ctx context.Context) ([]Account, error) {
	var users []store.User
	err := a.st.InTx(ctx, func(q store.Queries) (err error) {
		users, err = q.Users(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]Account, len(users))
	for i, u := range users {
		out[i] = Account{User: userFrom(u), Disabled: u.DisabledAt != nil, SecondFactor: "none"}
		switch {
		case u.TOTPSecret != nil:
			out[i].SecondFactor = "on"
		case u.TOTPPending != nil:
			out[i].SecondFactor = "pending"
		}
	}
	return out, nil
}

// SetPassword replaces the user's password (policy checked, ErrPasswordPolicy) and revokes
// every session of the user except keepSID (empty: all), since a password change is how
// users evict an intruder. ErrUserNotFound if there is no such user.
func (a *Accounts) SetPassword(ctx context.Context, userID, password, keepSID string) error {
	u, err := a.st.UserByID(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return ErrUserNotFound
	}
	if err != nil {
		return err
	}
	if err := a.checkNewPassword(ctx, password, u.Email); err != nil {
		return err
	}
	hash, err := a.hash(ctx, password)
	if err != nil {
		return err
	}
	now := a.cfg.Now()
	err = a.st.InTx(ctx, func(q store.Queries) error {
		_, err := replacePassword(ctx, q, passwordChange{userID: userID, hash: hash, keepSID: keepSID, by: "operator"}, now)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return ErrUserNotFound
	}
	return err
}

// ResetPassword is an operator's reset of the password of the account with that login
// name (matched as at login: loginname.Key): the password is replaced (policy checked,
// ErrPasswordPolicy) and every session of the user ends (reason password_changed), in
// one transaction. It returns the account and how many sessions ended.
// ErrUserNotFound if no account has that name; nothing changes then.
func (a *Accounts) ResetPassword(ctx context.Context, loginName, password string) (User, int, error) {
	if err := a.checkNewPassword(ctx, password, strings.TrimSpace(loginName)); err != nil {
		return User{}, 0, err
	}
	hash, err := a.hash(ctx, password)
	if err != nil {
		return User{}, 0, err
	}
	now := a.cfg.Now()
	var u store.User
	var n int
	err = a.st.InTx(ctx, func(q store.Queries) error {
		var err error
		if u, err = q.UserByEmail(ctx, strings.TrimSpace(loginName)); err != nil {
			return err
		}
		n, err = replacePassword(ctx, q, passwordChange{userID: u.ID, hash: hash, by: "operator"}, now)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return User{}, 0, ErrUserNotFound
	}
	if err != nil {
		return User{}, 0, err
	}
	return userFrom(u), n, nil
}

// EndSessions is an operator's sign-out of the account with that login name (matched
// as at login: loginname.Key): every session of the user ends (reason
// ended_by_operator; revoked, NOTIFYed, listed and streamed as logout-all's are) and
// the operator's act is audited, in one transaction. It returns the account and how
// many sessions ended (0 when none was live). ErrUserNotFound if no account has that
// name; nothing changes then.
func (a *Accounts) EndSessions(ctx context.Context, loginName string) (User, int, error) {
	now := a.cfg.Now()
	var u store.User
	var n int
	err := a.st.InTx(ctx, func(q store.Queries) error {
		var err error
		if u, err = q.UserByEmail(ctx, strings.TrimSpace(loginName)); err != nil {
			return err
		}
		ids, err := q.RevokeUserSessions(ctx, u.ID, "", ReasonEndedByOperator, now)
		if err != nil {
			return err
		}
		n = len(ids)
		return q.AddAudit(ctx, store.AuditEvent{Kind: ReasonEndedByOperator, UserID: u.ID, At: now,
			Detail: map[string]any{"sessions": n, "by": "operator"}})
	})
	if errors.Is(err, store.ErrNotFound) {
		return User{}, 0, ErrUserNotFound
	}
	if err != nil {
		return User{}, 0, err
	}
	return userFrom(u), n, nil
}

// EndAllSessions is an operator's sign-out of everyone: every live session of every
// user ends (reason ended_by_operator, NOTIFYed and streamed as EndSessions' are) and
// the act is audited once, in one transaction. It returns how many sessions ended.
// Past a few thousand, the revocation list names the most recent and covers the rest
// with its cutoff (controlplane/revocation), so edges refuse every token issued before
// it as expired and its holder's refresh fails.
func (a *Accounts) EndAllSessions(ctx context.Context) (int, error) {
	now := a.cfg.Now()
	var n int
	err := a.st.InTx(ctx, func(q store.Queries) error {
		var err error
		if n, err = q.RevokeAllSessions(ctx, ReasonEndedByOperator, now); err != nil {
			return err
		}
		return q.AddAudit(ctx, store.AuditEvent{Kind: ReasonEndedByOperator, At: now,
			Detail: map[string]any{"sessions": n, "by": "operator", "users": "all"}})
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// AccountChange is what DisableUser or EnableUser did.
type AccountChange struct {
	User    User
	Changed bool // false: the account was in that state already, and nothing changed
	Ended   int  // the sessions that ended (DisableUser)
}

// DisableUser is an operator's disabling of the account with that login name (matched
// as at login): the account is marked disabled and every session of the user ends
// (reason account_disabled; revoked, NOTIFYed, listed and streamed as logout-all's are),
// audited, in one transaction. A disabled account cannot sign in: Login answers
// ErrInvalidCredentials, as for a wrong password, whatever the password; its login name
// stays taken. Disabling a disabled account changes nothing (Changed false).
// ErrUserNotFound if no account has that name; nothing changes then.
func (a *Accounts) DisableUser(ctx context.Context, loginName string) (AccountChange, error) {
	now := a.cfg.Now()
	return a.setDisabled(ctx, loginName, func(q store.Queries, u store.User, c *AccountChange) error {
		if err := q.SetUserDisabledAt(ctx, u.ID, &now); err != nil {
			return err
		}
		ids, err := q.RevokeUserSessions(ctx, u.ID, "", ReasonAccountDisabled, now)
		if err != nil {
			return err
		}
		c.Ended = len(ids)
		return q.AddAudit(ctx, store.AuditEvent{Kind: ReasonAccountDisabled, UserID: u.ID, At: now,
			Detail: map[string]any{"sessions": len(ids), "by": "operator"}})
	}, true)
}

// EnableUser is an operator's enabling of the disabled account with that login name:
// it can sign in again (the sessions that ended stay ended), audited. Enabling an
// account that is not disabled changes nothing (Changed false). ErrUserNotFound if no
// account has that name.
func (a *Accounts) EnableUser(ctx context.Context, loginName string) (AccountChange, error) {
	now := a.cfg.Now()
	return a.setDisabled(ctx, loginName, func(q store.Queries, u store.User, _ *AccountChange) error {
		if err := q.SetUserDisabledAt(ctx, u.ID, nil); err != nil {
			return err
		}
		return q.AddAudit(ctx, store.AuditEvent{Kind: auditAccountEnabled, UserID: u.ID, At: now,
			Detail: map[string]any{"by": "operator"}})
	}, false)
}

// DeleteUser is an operator's deletion of the disabled account with that login name
// (matched as at login): the user row goes, with its sessions and the throttling
// records of its login name, and the deletion is audited (by user id: the audit trail
// keeps no login name), in one transaction. The login name is free again.
//
// The account must have been disabled, and its sessions have ended, at least window
// ago (ErrNotDisabled, *DisabledRecentlyError with the earliest time it can be
// deleted), window being how long the revocation list names a revoked session: the
// control plane's access-token lifetime plus the verifiers' leeway
// (auth.Config's AccessTTL + Leeway). The list is built from the session rows, so
// deleting them sooner would let edges accept the account's last access tokens again
// until they expire. ErrUserNotFound if no account has that name; nothing changes then.
func (a *Accounts) DeleteUser(ctx context.Context, loginName string, window time.Duration) (User, error) {
	now := a.cfg.Now()
	var deleted User
	err := a.st.InTx(ctx, func(q store.Queries) error {
		u, err := lockUserNamed(ctx, q, loginName)
		if err != nil {
			return err
		}
		if u.DisabledAt == nil {
			return ErrNotDisabled
		}
		// ended: the disabling, or the end of a session that ended after it.
		ended, err := q.DeleteUser(ctx, u.ID, accountKey(u.Email), now.Add(-window))
		if errors.Is(err, store.ErrConflict) && !ended.IsZero() {
			return &DisabledRecentlyError{DeletableFrom: ended.Add(window)}
		}
		if err != nil {
			return err
		}
		deleted = userFrom(u)
		return q.AddAudit(ctx, store.AuditEvent{Kind: auditAccountDeleted, UserID: u.ID, At: now,
			Detail: map[string]any{"by": "operator"}})
	})
	if errors.Is(err, store.ErrNotFound) {
		return User{}, ErrUserNotFound
	}
	if err != nil {
		return User{}, err
	}
	return deleted, nil
}

// setDisabled finds the named account, locks its row and, unless it is disabled already
// (disable) or enabled already (!disable), runs change, in one transaction.
func (a *Accounts) setDisabled(ctx context.Context, loginName string, change func(store.Queries, store.User, *AccountChange) error, disable bool) (AccountChange, error) {
	var c AccountChange
	err := a.st.InTx(ctx, func(q store.Queries) error {
		u, err := lockUserNamed(ctx, q, loginName)
		if err != nil {
			return err
		}
		c = AccountChange{User: userFrom(u)}
		if (u.DisabledAt != nil) == disable {
			return nil
		}
		c.Changed = true
		return change(q, u, &c)
	})
	if errors.Is(err, store.ErrNotFound) {
		return AccountChange{}, ErrUserNotFound
	}
	if err != nil {
		return AccountChange{}, err
	}
	return c, nil
}

// lockUserNamed finds the account with that login name (matched as at login) and locks
// its row for update in q's transaction. store.ErrNotFound if there is none.
func lockUserNamed(ctx context.Context, q store.Queries, loginName string) (store.User, error) {
	found, err := q.UserByEmail(ctx, strings.TrimSpace(loginName))
	if err != nil {
		return found, err
	}
	return q.LockUser(ctx, found.ID, true)
}

// passwordChange is one replacement of a user's password.
type passwordChange struct {
	userID  string
	hash    string // the new argon2id hash
	keepSID string // the session that stays (the user's own, changing it); empty: none
	by      string // "user" (knew the current password) or "operator"; audited
	ip      string // the client's address, when a user changed it; audited
}

// replacePassword stores c's hash and ends every session of the user but c.keepSID
// (reason password_changed, NOTIFYed as every revocation is), inside q's transaction,
// and audits the change. It returns how many sessions ended; store.ErrNotFound if the
// user does not exist.
func replacePassword(ctx context.Context, q store.Queries, c passwordChange, now time.Time) (int, error) {
	if err := q.SetPasswordHash(ctx, c.userID, c.hash); err != nil {
		return 0, err
	}
	ids, err := q.RevokeUserSessions(ctx, c.userID, c.keepSID, ReasonPasswordChanged, now)
	if err != nil {
		return 0, err
	}
	return len(ids), q.AddAudit(ctx, store.AuditEvent{Kind: ReasonPasswordChanged, UserID: c.userID, SessionID: c.keepSID,
		IP: truncate(c.ip, 64), At: now, Detail: map[string]any{"sessions_revoked": len(ids), "by": c.by}})
}

// SetRoles replaces the user's roles. Access tokens carry the new roles from the next
// refresh on (at most one access-token lifetime). ErrInvalidRole for a role name
// checkRoles refuses; ErrUserNotFound if there is no such user.
func (a *Accounts) SetRoles(ctx context.Context, userID string, roles []string) error {
	if err := checkRoles(roles); err != nil {
		return err
	}
	roles = append([]string{}, roles...)
	err := a.st.InTx(ctx, func(q store.Queries) error {
		if err := q.SetUserRoles(ctx, userID, roles); err != nil {
			return err
		}
		return q.AddAudit(ctx, store.AuditEvent{Kind: "roles_changed", UserID: userID, At: a.cfg.Now(),
			Detail: map[string]any{"roles": roles}})
	})
	if errors.Is(err, store.ErrNotFound) {
		return ErrUserNotFound
	}
	return err
}

// MaxRolesBytes bounds a user's roles, joined with commas as X-Edgeauth-Roles carries
// them. The access token carries them too, and a browser drops a cookie over 4096 bytes
// (name and value): with this bound the access cookie stays under that with any key
// the control plane signs with (OWASP ASVS 5.0 3.3.5).
const MaxRolesBytes = 1024

// checkRoles refuses role names an edge could not forward as they are. Edges send the
// roles joined with commas in one header (X-Edgeauth-Roles): a role with a comma would
// read upstream as two ("billing,admin" as admin), and control characters cannot go in
// a header at all (the Go edge's proxy and the Fetch API's Headers refuse them, failing
// every request of the user). Other Unicode is fine: edges send it as UTF-8. It refuses
// roles over MaxRolesBytes too.
func checkRoles(roles []string) error {
	for _, r := range roles {
		if r == "" || strings.ContainsRune(r, ',') || strings.TrimSpace(r) != r || !isText(r) {
			return fmt.Errorf("%w: %q", ErrInvalidRole, r)
		}
	}
	if n := len(strings.Join(roles, ",")); n > MaxRolesBytes {
		return fmt.Errorf("%w: the roles take %d bytes joined with commas, at most %d fit in the access cookie", ErrInvalidRole, n, MaxRolesBytes)
	}
	return nil
}

// hash computes a new argon2id hash of pw, waiting for a free hashing slot.
func (a *Accounts) hash(ctx context.Context, pw string) (string, error) {
	if err := a.acquireHash(ctx); err != nil {
		return "", err
	}
	defer a.releaseHash()
	return hashPassword(pw, DefaultParams), nil
}

// verify checks pw against a PHC hash, waiting for a free hashing slot.
func (a *Accounts) verify(ctx context.Context, pw, phc string) (ok bool, malformed error, err error) {
	if err := a.acquireHash(ctx); err != nil {
		return false, nil, err
	}
	defer a.releaseHash()
	ok, malformed = verifyPassword(pw, phc)
	return ok, malformed, nil
}

func (a *Accounts) acquireHash(ctx context.Context) error {
	select {
	case a.hashes <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (a *Accounts) releaseHash() { <-a.hashes }

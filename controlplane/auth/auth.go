// Package auth is the control plane's identity service: users and passwords, login with
// throttling and without user enumeration, sessions per device, access tokens, and
// refresh-token rotation with reuse detection and a concurrency grace.
//
// Refresh rule. Every refresh rotates the token under a lock of the session row, so one
// token never mints two live successors. Presenting the immediately previous token again
// within Config.RefreshGrace (several tabs refreshing at once, a retried request whose
// answer was lost) returns the very same successor tokens the first rotation issued, so
// every tab ends with identical cookies. Any other reuse (an older token, the previous one
// after the grace, or the previous one once its successor was itself rotated) revokes the
// whole session and returns ErrRefreshReused. The session row holds the hashes of the live
// token and its parent; an older token is recognised as issued by its tag
// (Config.RefreshTagKey), so a made-up one naming a known session changes nothing.
package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/store"
	"github.com/golang-jwt/jwt/v5"
)

// Storage is what the Service needs from storage; *store.Store implements it. Writes
// that belong together run in InTx, whose Queries share one transaction.
type Storage interface {
	AccountStorage
	UserByEmail(ctx context.Context, email string) (store.User, error)
	SessionByID(ctx context.Context, id string) (store.Session, error)
	ListActiveSessions(ctx context.Context, userID string, now time.Time) ([]store.Session, error)
	AddAudit(ctx context.Context, e store.AuditEvent) error
	Refresh(ctx context.Context, a store.RefreshAttempt) (store.RefreshResult, error)
	DeleteSessionsBefore(ctx context.Context, t time.Time) (int64, error)
	DeleteLoginFailuresBefore(ctx context.Context, t time.Time) (int64, error)
	DeleteLoginFailure(ctx context.Context, id int64) error
	RecoveryCodesLeft(ctx context.Context, userID string) (int, error)
	SealedSecrets(ctx context.Context) ([]store.SealedSecret, error)
	ReplaceSealedSecrets(ctx context.Context, was, next store.SealedSecret) (bool, error)
	DeleteLoginClientsBefore(ctx context.Context, t time.Time) (int64, error)
}

// Signer signs JWTs with the active key, setting the kid and typ headers.
// keys.Manager satisfies it. Login calls Sign inside its transaction, holding a pool
// connection, so Sign must work from memory and never wait on the database.
type Signer interface {
	Sign(ctx context.Context, claims jwt.Claims, typ string) (string, error)
}

// AccessTokenType is the typ header of access tokens.
const AccessTokenType = "at+jwt"

// Config tunes the service. Zero values take the defaults noted; New checks the result
// and reports every problem at once.
type Config struct {
	Issuer   string // iss claim; required
	Audience string // aud claim; required

	AccessTTL   time.Duration // access-token lifetime; default 10 min
	IdleTTL     time.Duration // a session unused this long ends; default 14 days
	AbsoluteTTL time.Duration // a session ends this long after login regardless; default 30 days
	// Leeway is the clock skew verifiers tolerate past an access token's exp (the edge
	// configuration's leeway_seconds); default 1 min. The revocation list names a revoked
	// session for AccessTTL + Leeway, and Prune keeps it at least that long.
	Leeway time.Duration
	// RefreshGrace is how long after a rotation the previous refresh token may be
	// presented again and receive the same successor; default 30 s. It must cover tabs
	// that wake together and a client retrying a refresh whose answer it lost (a mobile
	// network, a proxy timeout, the database restart test); it can be short because every
	// such replay happens within seconds. Widening it gives a thief nothing new: a replay
	// yields the very tokens the legitimate client also holds, so whichever of the two
	// rotates next makes the other's next refresh a detected reuse. NoRefreshGrace turns
	// the grace off: every replay of a rotated token is reuse.
	RefreshGrace time.Duration
	// RecentLogin is how long after a session started (a login, a signup or a password
	// change opened it) it may end the user's other sessions; later the user must sign
	// in again first (RecentlySignedIn; OWASP ASVS 5.0 7.5.2), so that a stolen session
	// cannot sign its owner's devices out. Default 10 min.
	RecentLogin time.Duration

	// RefreshTagKey tags every refresh token this service issues (HMAC-SHA256; see
	// "Refresh tokens" in random.go), so that a token of an older generation can be told
	// apart from one made up by someone who knows the session id: the first is reuse and
	// revokes the session, the second is refused and changes nothing. Required: at least
	// 32 secret bytes, the same on every replica and across restarts (a new key makes
	// the older tokens outstanding unrecognisable, and their reuse is then refused
	// instead of detected). Keep it out of the database: its readers must not be able to
	// make tokens. The control plane derives it from keys.kek (app.AuthConfig).
	RefreshTagKey []byte
	// PreviousRefreshTagKeys are earlier RefreshTagKeys, each of at least 32 bytes: a
	// token tagged under one of them is still recognised as issued, so that its reuse
	// after a change of key is detected rather than refused. New tokens are tagged
	// under RefreshTagKey only. The control plane derives them from
	// keys.previous_keks, for as long as a KEK rotation lasts.
	PreviousRefreshTagKeys [][]byte
	// SecretKey seals the accounts' TOTP secrets in the database (AES-256-GCM; see
	// totp.go), so that its readers cannot compute second-factor codes: 32 secret
	// bytes, the same on every replica. Nil: second factors cannot be turned on
	// (ErrMFAUnavailable); accounts that have one cannot sign in. The control plane
	// derives it from keys.kek (app.AuthConfig).
	SecretKey []byte
	// PreviousSecretKeys open secrets sealed before a KEK rotation; they are sealed
	// again under SecretKey at the next sign-in, and by ResealSecrets.
	PreviousSecretKeys [][]byte

	// SecondFactorRequiredFor makes accounts with any of these roles ("*": every
	// account) sign in with a second factor (enrollment.go): without one they are
	// refused a session until they turn one on, and a session of theirs that signed in
	// with the password alone ends at its next refresh. Needs SecretKey.
	SecondFactorRequiredFor []string

	// Throttle limits failed logins (and signups that meet an existing account).
	Throttle Throttle

	// HashConcurrency bounds simultaneous argon2id computations (each takes 19 MiB);
	// default GOMAXPROCS.
	HashConcurrency int
	// Breached, when set, refuses new passwords found in known breaches
	// (AccountsConfig.Breached).
	Breached BreachChecker
	// SiteNames are the deployment's names beside Issuer and Audience (its public URL):
	// a new password must not be built from them, nor from those two
	// (AccountsConfig.SiteNames).
	SiteNames []string

	Now    func() time.Time // clock; default time.Now
	Logger *slog.Logger     // default slog.Default(); never receives secrets
}

// Throttle is the login throttling model (RATIONALE.md, "Login throttling"). Failures
// are counted in three buckets, and an attempt is refused (ErrThrottled) before any
// password is checked when one of them is full:
//
//   - the account from this client address: PairFailures within Window. This is the
//     budget that stops guessing from one place, and only its owner can spend it: an
//     attacker elsewhere cannot exhaust it.
//   - the client address, any account: ClientFailures within Window (one address
//     spraying many accounts).
//   - the account from anywhere: AccountFailures within AccountWindow, a ceiling on
//     distributed guessing. It does not apply to an address the account signed in from
//     within KnownClientFor, so a distributed attack cannot lock the owner out where
//     the owner usually signs in.
//
// Counting and recording an attempt are one step (under per-bucket locks): concurrent
// attempts cannot all see a bucket with room. A successful login clears the failures of
// its own account and address only.
type Throttle struct {
	PairFailures    int           // default 5
	ClientFailures  int           // default 20
	Window          time.Duration // default 15 min
	AccountFailures int           // default 100
	AccountWindow   time.Duration // default 24 h; not shorter than Window
	KnownClientFor  time.Duration // default 30 days
}

// Defaults.
const (
	DefaultAccessTTL       = 10 * time.Minute
	DefaultIdleTTL         = 14 * 24 * time.Hour
	DefaultAbsoluteTTL     = 30 * 24 * time.Hour
	DefaultLeeway          = time.Minute
	DefaultRefreshGrace    = 30 * time.Second
	DefaultRecentLogin     = 10 * time.Minute
	DefaultPairFailures    = 5
	DefaultClientFailures  = 20
	DefaultFailureWindow   = 15 * time.Minute
	DefaultAccountFailures = 100
	DefaultAccountWindow   = 24 * time.Hour
	DefaultKnownClientFor  = 30 * 24 * time.Hour
)

// NoRefreshGrace, as Config.RefreshGrace, means no grace at all (zero means the default).
const NoRefreshGrace time.Duration = -1

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	def(&c.AccessTTL, DefaultAccessTTL)
	def(&c.IdleTTL, DefaultIdleTTL)
	def(&c.AbsoluteTTL, DefaultAbsoluteTTL)
	def(&c.Leeway, DefaultLeeway)
	def(&c.RefreshGrace, DefaultRefreshGrace)
	def(&c.RecentLogin, DefaultRecentLogin)
	t := &c.Throttle
	def(&t.PairFailures, DefaultPairFailures)
	def(&t.ClientFailures, DefaultClientFailures)
	def(&t.Window, DefaultFailureWindow)
	def(&t.AccountFailures, DefaultAccountFailures)
	def(&t.AccountWindow, DefaultAccountWindow)
	def(&t.KnownClientFor, DefaultKnownClientFor)
	def(&c.HashConcurrency, runtime.GOMAXPROCS(0))
	if c.Now == nil {
		c.Now = time.Now
	}
	def(&c.Logger, slog.Default())
	return c
}

// Validate reports every problem of the configuration (after defaults are applied),
// joined in one error, or nil. New calls it.
func (c Config) Validate() error {
	c = c.withDefaults()
	t := c.Throttle
	var errs []error
	if c.Issuer == "" {
		errs = append(errs, errors.New("auth: Config.Issuer is required"))
	}
	if c.Audience == "" {
		errs = append(errs, errors.New("auth: Config.Audience is required"))
	}
	if c.AccessTTL < 0 || c.Leeway < 0 || c.IdleTTL < 0 || c.AbsoluteTTL < 0 || c.RecentLogin < 0 || (c.RefreshGrace < 0 && c.RefreshGrace != NoRefreshGrace) || t.Window < 0 || t.AccountWindow < 0 ||
		t.KnownClientFor < 0 || t.PairFailures < 0 || t.ClientFailures < 0 || t.AccountFailures < 0 || c.HashConcurrency < 0 {
		errs = append(errs, errors.New("auth: negative durations or limits in Config"))
	}
	if c.IdleTTL > c.AbsoluteTTL {
		errs = append(errs, errors.New("auth: Config.IdleTTL exceeds AbsoluteTTL"))
	}
	if c.RefreshGrace > c.AccessTTL {
		errs = append(errs, errors.New("auth: Config.RefreshGrace exceeds AccessTTL"))
	}
	if len(c.RefreshTagKey) < 32 {
		errs = append(errs, errors.New("auth: Config.RefreshTagKey must hold at least 32 bytes"))
	}
	for _, k := range c.PreviousRefreshTagKeys {
		if len(k) < 32 {
			errs = append(errs, errors.New("auth: each of Config.PreviousRefreshTagKeys must hold at least 32 bytes"))
			break
		}
	}
	for _, k := range append([][]byte{c.SecretKey}, c.PreviousSecretKeys...) {
		if k != nil && len(k) != 32 {
			errs = append(errs, errors.New("auth: Config.SecretKey and each of PreviousSecretKeys must hold 32 bytes"))
			break
		}
	}
	if len(c.SecondFactorRequiredFor) > 0 && c.SecretKey == nil {
		errs = append(errs, errors.New("auth: Config.SecondFactorRequiredFor needs a SecretKey to seal second factors with"))
	}
	for _, r := range c.SecondFactorRequiredFor {
		if r != EveryAccount && checkRoles([]string{r}) != nil {
			errs = append(errs, fmt.Errorf("auth: Config.SecondFactorRequiredFor: %q is neither a role name nor %q", r, EveryAccount))
		}
	}
	if t.AccountWindow < t.Window {
		errs = append(errs, errors.New("auth: Config.Throttle.AccountWindow is shorter than Window"))
	}
	return errors.Join(errs...)
}

// def sets *v to d when it is the zero value.
func def[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

// Service is the identity service: Accounts, plus login, signup, sessions and token
// refresh. It is safe for concurrent use.
type Service struct {
	*Accounts
	st     Storage
	signer Signer
	cfg    Config
	tags   tagger // mints refresh tokens, recognises the ones it minted
	dummy  string // PHC hash verified for unknown accounts
}

// New returns a service on st signing with signer. It reports every problem (Config's
// and missing collaborators) at once.
func New(st Storage, signer Signer, cfg Config) (*Service, error) {
	err := cfg.Validate()
	if st == nil || signer == nil {
		err = errors.Join(err, errors.New("auth: a store and a signer are required"))
	}
	if err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	accounts, err := NewAccounts(st, AccountsConfig{
		HashConcurrency: cfg.HashConcurrency, Now: cfg.Now, Logger: cfg.Logger,
		SiteNames: append([]string{cfg.Issuer, cfg.Audience}, cfg.SiteNames...), Breached: cfg.Breached,
	})
	if err != nil {
		return nil, err
	}
	s := &Service{Accounts: accounts, st: st, signer: signer, cfg: cfg, tags: newTagger(cfg.RefreshTagKey, cfg.PreviousRefreshTagKeys)}
	s.dummy = hashPassword(randomToken(24), DefaultParams)
	return s, nil
}

// Config returns the effective configuration (defaults filled in).
func (s *Service) Config() Config { return s.cfg }

// User is an account as the service shows it (no password hash).
type User struct {
	ID      string    `json:"id"`
	Email   string    `json:"email"`
	Roles   []string  `json:"roles"`
	Created time.Time `json:"created"`
}

// Session is one device login.
type Session struct {
	ID              string    `json:"id"`
	UserID          string    `json:"user_id"`
	UserAgent       string    `json:"user_agent"`
	IP              string    `json:"ip"`
	Created         time.Time `json:"created"`
	LastUsed        time.Time `json:"last_used"`
	IdleExpires     time.Time `json:"idle_expires"`
	AbsoluteExpires time.Time `json:"absolute_expires"`
	// AuthMethods is how the session signed in: its access tokens' amr claim.
	AuthMethods []string `json:"amr"`
	// Current is set by ListSessions for the caller's own session.
	Current bool `json:"current"`
}

// Tokens are what the client keeps (in cookies).
type Tokens struct {
	Access         string    // JWT, typ at+jwt
	AccessExpires  time.Time // exp of Access
	Refresh        string    // opaque, 256 bits, base64url
	RefreshExpires time.Time // the session's current idle expiry (<= absolute expiry)
}

// Result is the outcome of a login or a refresh.
type Result struct {
	User    User
	Session Session
	Tokens  Tokens
	// Replaced: how many of LoginRequest.Replaces' sessions this login revoked (not
	// those revoked already).
	Replaced int
}

// LoginRequest is one login attempt.
type LoginRequest struct {
	Email     string // e-mail or username, matched case-insensitively
	Password  string
	UserAgent string // stored with the session (truncated to 512 bytes)
	IP        string // client address: stored, and the per-client throttling key
	// Code is the second factor (totp.go): an authenticator's six digits, or a recovery
	// code. Needed only for accounts that have one.
	Code string
	// Replaces names the sessions the new one replaces (the cookies the client sends
	// and is about to overwrite): they are revoked (reason logout) in the transaction
	// that opens the new session, so that the two happen together or not at all.
	Replaces Replaced
}

// Replaced names sessions a login or signup ends: by any refresh token of theirs (a
// token naming no session of ours is skipped, as LogoutByRefreshToken would refuse it),
// and by id (from access tokens the caller has verified).
type Replaced struct {
	RefreshTokens []string
	SessionIDs    []string
}

// SignupRequest creates an account and signs it in, like a LoginRequest.
type SignupRequest = LoginRequest

// NewUser is an account to create.
type NewUser struct {
	Email    string
	Password string
	Roles    []string
}

func userFrom(u store.User) User {
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	return User{ID: u.ID, Email: u.Email, Roles: roles, Created: u.Created}
}

func sessionFrom(s store.Session) Session {
	return Session{ID: s.ID, UserID: s.UserID, UserAgent: s.UserAgent, IP: s.IP, Created: s.Created,
		LastUsed: s.LastUsed, IdleExpires: s.IdleExpires, AbsoluteExpires: s.AbsoluteExpires, AuthMethods: amr(s.SecondFactor)}
}

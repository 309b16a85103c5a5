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
// whole session and returns ErrRefreshReused.
package auth

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/store"
	"github.com/golang-jwt/jwt/v5"
)

// Signer signs JWTs with the active key, setting the kid and typ headers.
// keys.Manager satisfies it. Refresh calls Sign while it holds a session's row lock and a
// pool connection, so Sign must work from memory and never wait on the database.
type Signer interface {
	Sign(ctx context.Context, claims jwt.Claims, typ string) (string, error)
}

// AccessTokenType is the typ header of access tokens.
const AccessTokenType = "at+jwt"

// Config tunes the service. Zero values take the defaults noted.
type Config struct {
	Issuer   string // iss claim; required
	Audience string // aud claim; required

	AccessTTL   time.Duration // access-token lifetime; default 10 min
	IdleTTL     time.Duration // a session unused this long ends; default 14 days
	AbsoluteTTL time.Duration // a session ends this long after login regardless; default 30 days
	// RefreshGrace is how long after a rotation the previous refresh token may be
	// presented again and receive the same successor; default 30 s. It must cover tabs
	// that wake together and a client retrying a refresh whose answer it lost (a mobile
	// network, a proxy timeout, the database restart test); it can be short because every
	// such replay happens within seconds. Widening it gives a thief nothing new: a replay
	// yields the very tokens the legitimate client also holds, so whichever of the two
	// rotates next makes the other's next refresh a detected reuse.
	RefreshGrace time.Duration

	MaxAccountFailures int           // failed logins per account per window before throttling; default 5
	MaxClientFailures  int           // failed logins per client address per window; default 20
	FailureWindow      time.Duration // default 15 min

	// HashConcurrency bounds simultaneous argon2id computations (each takes 19 MiB);
	// default GOMAXPROCS.
	HashConcurrency int

	Now    func() time.Time // clock; default time.Now
	Logger *slog.Logger     // default slog.Default(); never receives secrets
}

// Defaults.
const (
	DefaultAccessTTL          = 10 * time.Minute
	DefaultIdleTTL            = 14 * 24 * time.Hour
	DefaultAbsoluteTTL        = 30 * 24 * time.Hour
	DefaultRefreshGrace       = 30 * time.Second
	DefaultMaxAccountFailures = 5
	DefaultMaxClientFailures  = 20
	DefaultFailureWindow      = 15 * time.Minute
)

func (c *Config) setDefaults() error {
	var errs []error
	if c.Issuer == "" {
		errs = append(errs, errors.New("auth: Config.Issuer is required"))
	}
	if c.Audience == "" {
		errs = append(errs, errors.New("auth: Config.Audience is required"))
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.AccessTTL, DefaultAccessTTL)
	def(&c.IdleTTL, DefaultIdleTTL)
	def(&c.AbsoluteTTL, DefaultAbsoluteTTL)
	def(&c.RefreshGrace, DefaultRefreshGrace)
	def(&c.FailureWindow, DefaultFailureWindow)
	if c.MaxAccountFailures == 0 {
		c.MaxAccountFailures = DefaultMaxAccountFailures
	}
	if c.MaxClientFailures == 0 {
		c.MaxClientFailures = DefaultMaxClientFailures
	}
	if c.HashConcurrency == 0 {
		c.HashConcurrency = runtime.GOMAXPROCS(0)
	}
	if c.AccessTTL < 0 || c.IdleTTL < 0 || c.AbsoluteTTL < 0 || c.RefreshGrace < 0 || c.FailureWindow < 0 ||
		c.MaxAccountFailures < 0 || c.MaxClientFailures < 0 || c.HashConcurrency < 0 {
		errs = append(errs, errors.New("auth: negative durations or limits in Config"))
	}
	if c.IdleTTL > c.AbsoluteTTL {
		errs = append(errs, errors.New("auth: Config.IdleTTL exceeds AbsoluteTTL"))
	}
	if c.RefreshGrace > c.AccessTTL {
		errs = append(errs, errors.New("auth: Config.RefreshGrace exceeds AccessTTL"))
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return errors.Join(errs...)
}

// Service is the identity service. It is safe for concurrent use.
type Service struct {
	st     *store.Store
	signer Signer
	cfg    Config
	hashes chan struct{} // semaphore for argon2id
	dummy  string        // PHC hash verified for unknown accounts
}

// New returns a service on st signing with signer. It reports every Config problem at once.
func New(st *store.Store, signer Signer, cfg Config) (*Service, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if st == nil || signer == nil {
		return nil, errors.New("auth: store and signer are required")
	}
	s := &Service{st: st, signer: signer, cfg: cfg, hashes: make(chan struct{}, cfg.HashConcurrency)}
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
}

// LoginRequest is one login attempt.
type LoginRequest struct {
	Email     string // e-mail or username, matched case-insensitively
	Password  string
	UserAgent string // stored with the session (truncated to 512 bytes)
	IP        string // client address: stored, and the per-client throttling key
}

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
		LastUsed: s.LastUsed, IdleExpires: s.IdleExpires, AbsoluteExpires: s.AbsoluteExpires}
}

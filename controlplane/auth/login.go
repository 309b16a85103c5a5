package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/netip"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/store"
)

// CreateUser creates an account after checking the e-mail/username and the password
// policy. Errors: ErrInvalidEmail, ErrPasswordPolicy (wrapped, with the rule), ErrUserExists.
func (s *Service) CreateUser(ctx context.Context, nu NewUser) (User, error) {
	email, err := normalizeEmail(nu.Email)
	if err != nil {
		return User{}, err
	}
	if err := CheckPassword(nu.Password); err != nil {
		return User{}, err
	}
	if err := s.acquireHash(ctx); err != nil {
		return User{}, err
	}
	hash := hashPassword(nu.Password, DefaultParams)
	s.releaseHash()
	roles := append([]string{}, nu.Roles...)
	var u store.User
	err = s.st.InTx(ctx, func(q store.Queries) error {
		var err error
		if u, err = q.CreateUser(ctx, store.User{Email: email, PasswordHash: hash, Roles: roles}); err != nil {
			return err
		}
		return q.AddAudit(ctx, store.AuditEvent{Kind: "user_created", UserID: u.ID, At: s.cfg.Now()})
	})
	if errors.Is(err, store.ErrConflict) {
		return User{}, ErrUserExists
	}
	if err != nil {
		return User{}, err
	}
	return userFrom(u), nil
}

// User returns the account with that id. ErrUserNotFound if none.
func (s *Service) User(ctx context.Context, id string) (User, error) {
	u, err := s.st.UserByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return User{}, ErrUserNotFound
	}
	if err != nil {
		return User{}, err
	}
	return userFrom(u), nil
}

func (s *Service) acquireHash(ctx context.Context) error {
	select {
	case s.hashes <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Service) releaseHash() { <-s.hashes }

// accountKey is the throttling key of a login name: SHA-256 of its lower-cased form, so
// a password typed into the name field is not stored readable.
func accountKey(email string) []byte {
	h := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return h[:]
}

// clientKey is the throttling key of a client address: the address itself (a port, as
// in "192.0.2.1:5678" or "[2001:db8::1]:443", is dropped), an IPv6 address reduced to its
// /64 (one host usually owns a whole /64). Empty when ip is empty: no per-client limit
// then, rather than one bucket shared by every client.
func clientKey(ip string) string {
	ip = strings.TrimSpace(ip)
	if ip == "" {
		return ""
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		ap, err2 := netip.ParseAddrPort(ip)
		if err2 != nil {
			return truncate(ip, 64)
		}
		a = ap.Addr()
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

func truncate(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "")
}

// throttled returns a *ThrottledError if either limit is reached.
func (s *Service) throttled(c store.FailureCounts, now time.Time) error {
	var wait time.Duration
	if c.Account >= s.cfg.MaxAccountFailures {
		wait = max(wait, c.AccountOldest.Add(s.cfg.FailureWindow).Sub(now))
	}
	if c.Client >= s.cfg.MaxClientFailures {
		wait = max(wait, c.ClientOldest.Add(s.cfg.FailureWindow).Sub(now))
	}
	if c.Account < s.cfg.MaxAccountFailures && c.Client < s.cfg.MaxClientFailures {
		return nil
	}
	// (Counting and recording are separate statements: a burst of concurrent attempts
	// can overshoot a limit by the number in flight, which the next check then stops.)
	// Round up to whole seconds, at least one.
	wait = (wait + time.Second - 1).Truncate(time.Second)
	if wait < time.Second {
		wait = time.Second
	}
	return &ThrottledError{RetryAfter: wait}
}

// Login checks the credentials and opens a new session (other sessions of the user are
// untouched). Unknown accounts and wrong passwords both cost one argon2id computation and
// both return ErrInvalidCredentials. Too many recent failures for the account or the
// client address return a *ThrottledError (errors.Is ErrThrottled) before any password is
// checked; a successful login clears the account's failures.
func (s *Service) Login(ctx context.Context, req LoginRequest) (*Result, error) {
	now := s.cfg.Now()
	acct, client := accountKey(req.Email), clientKey(req.IP)
	counts, err := s.st.LoginFailures(ctx, acct, client, now.Add(-s.cfg.FailureWindow))
	if err != nil {
		return nil, err
	}
	if client == "" {
		counts.Client = 0
	}
	if err := s.throttled(counts, now); err != nil {
		s.cfg.Logger.InfoContext(ctx, "login throttled", "ip", req.IP)
		return nil, err
	}

	user, err := s.st.UserByEmail(ctx, strings.TrimSpace(req.Email))
	known := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	hash := s.dummy
	if known {
		hash = user.PasswordHash
	}
	// An over-long password cannot match (CreateUser refuses it) but still costs the same.
	pw := req.Password
	tooLong := len(pw) > 4*MaxPasswordRunes
	if tooLong {
		pw = ""
	}
	if err := s.acquireHash(ctx); err != nil {
		return nil, err
	}
	ok, verr := verifyPassword(pw, hash)
	s.releaseHash()
	if verr != nil && known {
		s.cfg.Logger.ErrorContext(ctx, "stored password hash is malformed", "user", user.ID)
	}
	if !known || !ok || tooLong {
		err := s.st.InTx(ctx, func(q store.Queries) error {
			if err := q.RecordLoginFailure(ctx, acct, client, now); err != nil {
				return err
			}
			ev := store.AuditEvent{Kind: "login_failed", IP: truncate(req.IP, 64), At: now}
			if known {
				ev.UserID = user.ID
			}
			return q.AddAudit(ctx, ev)
		})
		if err != nil {
			return nil, err
		}
		return nil, ErrInvalidCredentials
	}

	sess := store.Session{
		ID: randomToken(sessionIDBytes), UserID: user.ID,
		UserAgent: truncate(req.UserAgent, 512), IP: truncate(req.IP, 64),
		Created: now, LastUsed: now,
		IdleExpires: now.Add(s.cfg.IdleTTL), AbsoluteExpires: now.Add(s.cfg.AbsoluteTTL),
	}
	refresh := randomToken(refreshTokenBytes)
	_, refreshHash, _ := decodeRefreshToken(refresh)
	access, accessExp, err := s.issueAccess(ctx, user.ID, sess, user.Roles, now)
	if err != nil {
		return nil, err
	}
	// A hash made with older parameters is upgraded now that the password is at hand.
	rehash := ""
	if p, _, _, err := parsePHC(user.PasswordHash); err == nil && (p.Memory != DefaultParams.Memory ||
		p.Time != DefaultParams.Time || p.Threads != DefaultParams.Threads || p.KeyLen != DefaultParams.KeyLen) {
		if err := s.acquireHash(ctx); err != nil {
			return nil, err
		}
		rehash = hashPassword(req.Password, DefaultParams)
		s.releaseHash()
	}
	err = s.st.InTx(ctx, func(q store.Queries) error {
		if err := q.ClearAccountFailures(ctx, acct); err != nil {
			return err
		}
		if rehash != "" {
			if err := q.SetPasswordHash(ctx, user.ID, rehash); err != nil {
				return err
			}
		}
		if err := q.CreateSession(ctx, sess, refreshHash); err != nil {
			return err
		}
		return q.AddAudit(ctx, store.AuditEvent{Kind: "login", UserID: user.ID, SessionID: sess.ID, IP: sess.IP, At: now})
	})
	if err != nil {
		return nil, err
	}
	return &Result{
		User:    userFrom(user),
		Session: sessionFrom(sess),
		Tokens:  Tokens{Access: access, AccessExpires: accessExp, Refresh: refresh, RefreshExpires: sess.IdleExpires},
	}, nil
}

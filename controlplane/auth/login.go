package auth

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/store"
)

// Login checks the credentials and opens a new session (other sessions of the user are
// untouched). Unknown accounts and wrong passwords both cost one argon2id computation and
// both return ErrInvalidCredentials, and so does a disabled account (DisableUser), its
// password right or wrong. An attempt is refused with a *ThrottledError
// (errors.Is ErrThrottled) before any password is checked when a throttling bucket is full
// (see Throttle); a login name that is not text is ErrInvalidEmail, refused before any
// lookup or count. The right password of an account with a second factor needs its
// code (ErrMFARequired, ErrMFAInvalid); of an account that must have one and has not,
// it opens nothing (ErrMFAEnrollmentRequired: enrollment.go).
func (s *Service) Login(ctx context.Context, req LoginRequest) (*Result, error) {
	user, att, now, err := s.checkCredentials(ctx, req)
	if err != nil {
		return nil, err
	}
	if user.TOTPSecret != nil && strings.TrimSpace(req.Code) == "" {
		return nil, s.mfaRequired(ctx, att)
	}
	if user.TOTPSecret == nil && s.secondFactorRequired(user.Roles) {
		return nil, errors.Join(ErrMFAEnrollmentRequired, att.withdraw(ctx, s.st))
	}
	// A hash weaker than the defaults is upgraded now that the password is at hand.
	rehash := ""
	if weakerThanDefaults(user.PasswordHash) {
		if rehash, err = s.hash(ctx, req.Password); err != nil {
			return nil, err
		}
	}
	var res *Result
	err = s.st.InTx(ctx, func(q store.Queries) error {
		// The password was checked against the hash read before the transaction. A
		// password change may have committed since: it revoked every session and must
		// win, and a rehash of the old password must not overwrite its hash. Locking the
		// row makes a change that has not committed wait for this transaction, so that
		// its revocation covers the session opened here.
		// FOR UPDATE when this transaction may write the row (a rehash, the second
		// factor's step): two logins that each held a share lock and then wrote it
		// would deadlock. A code sent for an account read without a factor counts: the
		// factor may have been turned on since the read, and the code is then used.
		mayWrite := rehash != "" || user.TOTPSecret != nil || strings.TrimSpace(req.Code) != ""
		locked, err := q.LockUser(ctx, user.ID, mayWrite)
		if errors.Is(err, store.ErrNotFound) || err == nil && locked.DisabledAt != nil {
			// Deleted, or disabled since the read: refused as a wrong password is. A
			// disabling that has not committed waits for this lock, and then ends the
			// session opened here.
			return ErrInvalidCredentials
		}
		if err != nil {
			return err
		}
		cur := locked.PasswordHash
		if cur != user.PasswordHash {
			// Changed: a new password, or another login's upgrade of this one. Only the
			// password against the current hash tells which.
			ok, _, err := s.verify(ctx, req.Password, cur)
			if err != nil {
				return err
			}
			if !ok {
				return ErrInvalidCredentials
			}
			rehash = "" // the current hash is newer than the one read
		}
		factor := ""
		if locked.TOTPSecret == nil && s.secondFactorRequired(locked.Roles) {
			return ErrMFAEnrollmentRequired // reset, or a role granted, since the read
		}
		if locked.TOTPSecret != nil { // as locked: turned on or off since the read
			if strings.TrimSpace(req.Code) == "" {
				return ErrMFARequired
			}
			if factor, err = s.useSecondFactor(ctx, q, locked, req.Code, now); err != nil {
				return err
			}
		}
		if rehash != "" {
			if err := q.SetPasswordHash(ctx, user.ID, rehash); err != nil {
				return err
			}
		}
		res, err = s.openSession(ctx, q, user, att, req, now, factor)
		return err
	})
	switch {
	case errors.Is(err, ErrMFARequired):
		return nil, s.mfaRequired(ctx, att)
	case errors.Is(err, ErrMFAEnrollmentRequired):
		return nil, errors.Join(err, att.withdraw(ctx, s.st))
	case errors.Is(err, ErrMFAInvalid):
		return nil, s.codeRefused(ctx, user, req.IP, now)
	case err != nil:
		return nil, err
	}
	return res, nil
}

// checkCredentials is the first step of a sign-in (Login, and enrollment without a
// session): the login name must be text, the attempt is counted before argon2id runs
// (ErrThrottled when a bucket is full), and the password is checked. A wrong one is
// audited and ErrInvalidCredentials; a right one returns the account and the attempt,
// recorded as a failure until the caller takes it back.
func (s *Service) checkCredentials(ctx context.Context, req LoginRequest) (store.User, attempt, time.Time, error) {
	if !isText(req.Email) {
		return store.User{}, attempt{}, time.Time{}, ErrInvalidEmail
	}
	now := s.cfg.Now()
	att, err := s.beginAttempt(ctx, req.Email, req.IP, now)
	if err != nil {
		return store.User{}, attempt{}, time.Time{}, err
	}
	user, ok, err := s.checkPassword(ctx, strings.TrimSpace(req.Email), req.Password)
	if err != nil {
		return store.User{}, attempt{}, time.Time{}, err
	}
	if !ok {
		// The attempt is already recorded as a failure; the audit trail says whose (and,
		// for a disabled account, why: the client is told only invalid_credentials).
		ev := store.AuditEvent{Kind: "login_failed", UserID: user.ID, IP: truncate(req.IP, 64), At: now}
		if user.DisabledAt != nil {
			ev.Detail = map[string]any{"reason": ReasonAccountDisabled}
		}
		if err := s.st.AddAudit(ctx, ev); err != nil {
			return store.User{}, attempt{}, time.Time{}, err
		}
		return store.User{}, attempt{}, time.Time{}, ErrInvalidCredentials
	}
	return user, att, now, nil
}

// codeRefused answers a wrong second-factor code at sign-in: counted as a failed login
// (the attempt's record stays: codes are guessed no faster than passwords) and
// audited; ErrMFAInvalid.
func (s *Service) codeRefused(ctx context.Context, user store.User, ip string, now time.Time) error {
	ev := store.AuditEvent{Kind: "login_failed", UserID: user.ID, IP: truncate(ip, 64), At: now,
		Detail: map[string]any{"reason": "mfa_invalid"}}
	if err := s.st.AddAudit(ctx, ev); err != nil {
		return err
	}
	return ErrMFAInvalid
}

// mfaRequired answers a right password without its second factor: the attempt is taken
// back (neither a failure nor a sign-in) and ErrMFARequired returned.
func (s *Service) mfaRequired(ctx context.Context, att attempt) error {
	if err := att.withdraw(ctx, s.st); err != nil {
		return err
	}
	return ErrMFARequired
}

// checkPassword finds the account and checks the password, at the same cost whether
// the account exists or not: an unknown account is checked against a dummy hash. ok is
// false for an unknown account (user is then zero), a wrong password, or a disabled
// account (whose password is checked all the same, so that it costs what a wrong one
// does).
func (s *Service) checkPassword(ctx context.Context, email, password string) (user store.User, ok bool, err error) {
	user, err = s.st.UserByEmail(ctx, email)
	known := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return user, false, err
	}
	ok, err = s.passwordMatches(ctx, user, known, password)
	return user, ok && user.DisabledAt == nil, err
}

// passwordMatches checks password against the account's hash, or, when the account is
// not known, against a dummy hash at the same cost, and is then false.
func (s *Service) passwordMatches(ctx context.Context, user store.User, known bool, password string) (bool, error) {
	hash := s.dummy
	if known {
		hash = user.PasswordHash
	}
	// An over-long password cannot match (CreateUser refuses it) but still costs the same.
	// "Over-long" is CheckPassword's rule (code points after NFKC), never a byte count:
	// NFKC composes, so a password that signup accepted may have more bytes as typed than
	// MaxPasswordRunes*4 (Hangul typed as conjoining jamo: 9 bytes per character). The
	// request body limit (64 KiB) bounds the normalization and argon2id's input.
	tooLong := passwordTooLong(password)
	if tooLong {
		password = ""
	}
	ok, malformed, err := s.verify(ctx, password, hash)
	if err != nil {
		return false, err
	}
	if malformed != nil && known {
		s.cfg.Logger.ErrorContext(ctx, "stored password hash is malformed", "user", user.ID)
	}
	return known && ok && !tooLong, nil
}

// Signup creates an account and opens its first session, like a login. It is throttled
// like a login: the attempt is counted in the same buckets before the account is
// created, and an attempt that meets an existing account (ErrUserExists) stays counted
// as a failure, so probing which addresses have accounts costs the prober its failure
// budget. The breach checker, if any, is asked only once the attempt passed the
// throttle, and its refusal stays counted too, so that strangers cannot make the
// service ask it at will (the local rules' refusals, before the count, count nothing).
// An account that must have a second factor (Config.SecondFactorRequiredFor
// "*") is created without a session: ErrMFAEnrollmentRequired, as its login would
// answer. Errors: ErrInvalidEmail, ErrPasswordPolicy, ErrThrottled, ErrUserExists.
func (s *Service) Signup(ctx context.Context, req SignupRequest) (*Result, error) {
	email, err := normalizeEmail(req.Email)
	if err != nil {
		return nil, err
	}
	if err := s.checkLocalPassword(req.Password, email); err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	att, err := s.beginAttempt(ctx, email, req.IP, now)
	if err != nil {
		return nil, err
	}
	if err := s.checkBreached(ctx, req.Password); err != nil {
		// A breached password stays counted, as a signup that meets a taken name does:
		// taken back, it would let a stranger make the control plane ask the breach
		// service without end. (The local rules' refusals come before the count.)
		return nil, err
	}
	hash, err := s.hash(ctx, req.Password)
	if err != nil {
		return nil, err
	}
	var res *Result
	enroll := false
	err = s.st.InTx(ctx, func(q store.Queries) error {
		user, err := createUser(ctx, q, email, hash, nil, now)
		if err != nil {
			return err
		}
		if s.secondFactorRequired(user.Roles) {
			// The account exists, and signs in once it has turned a second factor on.
			if err := att.succeed(ctx, q, now); err != nil {
				return err
			}
			if err := q.AddAudit(ctx, store.AuditEvent{Kind: "signup", UserID: user.ID, IP: truncate(req.IP, 64), At: now,
				Detail: map[string]any{"session": "none until a second factor is on"}}); err != nil {
				return err
			}
			enroll = true
			return nil
		}
		res, err = s.openSession(ctx, q, user, att, req, now, "")
		return err
	})
	if err == nil && enroll {
		return nil, ErrMFAEnrollmentRequired // created: committed, and answered as a login would be
	}
	if errors.Is(err, ErrUserExists) {
		ev := store.AuditEvent{Kind: "signup_refused", IP: truncate(req.IP, 64), At: now, Detail: map[string]any{"reason": "user_exists"}}
		if err := s.st.AddAudit(ctx, ev); err != nil {
			return nil, err
		}
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// openSession creates a session for user inside q's transaction (startSession), takes
// the attempt's failures back and remembers the address, audits the login (with the
// second factor used, if any: "totp", "recovery_code", which the session records), and
// revokes the sessions req replaces.
func (s *Service) openSession(ctx context.Context, q store.Queries, user store.User, att attempt, req LoginRequest, now time.Time, factor string) (*Result, error) {
	if err := att.succeed(ctx, q, now); err != nil {
		return nil, err
	}
	res, err := s.startSession(ctx, q, user, req.UserAgent, req.IP, factor, now, time.Time{})
	if err != nil {
		return nil, err
	}
	ev := store.AuditEvent{Kind: "login", UserID: user.ID, SessionID: res.Session.ID, IP: truncate(req.IP, 64), At: now}
	if factor != "" {
		ev.Detail = map[string]any{"second_factor": factor}
	}
	if err := q.AddAudit(ctx, ev); err != nil {
		return nil, err
	}
	// The sessions whose cookies the new ones overwrite end with it, or neither happens.
	if res.Replaced, err = s.revokeReplaced(ctx, q, req.Replaces, now); err != nil {
		return nil, err
	}
	return res, nil
}

// startSession creates a session for user inside q's transaction: a new id, the first
// refresh token and an access token. secondFactor is what the sign-in proved besides
// the password ("" for nothing: store.Session.SecondFactor). The session ends a whole
// absolute lifetime from now, or at until if that is sooner (not zero).
func (s *Service) startSession(ctx context.Context, q store.Queries, user store.User, userAgent, ip, secondFactor string, now, until time.Time) (*Result, error) {
	sess := store.Session{
		ID: randomToken(sessionIDBytes), UserID: user.ID,
		UserAgent: truncate(userAgent, 512), IP: truncate(ip, 64), SecondFactor: secondFactor,
		Created: now, LastUsed: now,
		IdleExpires: now.Add(s.cfg.IdleTTL), AbsoluteExpires: now.Add(s.cfg.AbsoluteTTL),
	}
	if !until.IsZero() && until.Before(sess.AbsoluteExpires) {
		sess.AbsoluteExpires = until
		if until.Before(sess.IdleExpires) {
			sess.IdleExpires = until
		}
	}
	refresh, refreshTok := s.tags.mint(sess.ID, 1)
	sess.TokenHash = refreshTok.hash
	access, accessExp, err := s.issueAccess(ctx, user.ID, sess, user.Roles, now, randomToken(jtiBytes))
	if err != nil {
		return nil, err
	}
	if err := q.CreateSession(ctx, sess); err != nil {
		return nil, err
	}
	return &Result{
		User:    userFrom(user),
		Session: sessionFrom(sess),
		Tokens:  Tokens{Access: access, AccessExpires: accessExp, Refresh: refresh, RefreshExpires: sess.IdleExpires},
	}, nil
}

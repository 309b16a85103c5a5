package auth

// A second factor: time-based one-time passwords (RFC 6238: HMAC-SHA1, six digits,
// 30-second steps, the codes any authenticator app shows) and recovery codes for a
// lost authenticator (OWASP ASVS 5.0 6.3.2, 6.5).
//
// Turning it on takes two calls: BeginTOTP (the current password again, throttled as a
// login) stores a new secret as pending and returns it; ConfirmTOTP with a code of it
// (a wrong one counted as a failed login) makes it the account's and returns ten
// recovery codes, shown once. From then on a login with the right password but no code
// is ErrMFARequired (nothing counted), and one with a wrong code is ErrMFAInvalid
// (counted as a failed login). A code is accepted for its own step and the one either
// side (clocks drift), and once: the newest step used is stored, and a code of that
// step or an older one is refused. A recovery code works once. DisableTOTP takes the
// password and a code; an operator's ResetTOTP (lost phone, no recovery code) takes
// neither.
//
// A session remembers the second factor its sign-in proved (store.Session.SecondFactor,
// and from it the access token's amr claim): the login's, or, for the session that
// confirms an enrollment, "totp". A password change's new session keeps the one it
// replaces. Turning the factor off changes no session: each did prove it.
//
// Secrets are sealed in the database: AES-256-GCM under Config.SecretKey (derived from
// keys.kek), the account's id as additional data. Sealed format: version 1 (one byte),
// the first 8 bytes of SHA-256 of the key that sealed it, a 12-byte nonce, then the
// ciphertext. The key id tells which of SecretKey and PreviousSecretKeys opens it; a
// secret opened with a previous key is sealed again under SecretKey when it is next used.

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/store"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

const (
	totpPeriod = 30 // seconds per step
	totpSkew   = 1  // steps accepted either side of the current one
	// RecoveryCodeCount is how many recovery codes ConfirmTOTP returns.
	RecoveryCodeCount = 10
	sealVersion       = 1

	// The second factors a sign-in can prove, as the audit trail and the sessions table
	// (second_factor) name them.
	factorTOTP         = "totp"
	factorRecoveryCode = "recovery_code"
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// TOTPSetup is a pending second factor: the secret to enter in an authenticator app,
// as base32 and as an otpauth:// URI (for a QR code).
type TOTPSetup struct {
	Secret string
	URI    string
}

// TOTPRequest identifies the caller and carries what turning a second factor on or off
// needs: the current password, and (DisableTOTP) a code or a recovery code.
type TOTPRequest struct {
	UserID, SessionID string
	Password          string
	Code              string // six digits, or a recovery code
	IP                string
}

// BeginTOTP starts turning a second factor on for the caller: the current password is
// checked as a password change checks it (throttled, a wrong one counted and audited),
// then a new secret is stored as pending (replacing one pending before) and returned.
// The right password refused for a factor that is on already (ErrMFAEnabled) counts
// nothing. Errors: ErrMFAUnavailable, ErrMFAEnabled, ErrInvalidCredentials,
// ErrThrottled, ErrSessionNotFound.
func (s *Service) BeginTOTP(ctx context.Context, req TOTPRequest) (TOTPSetup, error) {
	if s.cfg.SecretKey == nil {
		return TOTPSetup{}, ErrMFAUnavailable
	}
	user, att, now, err := s.reauthenticate(ctx, req, "mfa_setup_failed")
	if err != nil {
		return TOTPSetup{}, err
	}
	if user.TOTPSecret != nil {
		return TOTPSetup{}, errors.Join(ErrMFAEnabled, att.withdraw(ctx, s.st))
	}
	setup, err := s.pend(ctx, user, att, store.AuditEvent{Kind: "mfa_setup", UserID: user.ID, SessionID: req.SessionID, IP: truncate(req.IP, 64), At: now})
	if errors.Is(err, store.ErrNotFound) {
		return TOTPSetup{}, ErrSessionNotFound
	}
	return setup, err
}

// pend makes a new secret for user and, in one transaction, stores it as pending
// (replacing one pending before), takes the attempt back and audits ev. When
// ev.SessionID names the caller's session, it must still be live in that transaction.
// Errors: ErrMFAEnabled (turned on meanwhile: the attempt is taken back all the same),
// ErrSessionNotFound (the caller's session ended meanwhile: likewise), store.ErrNotFound
// (the account is gone).
func (s *Service) pend(ctx context.Context, user store.User, att attempt, ev store.AuditEvent) (TOTPSetup, error) {
	setup, sealed, err := s.newSecret(user)
	if err != nil {
		return TOTPSetup{}, err
	}
	err = s.st.InTx(ctx, func(q store.Queries) error {
		if ev.SessionID != "" {
			// Signed out since the handler's check: an ended session acts no more, as
			// in ConfirmTOTP and withBothFactors.
			if _, err := callerSession(ctx, q, ev.SessionID, user.ID, ev.At); err != nil {
				return err
			}
		}
		if err := att.succeed(ctx, q, ev.At); err != nil {
			return err
		}
		if err := q.SetTOTPPending(ctx, user.ID, sealed); err != nil {
			return err
		}
		return q.AddAudit(ctx, ev)
	})
	switch {
	case errors.Is(err, store.ErrConflict):
		return TOTPSetup{}, errors.Join(ErrMFAEnabled, att.withdraw(ctx, s.st))
	case errors.Is(err, ErrSessionNotFound): // the password was right: nothing counted
		return TOTPSetup{}, errors.Join(err, att.withdraw(ctx, s.st))
	case err != nil:
		return TOTPSetup{}, err
	}
	return setup, nil
}

// newSecret makes a TOTP secret for user: as the user enters it, and sealed for the
// database.
func (s *Service) newSecret(user store.User) (TOTPSetup, []byte, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.totpIssuer(), AccountName: user.Email,
		Period: totpPeriod, SecretSize: 20, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return TOTPSetup{}, nil, fmt.Errorf("auth: totp secret: %w", err)
	}
	sealed, err := s.sealSecret(user.ID, []byte(key.Secret()))
	if err != nil {
		return TOTPSetup{}, nil, err
	}
	return TOTPSetup{Secret: key.Secret(), URI: key.URL()}, sealed, nil
}

// totpIssuer names the service in authenticator apps: the issuer's host, or the issuer.
func (s *Service) totpIssuer() string {
	if u, err := url.Parse(s.cfg.Issuer); err == nil && u.Host != "" {
		return u.Host
	}
	return s.cfg.Issuer
}

// ConfirmTOTP turns the pending second factor on when req.Code is one of its current
// codes, and returns the account's recovery codes (any earlier ones stop working). The
// code proves the factor in the calling session, req.SessionID, as a login with it
// would: the session records "totp" in the same transaction, so its next refresh's
// access token says mfa. The user's other sessions are unchanged. The code is guessed
// no faster than a login's: the attempt is counted in the login buckets before it is
// checked (ErrThrottled when one is full), a wrong one stays counted and is audited as
// mfa_setup_failed, a right one takes it back. req.Password is not used. Errors:
// ErrMFANotPending, ErrMFAInvalid, ErrThrottled, ErrSessionNotFound (the account, or
// the calling session, has ended: nothing changed).
func (s *Service) ConfirmTOTP(ctx context.Context, req TOTPRequest) ([]string, error) {
	user, err := s.st.UserByID(ctx, req.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrSessionNotFound
	}
	if err != nil {
		return nil, err
	}
	if user.TOTPPending == nil {
		return nil, ErrMFANotPending // nothing to guess: nothing counted
	}
	now := s.cfg.Now()
	att, err := s.beginAttempt(ctx, user.Email, req.IP, now)
	if err != nil {
		return nil, err
	}
	en, err := s.acceptPending(user, req.Code, now)
	if errors.Is(err, ErrMFAInvalid) {
		ev := store.AuditEvent{Kind: "mfa_setup_failed", UserID: user.ID, SessionID: req.SessionID, IP: truncate(req.IP, 64), At: now,
			Detail: map[string]any{"reason": "mfa_invalid"}}
		if err := s.st.AddAudit(ctx, ev); err != nil {
			return nil, err
		}
		return nil, ErrMFAInvalid // counted, as at Login
	}
	if err != nil {
		return nil, err
	}
	enable := func() error {
		return s.st.InTx(ctx, func(q store.Queries) error {
			if err := att.succeed(ctx, q, now); err != nil {
				return err
			}
			if err := en.store(ctx, q, user.ID); err != nil {
				return err
			}
			if err := q.SetSessionSecondFactor(ctx, req.SessionID, user.ID, factorTOTP, now); err != nil {
				return err
			}
			return q.AddAudit(ctx, store.AuditEvent{Kind: "mfa_enabled", UserID: user.ID, SessionID: req.SessionID, IP: truncate(req.IP, 64), At: now})
		})
	}
	err = enable()
	if errors.Is(err, store.ErrConflict) {
		// A KEK rotation's re-seal (ResealSecrets, on another replica) may have sealed
		// the pending secret again since it was read: the same enrollment in other
		// bytes, which the code was right for. Once only: the re-seal runs once a key.
		if again, ok := s.resealedPending(ctx, user.ID, en); ok {
			en = again
			err = enable()
		}
	}
	switch {
	case errors.Is(err, store.ErrConflict):
		// Confirmed meanwhile, or turned off: the code was right, so nothing counted.
		return nil, errors.Join(ErrMFANotPending, att.withdraw(ctx, s.st))
	case errors.Is(err, store.ErrNotFound):
		// The calling session ended meanwhile (a password change on another device, a
		// sign-out of everyone): an ended session acts no more, as in ChangePassword.
		return nil, errors.Join(ErrSessionNotFound, att.withdraw(ctx, s.st))
	case err != nil:
		return nil, err
	}
	return en.codes, nil
}

// enrollment is a pending secret whose first code was right, ready to become the
// account's: sealed (again, under the current key, if a previous one sealed it), the
// step of that code, and new recovery codes with their hashes.
type enrollment struct {
	pending []byte // the pending secret as read, which the code was checked against
	sealed  []byte
	step    int64
	codes   []string
	hashes  [][]byte
}

// acceptPending checks code against user's pending secret. Errors: ErrMFANotPending,
// ErrMFAInvalid.
func (s *Service) acceptPending(user store.User, code string, now time.Time) (enrollment, error) {
	if user.TOTPPending == nil {
		return enrollment{}, ErrMFANotPending
	}
	secret, current, err := s.openSecret(user.ID, user.TOTPPending)
	if err != nil {
		return enrollment{}, err
	}
	en := enrollment{pending: user.TOTPPending, sealed: user.TOTPPending, step: matchStep(string(secret), code, now, 0)}
	if en.step < 0 {
		return enrollment{}, ErrMFAInvalid
	}
	if !current {
		if en.sealed, err = s.sealSecret(user.ID, secret); err != nil {
			return enrollment{}, err
		}
	}
	if en.codes, en.hashes, err = newRecoveryCodes(); err != nil {
		return enrollment{}, err
	}
	return en, nil
}

// resealedPending is en with the account's pending secret as it is now, when that holds
// the same secret as en.pending sealed in other bytes (ResealSecrets), and false
// otherwise: confirmed, turned off, or replaced by another enrollment meanwhile.
func (s *Service) resealedPending(ctx context.Context, userID string, en enrollment) (enrollment, bool) {
	user, err := s.st.UserByID(ctx, userID)
	if err != nil || user.TOTPSecret != nil || user.TOTPPending == nil || bytes.Equal(user.TOTPPending, en.pending) {
		return en, false
	}
	was, _, err := s.openSecret(userID, en.pending)
	if err != nil {
		return en, false
	}
	now, current, err := s.openSecret(userID, user.TOTPPending)
	if err != nil || subtle.ConstantTimeCompare(was, now) != 1 {
		return en, false
	}
	en.pending = user.TOTPPending
	if current {
		en.sealed = user.TOTPPending
	}
	return en, true
}

// store makes the enrollment the account's (store.Queries.EnableTOTP): ErrConflict when
// it was confirmed meanwhile, turned off, or its secret is no longer the pending one
// (reset, or replaced by another enrollment).
func (en enrollment) store(ctx context.Context, q store.Queries, userID string) error {
	return q.EnableTOTP(ctx, userID, en.pending, en.sealed, en.step, en.hashes)
}

// DisableTOTP turns the caller's second factor off: the current password (checked as
// BeginTOTP checks it) and a code or an unused recovery code, which it uses up. A
// wrong code counts as a failed login. Sessions that proved the factor keep saying so
// (amr) until they end. Errors: ErrMFANotEnabled, ErrMFAInvalid,
// ErrInvalidCredentials, ErrThrottled, ErrSessionNotFound, ErrMFAUnavailable,
// ErrMFAKeptByPolicy (the account must have one: Config.SecondFactorRequiredFor).
func (s *Service) DisableTOTP(ctx context.Context, req TOTPRequest) error {
	keptByPolicy := func(u store.User) error {
		if s.secondFactorRequired(u.Roles) {
			return ErrMFAKeptByPolicy
		}
		return nil
	}
	return s.withBothFactors(ctx, req, "mfa_disable_failed", keptByPolicy, func(q store.Queries, user store.User, now time.Time) error {
		if _, err := q.DisableTOTP(ctx, user.ID); err != nil {
			return err
		}
		return q.AddAudit(ctx, store.AuditEvent{Kind: "mfa_disabled", UserID: user.ID, SessionID: req.SessionID, IP: truncate(req.IP, 64), At: now,
			Detail: map[string]any{"by": "user"}})
	})
}

// NewRecoveryCodes replaces the caller's recovery codes with RecoveryCodeCount new ones,
// returned this once (the old ones stop working), with the same proof DisableTOTP
// takes: the current password and a code or an unused recovery code, which it uses
// up. It is how an account that must keep its factor (and any other) gets codes again
// after using some. Errors: those of DisableTOTP but ErrMFAKeptByPolicy.
func (s *Service) NewRecoveryCodes(ctx context.Context, req TOTPRequest) ([]string, error) {
	codes, hashes, err := newRecoveryCodes()
	if err != nil {
		return nil, err
	}
	err = s.withBothFactors(ctx, req, "recovery_codes_failed", nil, func(q store.Queries, user store.User, now time.Time) error {
		if err := q.ReplaceRecoveryCodes(ctx, user.ID, hashes); err != nil {
			return err
		}
		return q.AddAudit(ctx, store.AuditEvent{Kind: "recovery_codes_replaced", UserID: user.ID, SessionID: req.SessionID, IP: truncate(req.IP, 64), At: now})
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// withBothFactors runs act, in one transaction, once the caller has shown both factors:
// the current password (reauthenticate; a wrong one audited as failKind) and a code of
// its second factor or an unused recovery code (used up; a wrong one counted as a
// failed login and audited as failKind). refuse, when set, may turn the account away,
// as read and again as locked: its error is returned and the attempt taken back.
// ErrMFANotEnabled when the account has no second factor, ErrSessionNotFound when the
// calling session has ended by the time the transaction runs (the attempt taken back
// too: the password was right; nothing changed).
func (s *Service) withBothFactors(ctx context.Context, req TOTPRequest, failKind string, refuse func(store.User) error,
	act func(q store.Queries, user store.User, now time.Time) error) error {
	if s.cfg.SecretKey == nil {
		return ErrMFAUnavailable
	}
	if refuse == nil {
		refuse = func(store.User) error { return nil }
	}
	user, att, now, err := s.reauthenticate(ctx, req, failKind)
	if err != nil {
		return err
	}
	if user.TOTPSecret == nil {
		return errors.Join(ErrMFANotEnabled, att.withdraw(ctx, s.st))
	}
	if err := refuse(user); err != nil {
		return errors.Join(err, att.withdraw(ctx, s.st))
	}
	refused := false
	err = s.st.InTx(ctx, func(q store.Queries) error {
		locked, err := lockUser(ctx, q, user)
		if err != nil {
			return err
		}
		// The caller's session may have ended since the handler checked it: an ended
		// session acts no more, as in ChangePassword (asked before the password is
		// checked again, for the same reason: it was right when checked).
		if _, err := callerSession(ctx, q, req.SessionID, user.ID, now); err != nil {
			refused = errors.Is(err, ErrSessionNotFound)
			return err
		}
		if err := s.recheckPassword(ctx, user, locked, req.Password); err != nil {
			return err
		}
		if locked.TOTPSecret == nil { // turned off since the read
			refused = true
			return ErrMFANotEnabled
		}
		if err := refuse(locked); err != nil { // changed since the read
			refused = true
			return err
		}
		if _, err := s.useSecondFactor(ctx, q, locked, req.Code, now); err != nil {
			return err
		}
		if err := att.succeed(ctx, q, now); err != nil {
			return err
		}
		return act(q, locked, now)
	})
	if refused {
		return errors.Join(err, att.withdraw(ctx, s.st))
	}
	if errors.Is(err, ErrMFAInvalid) || errors.Is(err, ErrInvalidCredentials) {
		reason := "mfa_invalid"
		if errors.Is(err, ErrInvalidCredentials) { // the password changed meanwhile
			reason = "invalid_credentials"
		}
		if aerr := s.st.AddAudit(ctx, store.AuditEvent{Kind: failKind, UserID: user.ID, SessionID: req.SessionID,
			IP: truncate(req.IP, 64), At: now, Detail: map[string]any{"reason": reason}}); aerr != nil {
			return aerr
		}
	}
	return err
}

// reauthenticate reads the caller's account and checks its current password as a
// password change does: counted in the login buckets before argon2id runs, a wrong one
// audited as failKind. The caller takes the attempt back (att.succeed) in the
// transaction that acts.
func (s *Service) reauthenticate(ctx context.Context, req TOTPRequest, failKind string) (store.User, attempt, time.Time, error) {
	user, err := s.st.UserByID(ctx, req.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, attempt{}, time.Time{}, ErrSessionNotFound
	}
	if err != nil {
		return store.User{}, attempt{}, time.Time{}, err
	}
	now := s.cfg.Now()
	att, err := s.beginAttempt(ctx, user.Email, req.IP, now)
	if err != nil {
		return store.User{}, attempt{}, time.Time{}, err
	}
	ok, err := s.passwordMatches(ctx, user, true, req.Password)
	if err != nil {
		return store.User{}, attempt{}, time.Time{}, err
	}
	if !ok {
		ev := store.AuditEvent{Kind: failKind, UserID: user.ID, SessionID: req.SessionID, IP: truncate(req.IP, 64), At: now}
		if err := s.st.AddAudit(ctx, ev); err != nil {
			return store.User{}, attempt{}, time.Time{}, err
		}
		return store.User{}, attempt{}, time.Time{}, ErrInvalidCredentials
	}
	return user, att, now, nil
}

// ResetTOTP is an operator's removal of the second factor of the account with that
// login name (a lost authenticator and no recovery code left): the secret, a pending
// one and the recovery codes go, audited as the operator's. Its sessions stay as they
// are, those that proved the factor included (EndSessions ends them). It reports whether there
// was anything to remove. ErrUserNotFound if no account has that name.
func (a *Accounts) ResetTOTP(ctx context.Context, loginName string) (User, bool, error) {
	now := a.cfg.Now()
	var u store.User
	var removed bool
	err := a.st.InTx(ctx, func(q store.Queries) error {
		var err error
		if u, err = q.UserByEmail(ctx, strings.TrimSpace(loginName)); err != nil {
			return err
		}
		if removed, err = q.DisableTOTP(ctx, u.ID); err != nil || !removed {
			return err
		}
		return q.AddAudit(ctx, store.AuditEvent{Kind: "mfa_disabled", UserID: u.ID, At: now, Detail: map[string]any{"by": "operator"}})
	})
	if errors.Is(err, store.ErrNotFound) {
		return User{}, false, ErrUserNotFound
	}
	if err != nil {
		return User{}, false, err
	}
	return userFrom(u), removed, nil
}

// useSecondFactor checks code against the locked account's second factor inside q's
// transaction and uses it up: a TOTP code (six digits) records its step, a recovery
// code is deleted. It returns which kind it was (factorTOTP, factorRecoveryCode), for
// the audit trail and the session; ErrMFAInvalid when it does not hold.
func (s *Service) useSecondFactor(ctx context.Context, q store.Queries, user store.User, code string, now time.Time) (string, error) {
	code = strings.TrimSpace(code)
	if isDigits(code) {
		secret, current, err := s.openSecret(user.ID, user.TOTPSecret)
		if err != nil {
			return "", err
		}
		step := matchStep(string(secret), code, now, user.TOTPLastStep)
		if step < 0 {
			return "", ErrMFAInvalid
		}
		var resealed []byte
		if !current {
			if resealed, err = s.sealSecret(user.ID, secret); err != nil {
				return "", err
			}
		}
		ok, err := q.UseTOTPStep(ctx, user.ID, step, resealed)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", ErrMFAInvalid // used meanwhile, by another login with the same code
		}
		return factorTOTP, nil
	}
	h, ok := recoveryCodeHash(code)
	if !ok {
		return "", ErrMFAInvalid
	}
	used, err := q.UseRecoveryCode(ctx, user.ID, h)
	if err != nil {
		return "", err
	}
	if !used {
		return "", ErrMFAInvalid
	}
	return factorRecoveryCode, nil
}

func isDigits(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// matchStep returns the step (unix time / 30) within totpSkew of now whose code is
// code and which is newer than after, or -1. Every candidate is compared, in constant
// time, so the time taken does not say which step matched.
func matchStep(secret, code string, now time.Time, after int64) int64 {
	if !isDigits(code) {
		return -1
	}
	found := int64(-1)
	cur := now.Unix() / totpPeriod
	for step := cur - totpSkew; step <= cur+totpSkew; step++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totpOpts)
		if err != nil {
			return -1
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && step > after && found < 0 {
			found = step
		}
	}
	return found
}

// Recovery codes: 80 random bits as 16 base32 characters, written in four groups
// ("abcd-efgh-ijkm-nopq"); accepted in either case, with or without the dashes and
// spaces. Only SHA-256 of the bare lower-case form is stored.
var recoveryEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

func newRecoveryCodes() (codes []string, hashes [][]byte, err error) {
	for range RecoveryCodeCount {
		var b [10]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, nil, err
		}
		bare := strings.ToLower(recoveryEncoding.EncodeToString(b[:]))
		codes = append(codes, bare[0:4]+"-"+bare[4:8]+"-"+bare[8:12]+"-"+bare[12:16])
		h := sha256.Sum256([]byte(bare))
		hashes = append(hashes, h[:])
	}
	return codes, hashes, nil
}

// recoveryCodeHash returns the stored form of a recovery code as typed, or false when it
// cannot be one.
func recoveryCodeHash(code string) ([]byte, bool) {
	bare := strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(code))
	if len(bare) != 16 {
		return nil, false
	}
	if _, err := recoveryEncoding.DecodeString(strings.ToUpper(bare)); err != nil {
		return nil, false
	}
	h := sha256.Sum256([]byte(bare))
	return h[:], true
}

// sealSecret seals a TOTP secret for the account under Config.SecretKey.
func (s *Service) sealSecret(userID string, secret []byte) ([]byte, error) {
	gcm, err := newGCM(s.cfg.SecretKey)
	if err != nil {
		return nil, err
	}
	out := append([]byte{sealVersion}, keyID(s.cfg.SecretKey)...)
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out = append(out, nonce...)
	return gcm.Seal(out, nonce, secret, sealAAD(userID)), nil
}

// errSecretSealed: a sealed secret that no key opens (sealed under a KEK that is neither
// keys.kek nor one of keys.previous_keks) or that is damaged.
var errSecretSealed = errors.New("auth: the account's second-factor secret cannot be opened (is keys.previous_keks missing the KEK it was sealed under?)")

// openSecret opens a sealed TOTP secret, and reports whether Config.SecretKey sealed it
// (false: a previous key did, and it should be sealed again).
func (s *Service) openSecret(userID string, sealed []byte) (secret []byte, current bool, err error) {
	if s.cfg.SecretKey == nil {
		return nil, false, ErrMFAUnavailable
	}
	if len(sealed) < 1+8+12 || sealed[0] != sealVersion {
		return nil, false, errSecretSealed
	}
	id, nonce, box := sealed[1:9], sealed[9:21], sealed[21:]
	for i, k := range append([][]byte{s.cfg.SecretKey}, s.cfg.PreviousSecretKeys...) {
		if subtle.ConstantTimeCompare(keyID(k), id) != 1 {
			continue
		}
		gcm, err := newGCM(k)
		if err != nil {
			return nil, false, err
		}
		secret, err := gcm.Open(nil, nonce, box, sealAAD(userID))
		if err != nil {
			return nil, false, errSecretSealed
		}
		return secret, i == 0, nil
	}
	return nil, false, errSecretSealed
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func keyID(key []byte) []byte {
	h := sha256.Sum256(key)
	return h[:8]
}

func sealAAD(userID string) []byte { return []byte("edgeauth totp secret\x00" + userID) }

// ResealSecrets seals again under Config.SecretKey every TOTP secret (active or pending)
// sealed under one of PreviousSecretKeys, and returns how many accounts it changed. The
// control plane runs it at start and periodically (app.ResealEvery) while
// keys.previous_keks is set, so that a KEK rotation can end (the old KEK dropped)
// without locking anyone out. A secret no key opens is left as it is and counted in
// the error.
func (s *Service) ResealSecrets(ctx context.Context) (int, error) {
	if s.cfg.SecretKey == nil {
		return 0, nil
	}
	all, err := s.st.SealedSecrets(ctx)
	if err != nil {
		return 0, err
	}
	changed, unreadable := 0, 0
	for _, was := range all {
		next, stale := was, false
		for _, p := range []*[]byte{&next.Secret, &next.Pending} {
			if *p == nil {
				continue
			}
			secret, current, err := s.openSecret(was.UserID, *p)
			if err != nil {
				unreadable++
				continue
			}
			if current {
				continue
			}
			if *p, err = s.sealSecret(was.UserID, secret); err != nil {
				return changed, err
			}
			stale = true
		}
		if !stale {
			continue
		}
		ok, err := s.st.ReplaceSealedSecrets(ctx, was, next)
		if err != nil {
			return changed, err
		}
		if ok {
			changed++
		}
	}
	if unreadable > 0 {
		return changed, fmt.Errorf("auth: %d second-factor secret(s) open under no configured key (keys.kek, keys.previous_keks)", unreadable)
	}
	return changed, nil
}

// MFAStatus is an account's second factor as its owner may see it.
type MFAStatus struct {
	TOTP              bool `json:"totp"`                // on
	Pending           bool `json:"pending"`             // begun, not confirmed yet
	RecoveryCodesLeft int  `json:"recovery_codes_left"` // unused recovery codes
	// Required: the account must have one (Config.SecondFactorRequiredFor), so it
	// cannot turn it off; a page need not offer to.
	Required bool `json:"required"`
}

// MFAStatus returns the account's second-factor status. ErrUserNotFound if there is
// no such account.
func (s *Service) MFAStatus(ctx context.Context, userID string) (MFAStatus, error) {
	u, err := s.st.UserByID(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return MFAStatus{}, ErrUserNotFound
	}
	if err != nil {
		return MFAStatus{}, err
	}
	out := MFAStatus{TOTP: u.TOTPSecret != nil, Pending: u.TOTPPending != nil, Required: s.secondFactorRequired(u.Roles)}
	if out.TOTP {
		if out.RecoveryCodesLeft, err = s.st.RecoveryCodesLeft(ctx, userID); err != nil {
			return MFAStatus{}, err
		}
	}
	return out, nil
}

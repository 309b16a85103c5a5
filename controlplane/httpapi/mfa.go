package httpapi

import (
	"errors"
	"net/http"

	"github.com/edgeauth/edgeauth/controlplane/auth"
)

// The second factor's endpoints (auth/totp.go): begin, confirm, turn off. Each needs a
// live session; beginning and turning off also take the current password, checked and
// throttled as a password change checks it. An account that must have a second factor
// and cannot sign in without one enrolls without a session, with its credentials
// (auth/enrollment.go): /auth/mfa/enroll and /auth/mfa/enroll/confirm, which signs in.

type totpBegin struct {
	Password string `json:"password"`
}

type totpSetup struct {
	Secret string `json:"secret"`
	URI    string `json:"uri"`
}

func (s *Server) beginTOTP(w http.ResponseWriter, r *http.Request) error {
	var c totpBegin
	if err := decodeJSON(w, r, &c); err != nil {
		return err
	}
	if c.Password == "" {
		return ErrInvalidField.with(nil, "password is required")
	}
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	setup, err := s.deps.Auth.BeginTOTP(r.Context(), auth.TOTPRequest{UserID: p.claims.Subject, SessionID: p.claims.SessionID,
		Password: c.Password, IP: s.clientIP(r)})
	if err := signedInError(err); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, totpSetup{Secret: setup.Secret, URI: setup.URI})
	return nil
}

type totpConfirm struct {
	Code string `json:"code"`
}

func (s *Server) confirmTOTP(w http.ResponseWriter, r *http.Request) error {
	var c totpConfirm
	if err := decodeJSON(w, r, &c); err != nil {
		return err
	}
	if c.Code == "" {
		return ErrInvalidField.with(nil, "code is required")
	}
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	codes, err := s.deps.Auth.ConfirmTOTP(r.Context(), auth.TOTPRequest{UserID: p.claims.Subject, SessionID: p.claims.SessionID,
		Code: c.Code, IP: s.clientIP(r)})
	if err := signedInError(err); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"recovery_codes": codes})
	return nil
}

// bothFactors is what turning the factor off, or replacing the recovery codes, takes.
type bothFactors struct {
	Password string `json:"password"`
	Code     string `json:"code"`
}

// bothFactorsRequest reads a bothFactors body and the caller's session.
func (s *Server) bothFactorsRequest(w http.ResponseWriter, r *http.Request) (auth.TOTPRequest, error) {
	var c bothFactors
	if err := decodeJSON(w, r, &c); err != nil {
		return auth.TOTPRequest{}, err
	}
	if c.Password == "" || c.Code == "" {
		return auth.TOTPRequest{}, ErrInvalidField.with(nil, "password and code are required")
	}
	p, err := s.authenticate(r)
	if err != nil {
		return auth.TOTPRequest{}, err
	}
	return auth.TOTPRequest{UserID: p.claims.Subject, SessionID: p.claims.SessionID, Password: c.Password, Code: c.Code, IP: s.clientIP(r)}, nil
}

func (s *Server) disableTOTP(w http.ResponseWriter, r *http.Request) error {
	req, err := s.bothFactorsRequest(w, r)
	if err != nil {
		return err
	}
	if err := signedInError(s.deps.Auth.DisableTOTP(r.Context(), req)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// newRecoveryCodes is POST /auth/mfa/recovery-codes: the password and a code (or an
// unused recovery code), as turning the factor off takes; answers ten new recovery
// codes, the old ones void.
func (s *Server) newRecoveryCodes(w http.ResponseWriter, r *http.Request) error {
	req, err := s.bothFactorsRequest(w, r)
	if err != nil {
		return err
	}
	codes, err := s.deps.Auth.NewRecoveryCodes(r.Context(), req)
	if err := signedInError(err); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"recovery_codes": codes})
	return nil
}

// signedInError maps what the second-factor calls return for a signed-in caller: a
// wrong password or code is 403, not 401, so that a client does not refresh and send
// them again (see ErrCurrentPasswordInvalid); a session that ended meanwhile is 401.
func signedInError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, auth.ErrInvalidCredentials):
		return ErrCurrentPasswordInvalid.with(err, "")
	case errors.Is(err, auth.ErrMFAInvalid):
		return ErrMFACodeInvalid.with(err, "")
	case errors.Is(err, auth.ErrSessionNotFound):
		return ErrSessionRevoked.with(err, "")
	}
	return err
}

// beginEnrollment is POST /auth/mfa/enroll: the credentials of an account that must
// have a second factor (login answered mfa_enrollment_required); answers its pending
// secret. Refusals are a login's (401 invalid_credentials, 429 throttled).
func (s *Server) beginEnrollment(w http.ResponseWriter, r *http.Request) error {
	var c credentials
	if err := decodeJSON(w, r, &c); err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return err
	}
	setup, err := s.deps.Auth.BeginEnrollment(r.Context(), auth.LoginRequest{Email: c.Email, Password: c.Password, IP: s.clientIP(r)})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, totpSetup{Secret: setup.Secret, URI: setup.URI})
	return nil
}

// enrolledLogin is the answer of POST /auth/mfa/enroll/confirm: a login's, and the
// recovery codes, shown once.
type enrolledLogin struct {
	tokenResponse
	RecoveryCodes []string `json:"recovery_codes"`
}

// completeEnrollment is POST /auth/mfa/enroll/confirm: the credentials again and a code
// of the pending secret. It turns the factor on and signs in as a login does (the
// cookies set, the sessions they replace ended).
func (s *Server) completeEnrollment(w http.ResponseWriter, r *http.Request) error {
	var c loginBody
	if err := decodeJSON(w, r, &c); err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return err
	}
	if c.Code == "" {
		return ErrInvalidField.with(nil, "code is required")
	}
	res, codes, err := s.deps.Auth.CompleteEnrollment(r.Context(), auth.LoginRequest{Email: c.Email, Password: c.Password, Code: c.Code,
		UserAgent: r.UserAgent(), IP: s.clientIP(r), Replaces: s.replacedSessions(r)})
	s.metrics.Login(loginResult(err))
	if errors.Is(err, auth.ErrMFANotPending) {
		return ErrMFANotPending.with(err, "no second factor awaits confirmation: begin with POST /auth/mfa/enroll")
	}
	if err != nil {
		return err
	}
	s.metrics.Revocation("relogin", res.Replaced)
	s.setSessionCookies(w, res)
	writeJSON(w, http.StatusOK, enrolledLogin{tokenResponse: s.tokenBody(res), RecoveryCodes: codes})
	return nil
}

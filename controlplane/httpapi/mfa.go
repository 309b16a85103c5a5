package httpapi

import (
	"errors"
	"net/http"

	"github.com/edgeauth/edgeauth/controlplane/auth"
)

// The second factor's endpoints (auth/totp.go): begin, confirm, turn off. Each needs a
// live session; beginning and turning off also take the current password, checked and
// throttled as a password change checks it.

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
	codes, err := s.deps.Auth.ConfirmTOTP(r.Context(), p.claims.Subject, p.claims.SessionID, c.Code)
	if err := signedInError(err); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"recovery_codes": codes})
	return nil
}

type totpDisable struct {
	Password string `json:"password"`
	Code     string `json:"code"`
}

func (s *Server) disableTOTP(w http.ResponseWriter, r *http.Request) error {
	var c totpDisable
	if err := decodeJSON(w, r, &c); err != nil {
		return err
	}
	if c.Password == "" || c.Code == "" {
		return ErrInvalidField.with(nil, "password and code are required")
	}
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	err = s.deps.Auth.DisableTOTP(r.Context(), auth.TOTPRequest{UserID: p.claims.Subject, SessionID: p.claims.SessionID,
		Password: c.Password, Code: c.Code, IP: s.clientIP(r)})
	if err := signedInError(err); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
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

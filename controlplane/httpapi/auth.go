package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/auth"
	"github.com/edgeauth/edgeauth/controlplane/config"
	"github.com/edgeauth/edgeauth/controlplane/metrics"
	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/abi"
	"github.com/edgeauth/edgeauth/verifier/jose"
)

// Identity is what the handlers need from the identity service; *auth.Service
// implements it.
type Identity interface {
	Login(ctx context.Context, req auth.LoginRequest) (*auth.Result, error)
	Signup(ctx context.Context, req auth.SignupRequest) (*auth.Result, error)
	Refresh(ctx context.Context, req auth.RefreshRequest) (*auth.Result, error)
	Logout(ctx context.Context, sid string) (revoked bool, err error)
	LogoutByRefreshToken(ctx context.Context, refreshToken string) (revoked bool, err error)
	LogoutAll(ctx context.Context, userID string) (int, error)
	LogoutOthers(ctx context.Context, userID, keepSID string) (int, error)
	ChangePassword(ctx context.Context, req auth.ChangePasswordRequest) (*auth.Result, int, error)
	ListSessions(ctx context.Context, userID, currentSID string) ([]auth.Session, error)
	RevokeSession(ctx context.Context, userID, sid string) error
	LiveSession(ctx context.Context, sid string) (auth.Session, bool, error)
	RecentlySignedIn(sess auth.Session) error
	User(ctx context.Context, id string) (auth.User, error)
	MFAStatus(ctx context.Context, userID string) (auth.MFAStatus, error)
	BeginTOTP(ctx context.Context, req auth.TOTPRequest) (auth.TOTPSetup, error)
	ConfirmTOTP(ctx context.Context, req auth.TOTPRequest) ([]string, error)
	DisableTOTP(ctx context.Context, req auth.TOTPRequest) error
	NewRecoveryCodes(ctx context.Context, req auth.TOTPRequest) ([]string, error)
	BeginEnrollment(ctx context.Context, req auth.LoginRequest) (auth.TOTPSetup, error)
	CompleteEnrollment(ctx context.Context, req auth.LoginRequest) (*auth.Result, []string, error)
}

// Deps are the services the handlers use.
type Deps struct {
	Auth        Identity
	Keys        JWKSSource
	Revocations RevocationSource
	// Database is asked by /readyz only.
	Database Database
	Metrics  *metrics.Metrics
	Logger   *slog.Logger
	Now      func() time.Time
}

// tokenVerifier checks access tokens with the verifier core (package jose, the code
// the edge runs compiled to wasm), against the key set the control plane publishes,
// re-parsed only when its ETag changes.
type tokenVerifier struct {
	validator jose.Validator
	mu        sync.RWMutex
	keys      *jose.KeySet
	etag      string
}

func (s *Server) init() error {
	if s.deps.Auth == nil || s.deps.Keys == nil || s.deps.Revocations == nil {
		return errors.New("httpapi: Deps.Auth, Keys and Revocations are required")
	}
	s.verifier = &tokenVerifier{validator: jose.Validator{
		Issuer:     s.cfg.Issuer,
		Audience:   s.cfg.Audience,
		Algorithms: []jose.Algorithm{jose.EdDSA, jose.ES256, jose.RS256},
		Leeway:     int64(config.Leeway / time.Second),
		Type:       auth.AccessTokenType,
	}}
	return nil
}

// verify checks an access token completely but for revocation (signature against the
// current JWKS, issuer, audience, type, time) at now (unix seconds); authenticate then
// asks the database whether the session is live.
func (s *Server) verify(token string, now int64) (jose.Claims, error) {
	v := s.verifier
	body, etag := s.deps.Keys.JWKS()
	v.mu.RLock()
	ks, cur := v.keys, v.etag
	v.mu.RUnlock()
	if ks == nil || cur != etag {
		var err error
		if ks, err = jose.ParseJWKS(body); err != nil {
			return jose.Claims{}, err
		}
		v.mu.Lock()
		v.keys, v.etag = ks, etag
		v.mu.Unlock()
	}
	return v.validator.Verify([]byte(token), ks, now)
}

// verifyAllowExpired is verify, except that a token refused only because it expired
// passes: it is checked again, completely, at a moment before its exp. (The exp read
// from the unverified payload only chooses that moment; the second check proves the
// signature, issuer, audience and type.) Logout uses it.
func (s *Server) verifyAllowExpired(token string) (jose.Claims, error) {
	c, err := s.verify(token, s.now().Unix())
	if !errors.Is(err, abi.ErrExpired) {
		return c, err
	}
	exp, ok := unverifiedExpiry(token)
	if !ok {
		return c, err
	}
	return s.verify(token, exp-1)
}

// unverifiedExpiry reads the exp claim of a compact JWS without checking anything.
func unverifiedExpiry(token string) (int64, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return 0, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return 0, false
	}
	var c struct {
		Exp int64 `json:"exp"`
	}
	if json.Unmarshal(payload, &c) != nil || c.Exp <= 0 {
		return 0, false
	}
	return c.Exp, true
}

// accessToken returns the access token of the request: the access cookie, or else an
// Authorization: Bearer header. ErrDuplicateAuthorization (bearer) whatever the cookie.
func (s *Server) accessToken(r *http.Request) (string, bool, error) {
	tok, ok, err := bearer(r)
	if err != nil {
		return "", false, err
	}
	if c, found := s.access.Read(r); found {
		return c, true, nil
	}
	return tok, ok, nil
}

// principal is the caller of an authenticated endpoint.
type principal struct {
	claims  jose.Claims
	session auth.Session // the token's session, as the check found it
}

// authenticate requires a valid access token (cookie, or Bearer header) whose session
// is still live in the database.
func (s *Server) authenticate(r *http.Request) (principal, error) {
	tok, ok, err := s.accessToken(r)
	if err != nil {
		return principal{}, err
	}
	if !ok {
		return principal{}, ErrUnauthenticated.with(nil, "no access token: send the access cookie or an Authorization: Bearer header")
	}
	c, err := s.verify(tok, s.now().Unix())
	if err != nil {
		return principal{}, ErrUnauthenticated.with(err, "")
	}
	sess, active, err := s.deps.Auth.LiveSession(r.Context(), c.SessionID)
	if err != nil {
		return principal{}, err
	}
	if !active {
		return principal{}, ErrSessionRevoked
	}
	return principal{claims: c, session: sess}, nil
}

func (s *Server) authRoutes() {
	s.handle("POST /auth/login", s.login)
	s.handle("POST /auth/signup", s.signup)
	s.handle("POST /auth/refresh", s.refreshPOST)
	s.handle("GET /auth/refresh", s.refreshGET)
	s.handle("POST /auth/logout", s.logout)
	s.handle("POST /auth/logout-all", s.logoutAll)
	s.handle("POST /auth/logout-others", s.logoutOthers)
	s.handle("POST /auth/password", s.changePassword)
	s.handle("GET /auth/sessions", s.sessions)
	s.handle("DELETE /auth/sessions/{id}", s.deleteSession)
	s.handle("GET /auth/me", s.me)
	s.handle("GET /auth/session", s.introspect)
	s.handle("POST /auth/mfa/totp", s.beginTOTP)
	s.handle("POST /auth/mfa/totp/confirm", s.confirmTOTP)
	s.handle("POST /auth/mfa/totp/disable", s.disableTOTP)
	s.handle("POST /auth/mfa/recovery-codes", s.newRecoveryCodes)
	s.handle("POST /auth/mfa/enroll", s.beginEnrollment)
	s.handle("POST /auth/mfa/enroll/confirm", s.completeEnrollment)
}

type credentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (c credentials) check() error {
	if c.Email == "" || c.Password == "" {
		return ErrInvalidField.with(nil, "email and password are required")
	}
	return nil
}

// tokenResponse is the body of a login, signup or refresh. Tokens appear only in
// token-in-body mode.
type tokenResponse struct {
	User           auth.User `json:"user"`
	SessionID      string    `json:"session_id"`
	AccessExpires  int64     `json:"access_expires_at"`
	AccessToken    string    `json:"access_token,omitempty"`
	RefreshToken   string    `json:"refresh_token,omitempty"`
	TokenType      string    `json:"token_type,omitempty"`
	RefreshExpires int64     `json:"refresh_expires_at,omitempty"`
}

// issue sets both cookies and writes the body of a token response.
func (s *Server) issue(w http.ResponseWriter, status int, res *auth.Result) {
	s.setSessionCookies(w, res)
	writeJSON(w, status, s.tokenBody(res))
}

// setSessionCookies sets both cookies for res. Neither outlives what it carries: the
// access cookie lives until the session's absolute expiry, the refresh cookie until the
// session's idle expiry (which a refresh moves, at most to the absolute expiry), each at
// most its configured Max-Age.
func (s *Server) setSessionCookies(w http.ResponseWriter, res *auth.Result) {
	now := s.now()
	s.access.SetUntil(w, res.Tokens.Access, res.Session.AbsoluteExpires, now)
	s.refresh.SetUntil(w, res.Tokens.Refresh, minTime(res.Tokens.RefreshExpires, res.Session.AbsoluteExpires), now)
}

// tokenBody is the body of a token response: the tokens only in token-in-body mode.
func (s *Server) tokenBody(res *auth.Result) tokenResponse {
	out := tokenResponse{User: res.User, SessionID: res.Session.ID, AccessExpires: res.Tokens.AccessExpires.Unix()}
	if s.cfg.TokenInBody {
		out.AccessToken, out.RefreshToken, out.TokenType = res.Tokens.Access, res.Tokens.Refresh, "Bearer"
		out.RefreshExpires = res.Tokens.RefreshExpires.Unix()
	}
	return out
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// clearCookies removes both cookies with exactly the attributes they were set with.
func (s *Server) clearCookies(w http.ResponseWriter) {
	s.access.Clear(w)
	s.refresh.Clear(w)
}

// loginBody is a login's request: the credentials and, for an account with a second
// factor, its code.
type loginBody struct {
	credentials
	Code string `json:"code"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var c loginBody
	if err := decodeJSON(w, r, &c); err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return err
	}
	res, err := s.deps.Auth.Login(r.Context(), auth.LoginRequest{Email: c.Email, Password: c.Password, Code: c.Code, UserAgent: r.UserAgent(), IP: s.clientIP(r),
		Replaces: s.replacedSessions(r)})
	s.metrics.Login(loginResult(err))
	if err != nil {
		return err
	}
	s.metrics.Revocation("relogin", res.Replaced)
	s.issue(w, http.StatusOK, res)
	return nil
}

// replacedSessions names the sessions whose cookies a login or signup is about to
// overwrite (OWASP ASVS 5.0 7.2.4: authentication terminates the current session): the
// browser loses those tokens with the new cookies, so a session left alive would be
// usable only by whoever copied its tokens before. They end in the transaction that
// opens the new session: a failed login ends nothing, and a login that a crash or a
// database failure interrupts neither opens a session nobody received nor leaves the
// replaced one half-ended. Every copy of a duplicated cookie counts (see logout); a
// Bearer token is left alone: a login does not replace it.
func (s *Server) replacedSessions(r *http.Request) auth.Replaced {
	var out auth.Replaced
	out.RefreshTokens = s.refresh.Values(r)
	for _, tok := range s.access.Values(r) {
		if c, err := s.verifyAllowExpired(tok); err == nil {
			out.SessionIDs = append(out.SessionIDs, c.SessionID)
		}
	}
	return out
}

func loginResult(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, auth.ErrInvalidCredentials):
		return "invalid_credentials"
	case errors.Is(err, auth.ErrInvalidEmail):
		return "invalid" // a login name that is not text: the client's mistake
	case errors.Is(err, auth.ErrThrottled):
		return "throttled"
	case errors.Is(err, auth.ErrMFARequired):
		return "mfa_required"
	case errors.Is(err, auth.ErrMFAInvalid):
		return "mfa_invalid"
	case errors.Is(err, auth.ErrMFAEnrollmentRequired):
		return "mfa_enrollment_required"
	// A confirmed enrollment without a session (completeEnrollment) that the account's
	// state refuses: a client's refusal, not a server error.
	case errors.Is(err, auth.ErrMFANotPending):
		return "mfa_not_pending"
	case errors.Is(err, auth.ErrMFAEnabled):
		return "mfa_enabled"
	case errors.Is(err, auth.ErrMFAEnrollmentNotRequired):
		return "mfa_enrollment_not_required"
	default:
		return "error"
	}
}

func passwordChangeResult(err error) string {
	switch {
	case errors.Is(err, auth.ErrPasswordPolicy):
		return "invalid"
	case errors.Is(err, auth.ErrSecondFactorRequired):
		return "second_factor_required"
	default:
		return loginResult(err) // ok, invalid_credentials (the current password), throttled, error
	}
}

// signup creates an account and logs it in (a first session on this device). It is
// throttled like a login; an existing account is answered 409 user_exists (see
// RATIONALE.md, "Signup and account enumeration").
func (s *Server) signup(w http.ResponseWriter, r *http.Request) error {
	if !s.cfg.Signup {
		return ErrSignupDisabled
	}
	var c credentials
	if err := decodeJSON(w, r, &c); err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return err
	}
	res, err := s.deps.Auth.Signup(r.Context(), auth.SignupRequest{Email: c.Email, Password: c.Password, UserAgent: r.UserAgent(), IP: s.clientIP(r),
		Replaces: s.replacedSessions(r)})
	s.metrics.Signup(signupResult(err))
	if err != nil {
		return err
	}
	s.metrics.Revocation("relogin", res.Replaced)
	s.issue(w, http.StatusCreated, res)
	return nil
}

func signupResult(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, auth.ErrUserExists):
		return "user_exists"
	case errors.Is(err, auth.ErrThrottled):
		return "throttled"
	case errors.Is(err, auth.ErrPasswordPolicy), errors.Is(err, auth.ErrInvalidEmail):
		return "invalid"
	case errors.Is(err, auth.ErrMFAEnrollmentRequired):
		return "created_without_session" // the account exists; it signs in once it has enrolled
	default:
		return "error"
	}
}

// rotate runs one refresh from the refresh cookie. On any refusal the cookies are
// cleared, so a client holding a dead token cannot loop.
func (s *Server) rotate(w http.ResponseWriter, r *http.Request) (*auth.Result, error) {
	tok, ok := s.refresh.Read(r)
	if !ok {
		s.clearCookies(w)
		s.metrics.Refresh("missing")
		return nil, ErrRefreshMissing
	}
	res, err := s.deps.Auth.Refresh(r.Context(), auth.RefreshRequest{Token: tok, IP: s.clientIP(r)})
	switch {
	case err == nil:
		s.metrics.Refresh("rotated")
		return res, nil
	case errors.Is(err, auth.ErrRefreshReused):
		s.metrics.Refresh("reused")
		s.clearCookies(w)
	case errors.Is(err, auth.ErrRefreshInvalid):
		s.metrics.Refresh("invalid")
		s.clearCookies(w)
	case errors.Is(err, auth.ErrSecondFactorRequired):
		s.metrics.Refresh("second_factor_required")
		if auth.RevokedSession(err) { // not when a concurrent refresh revoked it first: counted there
			s.metrics.Revocation("second_factor_required", 1)
		}
		s.clearCookies(w)
	default:
		s.metrics.Refresh("error")
	}
	return nil, err
}

func (s *Server) refreshPOST(w http.ResponseWriter, r *http.Request) error {
	if err := noBody(w, r); err != nil {
		return err
	}
	res, err := s.rotate(w, r)
	if err != nil {
		return err
	}
	s.issue(w, http.StatusOK, res)
	return nil
}

// refreshAllow is the Allow header of a 405 on /auth/refresh: GET and POST, not the HEAD
// that ServeMux would add for the GET route (refreshGET refuses it).
const refreshAllow = "GET, POST"

// refreshGET is the refresh the edge sends a browser through: success redirects to
// return_to, failure clears the cookies and redirects to the login page with the same
// return_to. return_to follows the edge's rule (verifier.SafeReturnTo: a canonical
// same-site path and query, no fragment, no encoded control characters); anything else
// becomes "/".
func (s *Server) refreshGET(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		// HEAD matches GET patterns; a HEAD (link checker, prefetcher) must not rotate.
		w.Header().Set("Allow", refreshAllow)
		return ErrMethodNotAllowed
	}
	back := r.URL.Query().Get("return_to")
	if !verifier.SafeReturnTo(back) {
		back = "/"
	}
	res, err := s.rotate(w, r)
	if err != nil {
		if asAPIError(err).Status >= 500 {
			return err
		}
		// rotate has cleared the cookies.
		redirect(w, r, s.cfg.LoginPath+"?return_to="+url.QueryEscape(back))
		return nil
	}
	s.setSessionCookies(w, res)
	redirect(w, r, back)
	return nil
}

// redirect answers 302 to target with no body: the API answers JSON or nothing, and
// http.Redirect would add a text/html note for people (a browser follows Location).
func redirect(w http.ResponseWriter, r *http.Request, target string) {
	w.Header()["Content-Type"] = nil // a Content-Type set, even to nil, keeps http.Redirect from writing its HTML
	http.Redirect(w, r, target, http.StatusFound)
}

// logout ends the session of every cookie in the request that we issued, whatever its
// state: the refresh token of any generation (LogoutByRefreshToken), and the access token
// (cookie or Bearer) when its signature, issuer, audience and type hold, expired or not:
// an expired token still names its session, and a browser whose refresh cookie is not
// sent here must still be able to end it. A cookie sent twice (planted from a sibling
// subdomain, or left from before a change of cookies.domain or refresh_path) is not
// refused here as elsewhere: the session of each copy ends. It clears both cookies
// whatever happens and answers 204 even when no session was found: the client's state
// is the same.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if err := noBody(w, r); err != nil {
		return err
	}
	bearerTok, hasBearer, err := bearer(r) // before anything ends: a malformed request changes nothing
	if err != nil {
		return err
	}
	revoked := 0 // sessions this request revoked, not those revoked already
	for _, tok := range s.refresh.Values(r) {
		switch done, err := s.deps.Auth.LogoutByRefreshToken(r.Context(), tok); {
		case err == nil:
			if done {
				revoked++
			}
		case !errors.Is(err, auth.ErrRefreshInvalid) && !errors.Is(err, auth.ErrRefreshReused):
			return err
		}
	}
	access := s.access.Values(r)
	if hasBearer {
		access = append(access, bearerTok)
	}
	for _, tok := range access {
		c, err := s.verifyAllowExpired(tok)
		if err != nil {
			continue
		}
		switch done, err := s.deps.Auth.Logout(r.Context(), c.SessionID); {
		case err == nil:
			if done {
				revoked++
			}
		case !errors.Is(err, auth.ErrSessionNotFound):
			return err
		}
	}
	s.metrics.Revocation("logout", revoked)
	s.clearCookies(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) logoutAll(w http.ResponseWriter, r *http.Request) error {
	if err := noBody(w, r); err != nil {
		return err
	}
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	if err := s.deps.Auth.RecentlySignedIn(p.session); err != nil {
		return err
	}
	n, err := s.deps.Auth.LogoutAll(r.Context(), p.claims.Subject)
	if err != nil {
		return err
	}
	s.metrics.Revocation("logout_all", n)
	s.clearCookies(w)
	writeJSON(w, http.StatusOK, map[string]int{"revoked": n})
	return nil
}

// logoutOthers ends every session of the user but the caller's ("sign out all other
// devices"); the caller's cookies stay.
func (s *Server) logoutOthers(w http.ResponseWriter, r *http.Request) error {
	if err := noBody(w, r); err != nil {
		return err
	}
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	if err := s.deps.Auth.RecentlySignedIn(p.session); err != nil {
		return err
	}
	n, err := s.deps.Auth.LogoutOthers(r.Context(), p.claims.Subject, p.claims.SessionID)
	if err != nil {
		return err
	}
	s.metrics.Revocation("logout_others", n)
	writeJSON(w, http.StatusOK, map[string]int{"revoked": n})
	return nil
}

// passwordChange is the body of POST /auth/password.
type passwordChange struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// changePassword sets the caller's password, the current one proven (checked and
// throttled as at login: auth.Service.ChangePassword), and in the same transaction ends
// every other session of the user (OWASP ASVS 5.0 7.4.3; reason password_changed) and
// replaces the caller's with a new one (7.2.4: re-authentication ends the session it
// was made from; reason session_replaced). It answers as a login, with the new
// session's cookies, and the number of other sessions ended.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) error {
	var c passwordChange
	if err := decodeJSON(w, r, &c); err != nil {
		return err
	}
	if c.CurrentPassword == "" || c.NewPassword == "" {
		return ErrInvalidField.with(nil, "current_password and new_password are required")
	}
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	res, n, err := s.deps.Auth.ChangePassword(r.Context(), auth.ChangePasswordRequest{UserID: p.claims.Subject, SessionID: p.claims.SessionID,
		Current: c.CurrentPassword, New: c.NewPassword, IP: s.clientIP(r), UserAgent: r.UserAgent()})
	s.metrics.PasswordChange(passwordChangeResult(err))
	switch {
	case errors.Is(err, auth.ErrInvalidCredentials):
		return ErrCurrentPasswordInvalid.with(err, "")
	case errors.Is(err, auth.ErrSessionNotFound):
		return ErrSessionRevoked.with(err, "")
	case err != nil:
		return err
	}
	s.metrics.Revocation(auth.ReasonPasswordChanged, n)
	s.metrics.Revocation("relogin", 1) // the caller's session, replaced
	s.setSessionCookies(w, res)
	writeJSON(w, http.StatusOK, passwordChanged{tokenResponse: s.tokenBody(res), Revoked: n})
	return nil
}

// passwordChanged is a password change's answer: the session that replaces the caller's
// (as a login's answer) and how many other sessions ended.
type passwordChanged struct {
	tokenResponse
	Revoked int `json:"revoked"`
}

func (s *Server) sessions(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	list, err := s.deps.Auth.ListSessions(r.Context(), p.claims.Subject, p.claims.SessionID)
	if err != nil {
		return err
	}
	if list == nil {
		list = []auth.Session{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": list})
	return nil
}

func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request) error {
	if err := noBody(w, r); err != nil {
		return err
	}
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if id != p.claims.SessionID { // another device's: as logout-others
		if err := s.deps.Auth.RecentlySignedIn(p.session); err != nil {
			return err
		}
	}
	if err := s.deps.Auth.RevokeSession(r.Context(), p.claims.Subject, id); err != nil {
		return err
	}
	s.metrics.Revocation("revoke", 1)
	if id == p.claims.SessionID {
		s.clearCookies(w)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	u, err := s.deps.Auth.User(r.Context(), p.claims.Subject)
	if err != nil {
		if errors.Is(err, auth.ErrUserNotFound) {
			return ErrSessionRevoked.with(err, "")
		}
		return err
	}
	mfa, err := s.deps.Auth.MFAStatus(r.Context(), p.claims.Subject)
	if errors.Is(err, auth.ErrUserNotFound) {
		return ErrSessionRevoked.with(err, "")
	}
	if err != nil {
		return err
	}
	// amr is the session's, as recorded now: after POST /auth/mfa/totp/confirm it says
	// mfa before the caller's access token does (until the next refresh).
	writeJSON(w, http.StatusOK, map[string]any{"user": u, "session_id": p.claims.SessionID, "amr": p.session.AuthMethods, "mfa": mfa})
	return nil
}

// introspection is the answer of GET /auth/session.
type introspection struct {
	Active    bool     `json:"active"`
	Subject   string   `json:"sub"`
	SessionID string   `json:"sid"`
	Roles     []string `json:"roles"`
	ExpiresAt int64    `json:"exp"`
	IssuedAt  int64    `json:"iat"`
	// SecondFactor is the token's: its amr lists mfa (verifier/jose reads it as the
	// edges do).
	SecondFactor bool `json:"mfa"`
}

func (s *Server) introspect(w http.ResponseWriter, r *http.Request) error {
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	roles := p.claims.Roles
	if roles == nil {
		roles = []string{}
	}
	writeJSON(w, http.StatusOK, introspection{Active: true, Subject: p.claims.Subject, SessionID: p.claims.SessionID,
		Roles: roles, ExpiresAt: p.claims.ExpiresAt, IssuedAt: p.claims.IssuedAt, SecondFactor: p.claims.SecondFactor})
	return nil
}

func (s *Server) revocations(w http.ResponseWriter, r *http.Request) error {
	// exp before the body: a rebuild in between makes the body newer (a later exp)
	// than the cap below assumes, never older.
	exp := s.deps.Revocations.Expires()
	body, etag := s.deps.Revocations.Body()
	if len(body) == 0 {
		return ErrNotReady.with(nil, "revocation list not built yet")
	}
	if err := s.listExpired(); err != nil {
		return err
	}
	serveCached(w, r, body, etag, s.listCacheControl(exp), jwtType)
	return nil
}

// listCacheControl is the Cache-Control of the list whose exp is exp: public,
// max-age=revocations.max_age, cut to what is left of the list's lifetime when that is
// shorter (a list served late, its rebuilds failing). Edges refuse an expired list, so
// no cache may keep one as fresh past its exp; a 304 carries the same cap, since it
// renews the cached copy's freshness.
func (s *Server) listCacheControl(exp time.Time) []string {
	left := exp.Sub(s.now())
	if left >= s.cfg.Revocations.MaxAge {
		return s.revocationsCache
	}
	return publicMaxAge(max(left, 0)) // whole seconds, rounded down
}

// listExpired refuses to serve the revocation list past its exp: it was not rebuilt
// in time (database or signing key unavailable here). Neither the list, nor a 304 for
// it, nor a stream starting with it: a 304 would confirm an expired list as current to
// every edge holding its ETag, which would then never turn stale.
func (s *Server) listExpired() error {
	if s.now().Before(s.deps.Revocations.Expires()) {
		return nil
	}
	e := ErrUnavailable.with(nil, "revocation list expired: this replica could not rebuild it")
	e.RetryAfter = time.Second
	return e
}

// domainError maps the auth service's errors to API errors.
func domainError(err error) *Error {
	switch {
	case errors.Is(err, auth.ErrThrottled):
		e := ErrThrottled.with(err, "")
		if d, ok := auth.RetryAfter(err); ok {
			e.RetryAfter = d
		}
		return e
	case errors.Is(err, auth.ErrInvalidCredentials):
		return ErrInvalidCredentials.with(err, "")
	case errors.Is(err, auth.ErrRefreshReused):
		return ErrRefreshReused.with(err, "")
	case errors.Is(err, auth.ErrRefreshInvalid):
		return ErrRefreshInvalid.with(err, "")
	case errors.Is(err, auth.ErrSessionNotFound):
		return ErrSessionNotFound.with(err, "")
	case errors.Is(err, auth.ErrReauthenticationRequired):
		return ErrReauthenticationRequired.with(err, "")
	case errors.Is(err, auth.ErrMFARequired):
		return ErrMFARequired.with(err, "")
	case errors.Is(err, auth.ErrMFAInvalid):
		return ErrMFAInvalid.with(err, "")
	case errors.Is(err, auth.ErrMFAEnabled):
		return ErrMFAEnabled.with(err, "")
	case errors.Is(err, auth.ErrMFANotPending):
		return ErrMFANotPending.with(err, "")
	case errors.Is(err, auth.ErrMFANotEnabled):
		return ErrMFANotEnabled.with(err, "")
	case errors.Is(err, auth.ErrMFAEnrollmentRequired):
		return ErrMFAEnrollmentRequired.with(err, "")
	case errors.Is(err, auth.ErrMFAEnrollmentNotRequired):
		return ErrMFAEnrollmentNotRequired.with(err, "")
	case errors.Is(err, auth.ErrMFAKeptByPolicy):
		return ErrMFAKeptByPolicy.with(err, "")
	case errors.Is(err, auth.ErrSecondFactorRequired):
		return ErrSecondFactorRequired.with(err, "")
	case errors.Is(err, auth.ErrPasswordPolicy):
		var refused *auth.PasswordPolicyError
		if errors.As(err, &refused) { // the rule broken, never the password
			return ErrPasswordPolicy.with(err, refused.Rule)
		}
		return ErrPasswordPolicy.with(err, "")
	case errors.Is(err, auth.ErrUserExists):
		return ErrUserExists.with(err, "")
	case errors.Is(err, auth.ErrInvalidEmail):
		return ErrInvalidField.with(err, "the email is empty, too long, not UTF-8, or has spaces or control characters")
	case errors.Is(err, auth.ErrInvalidSessionID):
		return ErrInvalidField.with(err, "the session id is not UTF-8 or has control characters")
	}
	return nil
}

// Package wsauth authorizes WebSocket connections with edgeauth sessions and binds each
// connection's life to its session: a socket opened with a session's access token is
// closed, with a documented close code, when that session ends (logout, logout-all,
// sign-out of that device from another, refresh-token reuse, a password change, an
// operator's sign-out of the user, the account's disabling, the session's absolute
// expiry) or when the key that signed its token leaves the published key set.
//
// It works in any Go process: keys and revocations come from the control plane over
// HTTP through a sessionauth.Source, whose revocation stream delivers a revocation to
// every process within moments of its commit. Run the source (Source.Run) beside the
// Server.
//
// An application WebSocket server calls Server.Upgrade in its handler and reads and
// writes the returned Conn (a *websocket.Conn from github.com/gorilla/websocket);
// Proxy puts the same authorization in front of an upstream WebSocket server.
//
// Upgrades are authorized like API requests: the access cookie (or, with
// CheckerConfig.AllowBearer, an Authorization: Bearer header for clients that are not
// browsers), checked by the Checker. A browser sends the cookie on a cross-site
// WebSocket handshake too (cross-site WebSocket hijacking), so a cookie-authorized
// upgrade also needs an Origin from the allow-list: a foreign or missing Origin is
// refused with 403 before the token is even looked at.
package wsauth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgeauth/edgeauth/internal/redact"
	"github.com/edgeauth/edgeauth/internal/weborigin"
	"github.com/edgeauth/edgeauth/sessionauth"
	"github.com/gorilla/websocket"
)

// Close codes a connection is closed with when its session ends (RFC 6455 §7.4.2: 4000
// to 4999 are for applications). The close reason is the code's name. Clients should
// not reconnect on 4000-4010 and 4014 (the session is over: sign in again), may reconnect after
// refreshing on 4011 and 4013, may reconnect at once on 4012 when they hold the new session's
// cookies, and may reconnect later, with backoff, on 1013, 1001 and 1011.
const (
	// CloseSessionRevoked (reason session_revoked): revoked, cause not known (learned
	// from the revocation list).
	CloseSessionRevoked = 4000
	// CloseLogout (logout): this session signed out (POST /auth/logout).
	CloseLogout = 4001
	// CloseLogoutAll (logout_all): the user signed out everywhere (POST /auth/logout-all).
	CloseLogoutAll = 4002
	// CloseLogoutOthers (logout_others): signed out by "sign out all other devices".
	CloseLogoutOthers = 4003
	// CloseRevokedByUser (revoked_by_user): this device was signed out from another
	// (DELETE /auth/sessions/{id}).
	CloseRevokedByUser = 4004
	// CloseRefreshReused (refresh_token_reused): the session's refresh token was
	// replayed (stolen), so the session was revoked.
	CloseRefreshReused = 4005
	// ClosePasswordChanged (password_changed): sessions ended by a password change.
	ClosePasswordChanged = 4006
	// CloseEndedByOperator (ended_by_operator): an operator ended every session of the
	// user (`edgeauth users logout`).
	CloseEndedByOperator = 4007
	// CloseAccountDisabled (account_disabled): an operator disabled the user's account
	// (`edgeauth users disable`).
	CloseAccountDisabled = 4008
	// CloseSessionExpired (session_expired): the session reached its absolute expiry.
	CloseSessionExpired = 4010
	// CloseSigningKeyGone (signing_key_removed): the key that signed the connection's
	// token left the published key set.
	CloseSigningKeyGone = 4011
	// CloseSessionReplaced (session_replaced): a password change made from this
	// session replaced it with a new one, whose cookies that change's answer set.
	// The page that made it reconnects with them; a copy of the old session cannot.
	CloseSessionReplaced = 4012
	// CloseTokenSuperseded (token_superseded): the revocation list's cutoff covers the
	// token the connection was authorized with (more sessions were revoked than the
	// list names, or an operator ended every session). The connection may be one of
	// those sessions, which this server may not have heard of: a refresh tells.
	CloseTokenSuperseded = 4013
	// CloseSecondFactorRequired (second_factor_required): the session signed in without
	// a second factor, which its account must now use (the control plane's
	// second_factor.required_for); its refresh ended it. The user signs in again with a
	// code, enrolling first if the account has no factor yet.
	CloseSecondFactorRequired = 4014
	// CloseAuthUnavailable (auth_unavailable, 1013 "try again later"): keys or
	// revocations are stale (the control plane has been unreachable too long).
	CloseAuthUnavailable = websocket.CloseTryAgainLater
	// CloseServerGoingAway (going_away, 1001): the server is shutting down.
	CloseServerGoingAway = websocket.CloseGoingAway
	// CloseUpstreamGone (upstream_gone, 1011 "internal error"): Proxy only: the
	// WebSocket server behind the proxy dropped the connection without a close frame
	// (it crashed, or the network to it failed), or stopped reading it
	// (Proxy.WriteTimeout). An upstream's own close code is relayed as it is.
	CloseUpstreamGone = websocket.CloseInternalServerErr
)

const (
	closeReasonMaxLength  = 123 // RFC 6455: a control frame's payload is 125 bytes, the code takes 2
	defaultCloseHandshake = time.Second
)

// closeFor maps a control-plane revocation reason to a close code and reason.
func closeFor(r sessionauth.Revocation) (int, string) {
	switch r.Reason {
	case "logout":
		return CloseLogout, "logout"
	case "logout_all":
		return CloseLogoutAll, "logout_all"
	case "logout_others":
		return CloseLogoutOthers, "logout_others"
	case "revoked_by_user":
		return CloseRevokedByUser, "revoked_by_user"
	case "refresh_token_reused":
		return CloseRefreshReused, "refresh_token_reused"
	case "password_changed":
		return ClosePasswordChanged, "password_changed"
	case "ended_by_operator":
		return CloseEndedByOperator, "ended_by_operator"
	case "account_disabled":
		return CloseAccountDisabled, "account_disabled"
	case "session_replaced":
		return CloseSessionReplaced, "session_replaced"
	case "second_factor_required":
		return CloseSecondFactorRequired, "second_factor_required"
	}
	return CloseSessionRevoked, "session_revoked"
}

// Config configures a Server.
type Config struct {
	// Checker checks the access tokens (and its Source the revocations); required.
	Checker *sessionauth.Checker
	// AllowedOrigins are the exact origins (scheme://host[:port]) whose pages may open a
	// socket with the access cookie; required. Spaces and a trailing "/" are trimmed,
	// and each is kept as a browser sends it in Origin (lower case, no default port, an
	// internationalised host in its xn-- form: "https://App.example:443" is
	// "https://app.example"); New refuses one that is not an origin (a path, query,
	// fragment, user information, wildcard). A request's Origin is compared as it
	// comes. A Bearer-authorized upgrade may come without Origin, but one it does send
	// must be allowed too.
	AllowedOrigins []string
	// Upgrader sets buffer sizes, subprotocols, compression and the handshake timeout;
	// its CheckOrigin must be nil (the Server checks Origin itself). Its Subprotocols
	// are chosen from for Upgrade's sockets; a Proxy answers with the upstream's choice.
	Upgrader websocket.Upgrader
	// CloseHandshake is how long a connection being closed waits for the peer's close
	// frame before its TCP connection is closed; default 1 s.
	CloseHandshake time.Duration
	Logger         *slog.Logger     // default slog.Default()
	Now            func() time.Time // default time.Now (absolute-expiry timers)
}

// Server authorizes upgrades and keeps every connection it opened bound to its
// session. Build it with New; Close ends every connection.
type Server struct {
	checker   *sessionauth.Checker
	src       *sessionauth.Source
	origins   map[string]bool
	upgrader  websocket.Upgrader
	handshake time.Duration
	log       *slog.Logger
	now       func() time.Time
	stopWatch func()

	mu        sync.Mutex
	bySession map[string]map[*Conn]struct{}
	n         int
	closed    bool
}

// New checks the configuration and starts watching the checker's source.
func New(cfg Config) (*Server, error) {
	var errs []error
	if cfg.Checker == nil {
		errs = append(errs, errors.New("wsauth: Config.Checker is required"))
	}
	origins := map[string]bool{}
	for _, o := range cfg.AllowedOrigins {
		// Kept as a browser writes it in Origin, which is compared as it comes.
		browser, err := weborigin.Parse(strings.TrimRight(strings.TrimSpace(o), "/"))
		if err != nil {
			errs = append(errs, fmt.Errorf("wsauth: AllowedOrigins: %q: %w; write it like \"https://app.example.com\"", redact.URL(o), err))
			continue
		}
		origins[browser] = true
	}
	if len(origins) == 0 {
		errs = append(errs, errors.New("wsauth: Config.AllowedOrigins needs at least the origin of the pages that open sockets"))
	}
	if cfg.Upgrader.CheckOrigin != nil {
		errs = append(errs, errors.New("wsauth: Config.Upgrader.CheckOrigin must be nil: the Server checks Origin against AllowedOrigins"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.CloseHandshake <= 0 {
		cfg.CloseHandshake = defaultCloseHandshake
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{
		checker: cfg.Checker, src: cfg.Checker.Source(), origins: origins, upgrader: cfg.Upgrader,
		handshake: cfg.CloseHandshake, log: cfg.Logger, now: cfg.Now,
		bySession: map[string]map[*Conn]struct{}{},
	}
	s.upgrader.CheckOrigin = func(*http.Request) bool { return true } // checked in Authorize
	s.stopWatch = s.src.Watch(s.changed)
	return s, nil
}

// ErrOriginNotAllowed refuses an upgrade whose Origin is not in AllowedOrigins (or is
// missing, for a cookie-authorized upgrade): answered 403 origin_not_allowed.
var ErrOriginNotAllowed = errors.New("wsauth: Origin not allowed")

// RefusalOriginNotAllowed is the answer to ErrOriginNotAllowed.
var RefusalOriginNotAllowed = sessionauth.Refusal{Status: http.StatusForbidden, Code: "origin_not_allowed",
	Message: "this page's origin may not open a WebSocket with the session cookie"}

// Authorize checks an upgrade request without upgrading it: Origin (CheckOrigin), then
// the access token and its session (sessionauth.Checker). Errors are
// ErrOriginNotAllowed or those of Checker.Check (WriteRefusal answers them).
func (s *Server) Authorize(r *http.Request) (sessionauth.Identity, error) {
	if err := s.CheckOrigin(r); err != nil {
		return sessionauth.Identity{}, err
	}
	tok, _, err := s.checker.Token(r)
	if err != nil {
		return sessionauth.Identity{}, err
	}
	return s.checker.Check(r.Context(), tok)
}

// CheckOrigin is Authorize's first check, which reads nothing of the request's session:
// ErrOriginNotAllowed when r sends more than one Origin, one not in AllowedOrigins, or
// none while it carries the access cookie (or no token at all). A check in front of
// the Server (edge.Gate.RouteRules) runs it before its own, so that a page of another
// site learns nothing from the answer about its visitor's session.
func (s *Server) CheckOrigin(r *http.Request) error {
	origin, hasOrigin := r.Header["Origin"]
	switch {
	case len(origin) > 1:
		return ErrOriginNotAllowed
	case hasOrigin && !s.origins[origin[0]]:
		return ErrOriginNotAllowed
	case !hasOrigin:
		// A browser always sends Origin on a WebSocket handshake: without it, only a
		// Bearer token (which no page can make a browser send) may authorize. Whether a
		// cookie is there is read, not whether its token is valid.
		if _, viaCookie, err := s.checker.Token(r); viaCookie || errors.Is(err, sessionauth.ErrNoToken) {
			return ErrOriginNotAllowed
		}
	}
	return nil
}

// WriteRefusal answers a refused upgrade (before any upgrade) with JSON: 403
// origin_not_allowed, or the answers of sessionauth.WriteError (401 unauthenticated,
// 401 token_expired: refresh and retry, 401 session_inactive, 503 unavailable).
func WriteRefusal(w http.ResponseWriter, err error) {
	if errors.Is(err, ErrOriginNotAllowed) {
		RefusalOriginNotAllowed.Write(w)
		return
	}
	sessionauth.WriteError(w, err)
}

// Upgrade authorizes the request and upgrades it. On refusal it has answered the
// request (WriteRefusal) and returns the error; on success the Conn is registered with
// its session until it is closed. responseHeader is sent with the handshake's answer.
// Always Close the Conn when done with it.
func (s *Server) Upgrade(w http.ResponseWriter, r *http.Request, responseHeader http.Header) (*Conn, error) {
	id, err := s.Authorize(r)
	if err != nil {
		WriteRefusal(w, err)
		return nil, err
	}
	return s.upgradeAuthorized(&s.upgrader, w, r, responseHeader, id, nil)
}

// upgradeAuthorized upgrades an authorized request with u (the Server's upgrader, or
// the proxy's copy of it) and registers the connection. onEnd, when set, runs once the
// connection is ended by its session (the proxy closes the upstream with it).
func (s *Server) upgradeAuthorized(u *websocket.Upgrader, w http.ResponseWriter, r *http.Request, responseHeader http.Header,
	id sessionauth.Identity, onEnd func(code int, reason string)) (*Conn, error) {
	ws, err := u.Upgrade(w, r, responseHeader)
	if err != nil {
		return nil, err // the upgrader has answered
	}
	c := &Conn{Conn: ws, srv: s, id: id, done: make(chan struct{}), onEnd: onEnd}
	s.register(c)
	return c, nil
}

// Count is the number of open connections the Server holds.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// Close ends every connection (1001 going_away) and stops watching the source.
func (s *Server) Close() error {
	s.stopWatch()
	s.mu.Lock()
	s.closed = true
	var all []*Conn
	for _, set := range s.bySession {
		for c := range set {
			all = append(all, c)
		}
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range all {
		wg.Add(1)
		go func() { defer wg.Done(); c.end(CloseServerGoingAway, "going_away") }()
	}
	wg.Wait()
	return nil
}

// register adds c, arms its absolute-expiry timer, and ends it at once when its
// session is already known revoked (a revocation heard between the check and now), its
// key is gone, the source is stale, or the server is closed.
func (s *Server) register(c *Conn) {
	sid := c.id.SessionID
	s.mu.Lock()
	closed := s.closed
	if !closed {
		set := s.bySession[sid]
		if set == nil {
			set = map[*Conn]struct{}{}
			s.bySession[sid] = set
		}
		set[c] = struct{}{}
		s.n++
	}
	s.mu.Unlock()
	switch {
	case closed:
		go c.end(CloseServerGoingAway, "going_away")
		return
	case !c.id.SessionExpiresAt.IsZero():
		t := time.AfterFunc(c.id.SessionExpiresAt.Sub(s.now()), func() { c.end(CloseSessionExpired, "session_expired") })
		c.expiry.Store(t)
		select {
		case <-c.done:
			t.Stop() // ended meanwhile: do not keep the connection alive for the timer's sake
		default:
		}
	}
	// Published revocations are visible before watchers hear of them: a revocation
	// that this check misses reaches changed, which now finds c.
	if r, revoked := s.src.Revoked(sid); revoked {
		code, reason := closeFor(r)
		go c.end(code, reason)
	} else if c.id.KeyID != "" && !s.src.HasKey(c.id.KeyID) {
		go c.end(CloseSigningKeyGone, "signing_key_removed")
	} else if superseded(c, s.src.Cutoff()) {
		go c.end(CloseTokenSuperseded, "token_superseded")
	} else if s.src.Fresh() != nil {
		// Watchers hear that the source turned stale once, and that may have been
		// between the check and now, before c was here to be found.
		go c.end(CloseAuthUnavailable, "auth_unavailable")
	}
}

func (s *Server) unregister(c *Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	set := s.bySession[c.id.SessionID]
	if _, ok := set[c]; !ok {
		return
	}
	delete(set, c)
	if len(set) == 0 {
		delete(s.bySession, c.id.SessionID)
	}
	s.n--
}

// changed is the source's watcher: it must not block, so connections are ended on
// goroutines of their own.
func (s *Server) changed(ch sessionauth.Change) {
	type ending struct {
		c      *Conn
		code   int
		reason string
	}
	var ends []ending
	s.mu.Lock()
	for _, r := range ch.Revoked {
		code, reason := closeFor(r)
		for c := range s.bySession[r.SessionID] {
			ends = append(ends, ending{c, code, reason})
		}
	}
	if ch.Keys || ch.Stale || ch.Cutoff {
		cutoff := s.src.Cutoff()
		for _, set := range s.bySession {
			for c := range set {
				switch {
				case ch.Stale:
					ends = append(ends, ending{c, CloseAuthUnavailable, "auth_unavailable"})
				case c.id.KeyID != "" && !s.src.HasKey(c.id.KeyID):
					ends = append(ends, ending{c, CloseSigningKeyGone, "signing_key_removed"})
				case superseded(c, cutoff):
					ends = append(ends, ending{c, CloseTokenSuperseded, "token_superseded"})
				}
			}
		}
	}
	s.mu.Unlock()
	for _, e := range ends {
		go e.c.end(e.code, e.reason)
	}
}

// superseded reports whether c was authorized with a token issued before the cutoff
// (zero: none). The gate refuses such tokens; a connection they opened must go too,
// because it may belong to a revoked session that the list does not name and whose
// revocation this server missed.
func superseded(c *Conn, cutoff time.Time) bool {
	return !cutoff.IsZero() && c.id.IssuedAt.Before(cutoff)
}

// Conn is an authorized WebSocket connection bound to its session. Read and write it as
// a *websocket.Conn (one reader and one writer at a time); when its session ends it is
// closed with a close code (see the constants), its reads fail, and Done is closed.
type Conn struct {
	*websocket.Conn
	srv    *Server
	id     sessionauth.Identity
	done   chan struct{}
	onEnd  func(code int, reason string)
	expiry atomic.Pointer[time.Timer]

	once   sync.Once
	code   int
	reason string
}

// Identity is who the connection was authorized for.
func (c *Conn) Identity() sessionauth.Identity { return c.id }

// Done is closed when the connection ends (its session ended, the server closed, or
// Close was called).
func (c *Conn) Done() <-chan struct{} { return c.done }

// CloseCode returns the close code and reason the connection was ended with by its
// session or the server (0 and "" while open, or when the application closed it).
func (c *Conn) CloseCode() (int, string) {
	select {
	case <-c.done:
		return c.code, c.reason
	default:
		return 0, ""
	}
}

// Close unregisters the connection and closes it (sending a normal close frame first
// when it is still open). Safe to call more than once and concurrently with an end.
func (c *Conn) Close() error {
	c.finish(0, "", websocket.CloseNormalClosure, "")
	return nil
}

// end closes the connection because its session (or the server) ended it.
func (c *Conn) end(code int, reason string) { c.finish(code, reason, code, reason) }

// finish does the close once: record why, unregister, tell the peer with a close
// frame, give it CloseHandshake to answer, then close the TCP connection.
func (c *Conn) finish(code int, reason string, wireCode int, wireReason string) {
	c.once.Do(func() {
		c.code, c.reason = code, reason
		if t := c.expiry.Load(); t != nil {
			t.Stop()
		}
		c.srv.unregister(c)
		close(c.done)
		if code != 0 && c.onEnd != nil {
			c.onEnd(code, reason)
		}
		if len(wireReason) > closeReasonMaxLength {
			wireReason = wireReason[:closeReasonMaxLength]
		}
		deadline := time.Now().Add(c.srv.handshake)
		if err := c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(wireCode, wireReason), deadline); err != nil {
			_ = c.Conn.Close()
			return
		}
		if code == 0 {
			// The application closed: it is not reading any more, so wait for nothing.
			_ = c.Conn.Close()
			return
		}
		// The application's reader receives the peer's close frame (and returns an
		// error); if the peer does not answer, the TCP connection goes anyway.
		time.AfterFunc(c.srv.handshake, func() { _ = c.Conn.Close() })
	})
}

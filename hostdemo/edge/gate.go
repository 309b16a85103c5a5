package edge

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/edgeauth/edgeauth/sessionauth"
	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/cookie"
)

// Gate decides each request and forwards the allowed ones to Upstream, with the identity
// headers (verifier.SetIdentityHeaders) set and every client-sent header an upstream
// could read as one of them removed, in any spelling, from its headers and from the
// trailers its body ends with (announced ones are refused: 400). A forwarded request
// never asks to switch protocols (its Upgrade header is removed): WebSockets have their
// own routes (RouteRules in front of wsauth.Proxy). Source keeps Engine's keys and
// revocation list current (sessionauth.SourceConfig.Engine), says when they are too
// old to trust, and names the sessions revoked before the engine's list does (pushed
// by the revocation stream): the gate refuses those too (decideRevoked). A request that needs sign-in is redirected to the login or refresh page,
// or answered 401 (signIn), as the JS edge answers it. An API request (isAPI) is
// answered 401 rather than redirected, and every refusal to it (401, 403, 400, 503) is
// JSON as sessionauth writes it; a page gets its refusal as text.
type Gate struct {
	Engine   verifier.Engine
	Source   *sessionauth.Source
	Upstream http.Handler
	Now      func() time.Time
	Logger   *slog.Logger
	// APIPrefixes are the paths of API routes, as the JS edge's apiPrefixes name them: a
	// prefix that ends in "/" matches the paths under it and itself without the "/"
	// ("/api/": "/api", "/api/me"), any other that path only. They are matched against
	// the path as the request sent it (URL.EscapedPath), as the engine reads it.
	APIPrefixes []string
}

func (g *Gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	api := g.isAPI(r)
	d, ok := g.check(w, r, api)
	if !ok {
		return
	}
	for _, c := range d.ClearCookies {
		w.Header().Add("Set-Cookie", c)
	}
	switch d.Action {
	case verifier.ActionAllow:
		verifier.SetIdentityHeaders(r.Header, d.Identity) // strips every client-sent spelling first
		// A reverse proxy relays an Upgrade and, once the upstream switches (h2c, a
		// WebSocket), tunnels the connection: what the client sends next reaches the
		// upstream undecided, with any identity headers, and outlives the session.
		r.Header.Del("Upgrade")
		guardTrailers(r)
		g.Upstream.ServeHTTP(w, r)
	case verifier.ActionRedirect, verifier.ActionRefresh:
		signIn(w, r, d, api)
	default:
		refuse(w, d, api)
	}
}

// isAPI reports whether r is answered as an API request, as the JS edge decides it: a
// path under APIPrefixes, a WebSocket upgrade (a socket follows no redirect and shows
// no page), or a method other than GET and HEAD that is not a navigation
// (notNavigation). Such a request gets 401 JSON where a page would be redirected, and
// its refusals as JSON.
func (g *Gate) isAPI(r *http.Request) bool {
	path := r.URL.EscapedPath()
	for _, p := range g.APIPrefixes {
		if matchPrefix(path, p) {
			return true
		}
	}
	if strings.EqualFold(strings.TrimSpace(strings.Join(r.Header.Values("Upgrade"), ", ")), "websocket") {
		return true
	}
	return r.Method != http.MethodGet && r.Method != http.MethodHead && notNavigation(r.Header)
}

// matchPrefix reports whether path is prefix, or under it when prefix ends in "/" (the
// engine's rule for public paths, and the JS edge's for apiPrefixes).
func matchPrefix(path, prefix string) bool {
	if dir, ok := strings.CutSuffix(prefix, "/"); ok {
		return strings.HasPrefix(path, prefix) || path == dir
	}
	return path == prefix
}

// answer writes refusal f as the JS edge does: to an API request as JSON
// (sessionauth.Refusal.Write), to a page as its message in text; no-store either way,
// and Retry-After on 503.
func answer(w http.ResponseWriter, f sessionauth.Refusal, api bool) {
	if api {
		f.Write(w)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	if f.Status == http.StatusServiceUnavailable {
		h.Set("Retry-After", "5")
	}
	http.Error(w, f.Message, f.Status)
}

// The edge's refusals that sessionauth's checks do not make (with RefusalMissingRole
// and RefusalUnavailable), as the JS edge names them.
var (
	refusalInvalidPath     = sessionauth.Refusal{Status: http.StatusBadRequest, Code: "invalid_path", Message: "the request's path is refused"}
	refusalInvalidRequest  = sessionauth.Refusal{Status: http.StatusBadRequest, Code: "invalid_request", Message: "request refused by the edge"}
	refusalInputTooLarge   = sessionauth.Refusal{Status: http.StatusRequestHeaderFieldsTooLarge, Code: "invalid_request", Message: "request refused by the edge"}
	refusalReservedTrailer = sessionauth.Refusal{Status: http.StatusBadRequest, Code: "invalid_request", Message: "a reserved X-Edgeauth header announced as a trailer"}
	refusalInternal        = sessionauth.Refusal{Status: http.StatusInternalServerError, Code: "internal", Message: "the edge failed to decide"}
	refusalUnreachable     = sessionauth.Refusal{Status: http.StatusBadGateway, Code: "upstream_unreachable", Message: "the edge could not reach the upstream"}
)

// ProxyError is the ErrorHandler of the reverse proxy behind the gate
// (httputil.ReverseProxy): a 502 upstream_unreachable, JSON to an API request (isAPI)
// and text to a page, as the JS edge's edge.fetch answers it. The log names the
// upstream's host and the transport's error, not the request's URL, whose query is
// the client's.
func (g *Gate) ProxyError(w http.ResponseWriter, r *http.Request, err error) {
	ProxyError(g.log(), g.isAPI(r))(w, r, err)
}

// ProxyError returns the ErrorHandler of a reverse proxy outside the gate (to the
// control plane: api, since it is one), as Gate.ProxyError answers.
func ProxyError(log *slog.Logger, api bool) func(http.ResponseWriter, *http.Request, error) {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		if r.Context().Err() == nil { // else the client left: nobody to tell, nothing wrong upstream
			log.Error("upstream unreachable", "upstream", r.URL.Host, "err", err)
		}
		answer(w, refusalUnreachable, api)
	}
}

// signIn answers a request that needs sign-in (a redirect or refresh decision), as the
// JS edge does (verifier/testdata/edge-answers.json):
//
//   - a refresh to a prefetch (isPrefetch) of a page, 401 text (no-store, with an
//     expired token's challenge: every 401 carries one): the prefetch's answer may be
//     thrown away or race the navigation it foretells, and following a redirect to the
//     refresh path would rotate the refresh token there, leaving the navigation a
//     spent one. The browser drops the prefetch and the navigation refreshes. A HEAD
//     is redirected: the control plane refuses a HEAD on its refresh path;
//   - to an API request (isAPI: an API route, a WebSocket upgrade, a method other than
//     GET and HEAD that is not a navigation), 401 JSON as sessionauth.WriteError writes
//     it: token_expired for a refresh, unauthenticated otherwise (its challenge saying
//     invalid_token when a token was sent). fetch follows a
//     redirect as a GET and would end on a page with a 200, the request lost and
//     nothing saying so, and a socket follows none; a 401 says what happened, and the
//     caller refreshes and retries. A signed-in user sent on from the login page
//     (already_signed_in) is redirected whoever asks;
//   - otherwise a redirect to d.Location, 302 to a GET or HEAD and 303 (See Other: GET
//     it, RFC 9110 15.4.4) to any other method.
func signIn(w http.ResponseWriter, r *http.Request, d verifier.Decision, api bool) {
	safe := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch {
	case d.Action == verifier.ActionRefresh && isPrefetch(r.Header) && !api:
		w.Header().Set("WWW-Authenticate", sessionauth.Challenge(verifier.ErrExpired))
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "a prefetch does not refresh the session: the navigation will", http.StatusUnauthorized)
	case api && d.Reason != verifier.ReasonAlreadySignedIn:
		switch {
		case d.Action == verifier.ActionRefresh:
			sessionauth.WriteError(w, verifier.ErrExpired) // token_expired
		case d.Reason == verifier.ReasonNoToken:
			sessionauth.WriteError(w, sessionauth.ErrNoToken) // unauthenticated, "Bearer"
		default:
			// A token was sent and refused (invalid, revoked, an unknown key, the access
			// cookie twice): RFC 6750 3.1 asks for error="invalid_token", as sessionauth
			// and the control plane send. The code stays unauthenticated: the caller
			// signs in again whichever it was.
			w.Header().Set("WWW-Authenticate", verifier.ChallengeInvalidToken)
			sessionauth.RefusalUnauthenticated.Write(w)
		}
	default:
		status := http.StatusFound
		if !safe {
			status = http.StatusSeeOther
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, d.Location, status)
	}
}

// notNavigation reports whether h is a request a page makes with fetch rather than the
// browser loading a page: its Sec-Fetch-Mode says so, or it is a Next server action
// (Next-Action), which a browser without Sec-Fetch-Mode sends with fetch too. The
// values are read as Fetch's Headers.get reads them (joined with ", "), as the JS edge
// does.
func notNavigation(h http.Header) bool {
	if mode := h.Values("Sec-Fetch-Mode"); len(mode) > 0 && strings.Join(mode, ", ") != "navigate" {
		return true
	}
	return len(h.Values("Next-Action")) > 0
}

// isPrefetch reports whether h is a request the browser makes ahead of a navigation
// that may never come: Next's router (Next-Router-Prefetch), <link rel=prefetch>
// (Purpose: prefetch, Sec-Purpose: prefetch) and speculation rules (Sec-Purpose:
// prefetch, prefetch;prerender). The values are read as the JS edge reads them.
func isPrefetch(h http.Header) bool {
	if len(h.Values("Next-Router-Prefetch")) > 0 ||
		strings.EqualFold(strings.TrimSpace(strings.Join(h.Values("Purpose"), ", ")), "prefetch") {
		return true
	}
	// "prefetch" as a whole word at the start: "prefetch;prerender", not "prefetchy".
	p := strings.TrimLeftFunc(strings.Join(h.Values("Sec-Purpose"), ", "), unicode.IsSpace)
	const word = "prefetch"
	if len(p) < len(word) || !strings.EqualFold(p[:len(word)], word) {
		return false
	}
	if len(p) == len(word) {
		return true
	}
	c := p[len(word)]
	return !(c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z')
}

// RouteRules applies the gate's route rules to a route that another handler serves. A
// WebSocket proxy (wsauth.Proxy) authorizes an upgrade by its session alone and knows
// nothing of the roles a route requires, so a socket under /admin/ would open for any
// signed-in user. When next is an OriginChecker (wsauth.Proxy) its Origin check comes
// first, before anything of the request is decided, as the JS edge checks an upgrade's
// Origin: a page of another site opening a socket gets 403 origin_not_allowed whatever
// its visitor's session, never a 403 missing_role (the session is valid), 400 or 503
// that would tell it something. A request the gate refuses (a missing role: 403; a path
// no upstream should read: 400; keys too old, input it cannot decide) is answered as the
// gate answers it (JSON to a WebSocket upgrade). An Authorizer (wsauth.Proxy) then
// authorizes the request its own way, and the route's rules are checked on the identity
// it authorized (Gate.permits), not on the token the gate read: the two may read
// different tokens (another cookie, another moment). The cookies the decision clears (an
// invalid token's) are set on whatever answers the request, as the gate sets them. Any
// other handler gets every request the gate does not refuse, and must authorize it
// itself. Either way, every client-sent identity header (verifier.IsReservedHeader) is
// removed from a request before next gets it, and from the trailers its body ends with
// once next has read it.
func (g *Gate) RouteRules(next http.Handler) http.Handler {
	a, authorizes := next.(Authorizer)
	oc, checksOrigin := next.(OriginChecker)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if checksOrigin && oc.RefuseOrigin(w, r) {
			return
		}
		api := g.isAPI(r)
		d, ok := g.check(w, r, api)
		if !ok {
			return
		}
		// As the gate clears them: next's answer (a 401 to an invalid token) carries
		// them, as the JS edge's 401 to an upgrade does.
		for _, c := range d.ClearCookies {
			w.Header().Add("Set-Cookie", c)
		}
		switch d.Action {
		case verifier.ActionAllow, verifier.ActionRedirect, verifier.ActionRefresh:
			// A redirect or refresh is next's to answer its own way: a WebSocket client
			// needs 401 token_expired, not a redirect it cannot follow.
		default:
			refuse(w, d, api)
			return
		}
		// Whatever next is, it is past the edge: no client-sent identity header reaches
		// it, as none reaches the gate's upstream.
		verifier.StripIdentityHeaders(r.Header)
		guardTrailers(r)
		if !authorizes {
			next.ServeHTTP(w, r)
			return
		}
		a.ServePermitted(w, r, func(id sessionauth.Identity) error {
			err := permits(d, id)
			if err != nil {
				g.log().Warn("the route's handler authorized an identity the route's rules do not admit; refused",
					"path", r.URL.Path, "reason", d.Reason, "err", err)
			}
			return err
		})
	})
}

// guardTrailers keeps client-sent identity headers out of r's trailers: net/http's
// server merges the trailers a chunked body ends with into r.Trailer when the body has
// been read, whether its headers announced them or not, and so after the gate has
// decided (check refuses only the announced ones). Whoever reads the body to its end
// finds every reserved name removed from r.Trailer (verifier.StripIdentityHeaders).
func guardTrailers(r *http.Request) {
	if r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody {
		r.Body = &trailerGuard{ReadCloser: r.Body, r: r}
	}
}

// trailerGuard is a request body that strips the reserved names from its request's
// trailers once it has been read to its end (guardTrailers).
type trailerGuard struct {
	io.ReadCloser
	r *http.Request
}

func (b *trailerGuard) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		verifier.StripIdentityHeaders(b.r.Trailer)
	}
	return n, err
}

// Authorizer is a handler that authorizes requests its own way (wsauth.Proxy):
// ServePermitted serves a request as ServeHTTP does, and asks permit about the identity
// it authorized, before serving, refusing the request when permit returns an error.
type Authorizer interface {
	http.Handler
	ServePermitted(w http.ResponseWriter, r *http.Request, permit func(sessionauth.Identity) error)
}

// OriginChecker is a handler that refuses requests by their Origin (wsauth.Proxy: a
// WebSocket handshake from another site's page). RefuseOrigin answers r and reports
// true when r's Origin may not reach the handler; it must read nothing of r's session.
type OriginChecker interface {
	RefuseOrigin(w http.ResponseWriter, r *http.Request) bool
}

// permits reports whether the route's rules, as decision d applied them, admit id:
//
//   - a public path (allowed with or without a token) needs no role: any identity;
//   - a protected path allowed for the gate's identity needs the roles of its rules,
//     which that identity meets: id meets them too when it has every role the gate's
//     identity has (one role of each rule is all a rule asks), and is refused with
//     sessionauth.ErrMissingRole (403) otherwise;
//   - a path the gate found no valid token for (a redirect or refresh) had its rules
//     checked for no identity: refused with sessionauth.ErrNoToken (401), as the gate's
//     reading of the request is unauthenticated.
func permits(d verifier.Decision, id sessionauth.Identity) error {
	switch {
	case d.Action != verifier.ActionAllow:
		return sessionauth.ErrNoToken
	case d.Reason == verifier.ReasonPublic || d.Reason == verifier.ReasonPublicAuthenticated:
		return nil
	case d.Reason == verifier.ReasonAuthenticated && d.Identity != nil:
		for _, role := range d.Identity.Roles {
			if !id.HasRole(role) {
				return sessionauth.ErrMissingRole
			}
		}
		// The decision does not say whether the route asked for a second factor, so
		// an identity the gate admitted with one must come with one here too, as
		// with its roles.
		if d.Identity.SecondFactor && !id.SecondFactor {
			return sessionauth.ErrSecondFactorRequired
		}
		return nil
	}
	// Anything else (a preflight, a reason a newer module invents) was allowed for no
	// identity whose roles the gate checked.
	return sessionauth.ErrMissingRole
}

// check decides r, or answers it (JSON when api) and reports false when it cannot be
// decided: an identity header announced as a trailer, keys or revocations too old, a
// request the engine refuses to read.
func (g *Gate) check(w http.ResponseWriter, r *http.Request, api bool) (verifier.Decision, bool) {
	for name := range r.Trailer {
		// Trailers arrive after the gate has decided; an identity header announced as
		// one is refused rather than left for an upstream to merge.
		if verifier.IsReservedHeader(name) {
			answer(w, refusalReservedTrailer, api)
			return verifier.Decision{}, false
		}
	}
	if err := g.fresh(); err != nil {
		// Keys or revocations of unknown age: refuse rather than guess.
		g.log().Warn("failing closed", "err", err)
		answer(w, sessionauth.RefusalUnavailable, api)
		return verifier.Decision{}, false
	}
	// Sent twice, Authorization is malformed: judging one copy would forward both to an
	// upstream that may read the other (verifier.Authorization).
	authz, err := verifier.Authorization(r.Header)
	if err != nil {
		answer(w, sessionauth.RefusalDuplicateAuthorization, api)
		return verifier.Decision{}, false
	}
	req := verifier.Request{
		Method:        r.Method,
		Path:          r.URL.EscapedPath(),
		Query:         r.URL.RawQuery,
		Cookies:       r.Header["Cookie"], // the server stores names canonical: no lookup by spelling
		Authorization: authz,
	}
	d, err := g.decide(r, req)
	if err != nil {
		f := refusalInvalidRequest
		switch {
		case errors.Is(err, verifier.ErrInputTooLarge):
			f = refusalInputTooLarge
		case !errors.Is(err, verifier.ErrInvalidRequest):
			f = refusalInternal
		}
		g.log().Warn("gate error", "path", r.URL.Path, "err", err)
		answer(w, f, api)
		return verifier.Decision{}, false
	}
	if log := g.log(); log.Enabled(r.Context(), slog.LevelDebug) {
		// Checked first: the arguments alone cost allocations on every request.
		log.Debug("decision", "path", r.URL.Path, "action", d.Action, "reason", d.Reason)
	}
	return d, true
}

// refuse answers a deny (403 missing_role or mfa_required, or 400 invalid_path for a
// refused path) and anything a newer module might invent (403), as JSON when api.
func refuse(w http.ResponseWriter, d verifier.Decision, api bool) {
	f := sessionauth.RefusalMissingRole
	switch {
	case d.Action == verifier.ActionDeny && d.Status == http.StatusBadRequest:
		f = refusalInvalidPath
	case d.Reason == verifier.ReasonMFARequired:
		f = sessionauth.RefusalMFARequired
	}
	answer(w, f, api)
}

// decide asks the engine, and once more after a JWKS refetch when the token names a
// key the engine does not know yet (a rotation this edge has not polled).
func (g *Gate) decide(r *http.Request, req verifier.Request) (verifier.Decision, error) {
	d, err := g.Engine.Decide(r.Context(), req, g.now().Unix())
	if err == nil && d.Reason == verifier.ReasonUnknownKey && g.Source != nil && g.Source.UnknownKey(r.Context()) {
		d, err = g.Engine.Decide(r.Context(), req, g.now().Unix())
	}
	if err == nil && d.Identity != nil && g.Source != nil {
		// The engine knows the revocations of the lists it loaded; a revocation the
		// stream pushed is known to the source (Source.Revoked) at once, and to the
		// engine only with the next list, which a stalled list fetch or a replica
		// slow to rebuild its list delays. Until then the source's word refuses it.
		if _, revoked := g.Source.Revoked(d.Identity.SessionID); revoked {
			return g.decideRevoked(r, req)
		}
	}
	return d, err
}

// decideRevoked decides req, whose token the engine accepted but whose session the
// source knows is revoked, as the engine decides a revoked token: as an invalid one
// (a login redirect or a public page without identity, the cookies cleared), with
// reason revoked. The engine is asked again with every credential made unreadable
// (each non-empty cookie value, and the Authorization header, replaced by "!": no
// token), so that its rules, not a copy of them, say where the request goes. A
// decision that names no identity (a missing role's 403, the login page's redirect
// of a signed-in user) forwards nothing as the session and is left to the next list.
func (g *Gate) decideRevoked(r *http.Request, req verifier.Request) (verifier.Decision, error) {
	var cookies strings.Builder
	s := cookie.NewScanner(req.Cookies)
	for s.Next() {
		if cookies.Len() > 0 {
			cookies.WriteString("; ")
		}
		cookies.WriteString(s.Name())
		cookies.WriteByte('=')
		if s.Value() != "" {
			cookies.WriteByte('!')
		}
	}
	if err := s.Err(); err != nil {
		return verifier.Decision{}, err
	}
	if len(req.Cookies) > 0 {
		req.Cookies = []string{cookies.String()}
	}
	if req.Authorization != "" {
		req.Authorization = "Bearer !"
	}
	d, err := g.Engine.Decide(r.Context(), req, g.now().Unix())
	switch {
	case err != nil:
		return d, err
	case d.Identity != nil:
		return verifier.Decision{}, errors.New("edge: the engine admitted a request without credentials as a revoked session")
	case d.Reason == verifier.ReasonInvalidToken:
		d.Reason = verifier.ReasonRevoked
	}
	return d, nil
}

func (g *Gate) fresh() error {
	if g.Source == nil {
		return nil
	}
	return g.Source.Fresh()
}

func (g *Gate) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

func (g *Gate) log() *slog.Logger {
	if g.Logger != nil {
		return g.Logger
	}
	return slog.Default()
}

package edge

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/edgeauth/edgeauth/sessionauth"
	"github.com/edgeauth/edgeauth/verifier"
)

// Gate decides each request and forwards the allowed ones to Upstream, with the
// identity headers (verifier.SetIdentityHeaders) set and every client-sent header an
// upstream could read as one of them removed, in any spelling. A forwarded request
// never asks to switch protocols (its Upgrade header is removed): WebSockets have
// their own routes (RouteRules in front of wsauth.Proxy). Source keeps Engine's
// keys and revocation list current (sessionauth.SourceConfig.Engine) and says when
// they are too old to trust.
type Gate struct {
	Engine   verifier.Engine
	Source   *sessionauth.Source
	Upstream http.Handler
	Now      func() time.Time
	Logger   *slog.Logger
}

func (g *Gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d, ok := g.check(w, r)
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
		g.Upstream.ServeHTTP(w, r)
	case verifier.ActionRedirect, verifier.ActionRefresh:
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, d.Location, http.StatusFound)
	default:
		refuse(w, d)
	}
}

// RouteRules applies the gate's route rules to a route that another handler serves. A
// WebSocket proxy (wsauth.Proxy) authorizes an upgrade by its session alone and knows
// nothing of the roles a route requires, so a socket under /admin/ would open for any
// signed-in user. A request the gate refuses (a missing role: 403; a path no upstream
// should read: 400; keys too old, input it cannot decide) is answered as the gate answers
// it; every other goes to next, which authorizes it its own way. A request the gate
// finds no valid token in but next's own check (Authorizer) would accept is refused
// (401): the two read the token differently, and the route's roles were never checked.
func (g *Gate) RouteRules(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, ok := g.check(w, r)
		if !ok {
			return
		}
		switch d.Action {
		case verifier.ActionAllow:
			next.ServeHTTP(w, r)
		case verifier.ActionRedirect, verifier.ActionRefresh:
			// The gate accepts no token here, and next refuses the request its own way
			// (a WebSocket client needs 401 token_expired, not a redirect it cannot
			// follow). Should next's own check accept a token all the same (the two read
			// it differently), the route's roles were never checked for it: refuse.
			if a, ok := next.(Authorizer); ok {
				if _, err := a.Authorize(r); err == nil {
					g.log().Warn("the route's handler accepts a token the gate does not; refused", "path", r.URL.Path, "reason", d.Reason)
					sessionauth.WriteError(w, sessionauth.ErrNoToken) // the JSON 401 wsauth answers
					return
				}
			}
			next.ServeHTTP(w, r)
		default:
			refuse(w, d)
		}
	})
}

// Authorizer is a handler that checks a request's credentials its own way before
// serving it (wsauth.Proxy). RouteRules asks it about a request the gate finds no
// valid token in, and refuses one it would accept.
type Authorizer interface {
	Authorize(r *http.Request) (sessionauth.Identity, error)
}

// check decides r, or answers it and reports false when it cannot be decided: an
// identity header announced as a trailer, keys or revocations too old, a request the
// engine refuses to read.
func (g *Gate) check(w http.ResponseWriter, r *http.Request) (verifier.Decision, bool) {
	for name := range r.Trailer {
		// Trailers arrive after the gate has decided; an identity header announced as
		// one is refused rather than left for an upstream to merge.
		if verifier.IsReservedHeader(name) {
			http.Error(w, "an identity header announced as a trailer", http.StatusBadRequest)
			return verifier.Decision{}, false
		}
	}
	if err := g.fresh(); err != nil {
		// Keys or revocations of unknown age: refuse rather than guess.
		g.log().Warn("failing closed", "err", err)
		http.Error(w, "authentication temporarily unavailable", http.StatusServiceUnavailable)
		return verifier.Decision{}, false
	}
	req := verifier.Request{
		Method:  r.Method,
		Path:    r.URL.EscapedPath(),
		Query:   r.URL.RawQuery,
		Cookies: r.Header["Cookie"], // the server stores names canonical: no lookup by spelling
	}
	if a := r.Header["Authorization"]; len(a) > 0 {
		req.Authorization = a[0]
	}
	d, err := g.decide(r, req)
	if err != nil {
		status := http.StatusBadRequest
		switch {
		case errors.Is(err, verifier.ErrInputTooLarge):
			status = http.StatusRequestHeaderFieldsTooLarge
		case !errors.Is(err, verifier.ErrInvalidRequest):
			status = http.StatusInternalServerError
		}
		g.log().Warn("gate error", "path", r.URL.Path, "err", err)
		http.Error(w, http.StatusText(status), status)
		return verifier.Decision{}, false
	}
	if log := g.log(); log.Enabled(r.Context(), slog.LevelDebug) {
		// Checked first: the arguments alone cost allocations on every request.
		log.Debug("decision", "path", r.URL.Path, "action", d.Action, "reason", d.Reason)
	}
	return d, true
}

// refuse answers a deny (403, or 400 for a refused path) and anything a newer module
// might invent.
func refuse(w http.ResponseWriter, d verifier.Decision) {
	status := http.StatusForbidden
	if d.Action == verifier.ActionDeny && d.Status == http.StatusBadRequest {
		status = http.StatusBadRequest
	}
	http.Error(w, http.StatusText(status), status)
}

// decide asks the engine, and once more after a JWKS refetch when the token names a
// key the engine does not know yet (a rotation this edge has not polled).
func (g *Gate) decide(r *http.Request, req verifier.Request) (verifier.Decision, error) {
	d, err := g.Engine.Decide(r.Context(), req, g.now().Unix())
	if err == nil && d.Reason == verifier.ReasonUnknownKey && g.Source != nil && g.Source.UnknownKey(r.Context()) {
		d, err = g.Engine.Decide(r.Context(), req, g.now().Unix())
	}
	return d, err
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

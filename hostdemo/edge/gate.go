package edge

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth/verifier"
)

// Identity headers the gate sets on forwarded requests. Any header with this prefix
// that arrives from a client is removed first, so the upstream can trust them.
const (
	HeaderPrefix    = "X-Edgeauth-"
	HeaderSubject   = "X-Edgeauth-Subject"
	HeaderSession   = "X-Edgeauth-Session"
	HeaderRoles     = "X-Edgeauth-Roles"
	HeaderExpiresAt = "X-Edgeauth-Expires-At"
)

// Gate decides each request and forwards the allowed ones to Upstream.
type Gate struct {
	Engine   verifier.Engine
	Source   *Source
	Upstream http.Handler
	Now      func() time.Time
	Logger   *slog.Logger
}

func (g *Gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for name := range r.Header {
		if strings.HasPrefix(http.CanonicalHeaderKey(name), HeaderPrefix) {
			r.Header.Del(name)
		}
	}
	if g.Source != nil && !g.Source.Fresh() {
		// Keys or revocations of unknown age: refuse rather than guess.
		g.log().Warn("failing closed: keys or revocation list stale")
		http.Error(w, "authentication temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	req := verifier.Request{
		Method:        r.Method,
		Path:          r.URL.EscapedPath(),
		Query:         r.URL.RawQuery,
		Cookies:       r.Header.Values("Cookie"),
		Authorization: r.Header.Get("Authorization"),
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
		return
	}
	g.log().Debug("decision", "path", r.URL.Path, "action", d.Action, "reason", d.Reason)
	for _, c := range d.ClearCookies {
		w.Header().Add("Set-Cookie", c)
	}
	switch d.Action {
	case verifier.ActionAllow:
		if id := d.Identity; id != nil {
			r.Header.Set(HeaderSubject, id.Subject)
			r.Header.Set(HeaderSession, id.SessionID)
			r.Header.Set(HeaderRoles, strings.Join(id.Roles, ","))
			r.Header.Set(HeaderExpiresAt, time.Unix(id.ExpiresAt, 0).UTC().Format(time.RFC3339))
		}
		g.Upstream.ServeHTTP(w, r)
	case verifier.ActionRedirect, verifier.ActionRefresh:
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, d.Location, http.StatusFound)
	default: // deny, and anything a newer module might invent
		http.Error(w, http.StatusText(http.StatusForbidden), http.StatusForbidden)
	}
}

// decide asks the engine, and once more after a JWKS refetch when the token names a
// key the engine does not know yet (a rotation this edge has not polled).
func (g *Gate) decide(r *http.Request, req verifier.Request) (verifier.Decision, error) {
	d, err := g.Engine.Decide(req, g.now().Unix())
	if err == nil && d.Reason == "unknown_key" && g.Source != nil && g.Source.UnknownKey(r.Context()) {
		d, err = g.Engine.Decide(req, g.now().Unix())
	}
	return d, err
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

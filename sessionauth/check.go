package sessionauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth/internal/redact"
	"github.com/edgeauth/edgeauth/internal/weborigin"
	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/cookie"
	"github.com/edgeauth/edgeauth/verifier/jose"
)

// DefaultAccessCookie is the control plane's access cookie name in production
// (development mode uses "edgeauth_at"; a configured cookie domain "__Secure-edgeauth_at").
const DefaultAccessCookie = "__Host-edgeauth_at"

// ErrNoToken: the request carries no access token (no access cookie, and no Bearer
// header where one is allowed).
var ErrNoToken = errors.New("sessionauth: no access token")

// ErrMissingRole: the token is valid but has none of the roles required.
var ErrMissingRole = errors.New("sessionauth: none of the required roles")

// ErrSecondFactorRequired: the token is valid, but its sign-in used no second factor
// and the resource requires one (RequireSecondFactor).
var ErrSecondFactorRequired = errors.New("sessionauth: the sign-in used no second factor")

// ErrDuplicateCookie: the access cookie appears more than once (a cookie tossed from a
// sibling subdomain, or a stale one with another Path); it wraps verifier.ErrMalformed.
var ErrDuplicateCookie = fmt.Errorf("sessionauth: access cookie sent more than once: %w", verifier.ErrMalformed)

// CheckerConfig configures a Checker. Fields left empty come from the control plane's
// edge configuration when the source fetches it (SourceConfig.Issuer empty), else from
// the defaults noted.
type CheckerConfig struct {
	// Issuer tokens must name (iss); default the source's issuer.
	Issuer string
	// Audience tokens must contain (aud); required unless the source fetches the edge
	// configuration. The control plane's default is its public URL.
	Audience string
	// Algorithms allowed for access tokens; default the edge configuration's, else the
	// source's.
	Algorithms []string
	// Leeway tolerated on exp, nbf and iat; at most 5 min. Zero means the default: the
	// edge configuration's leeway_seconds (0 there is no leeway), else 1 min (the
	// control plane's). NoLeeway means none, whatever the edge configuration says.
	Leeway time.Duration
	// AccessCookie is the name of the access cookie CheckRequest reads; default the
	// edge configuration's, else DefaultAccessCookie.
	AccessCookie string
	// AllowBearer lets CheckRequest read an "Authorization: Bearer" header when the
	// request has no access cookie (API clients that are not browsers).
	AllowBearer bool
	// AllowedOrigins are the exact origins (scheme://host[:port]), other than the
	// API's own, whose pages may send state-changing requests authorized by the access
	// cookie: an app on a sibling subdomain that calls this API with credentials (the
	// control plane's allowed_origins, for this API). CheckRequest refuses such a
	// request from any other origin (ErrCrossSite); see CheckRequest.
	AllowedOrigins []string
	Now            func() time.Time // default the source's clock
}

// NoLeeway, as CheckerConfig.Leeway, means no leeway at all (zero means the default).
const NoLeeway time.Duration = -1

// Identity is who a valid access token speaks for.
type Identity struct {
	Subject   string
	SessionID string
	Roles     []string
	// ExpiresAt is the access token's expiry: minutes away, refreshed by the client.
	ExpiresAt time.Time
	// SessionExpiresAt is the session's absolute expiry (the token's sess_exp); zero
	// when the token does not carry it.
	SessionExpiresAt time.Time
	// KeyID is the kid of the key that signed the token.
	KeyID string
	// IssuedAt is the token's iat (zero when it has none): a revocation list's cutoff
	// (Source.Cutoff) withdraws what was authorized with tokens issued before it.
	IssuedAt time.Time
	// SecondFactor is true when the session's sign-in used a second factor (the
	// token's amr lists "mfa"); RequireSecondFactor admits only such identities.
	SecondFactor bool
}

// HasRole reports whether the identity has at least one of roles.
func (id Identity) HasRole(roles ...string) bool {
	for _, want := range roles {
		for _, r := range id.Roles {
			if r == want {
				return true
			}
		}
	}
	return false
}

// Checker verifies access tokens against a Source. Safe for concurrent use: checks
// read the source's current snapshot and take no lock.
type Checker struct {
	src    *Source
	cfg    CheckerConfig
	algs   []jose.Algorithm // from cfg; nil: the edge configuration's or the source's
	bearer bool
	now    func() time.Time
	// crossOrigin refuses cross-origin browser requests with an unsafe method, but
	// from AllowedOrigins.
	crossOrigin *http.CrossOriginProtection
}

// NewChecker checks the configuration and returns a Checker reading keys and
// revocations from src.
func NewChecker(src *Source, cfg CheckerConfig) (*Checker, error) {
	var errs []error
	if src == nil {
		return nil, errors.New("sessionauth: NewChecker needs a Source")
	}
	fromEdge := src.cfg.Issuer == ""
	if cfg.Audience == "" && !fromEdge {
		errs = append(errs, errors.New("sessionauth: Audience is required (the control plane's audience, its public URL by default), unless the source takes it from the control plane's edge configuration (SourceConfig.Issuer empty)"))
	}
	var algs []jose.Algorithm
	if len(cfg.Algorithms) > 0 {
		var err error
		if algs, err = algorithms(cfg.Algorithms); err != nil {
			errs = append(errs, err)
		}
	}
	if (cfg.Leeway < 0 && cfg.Leeway != NoLeeway) || cfg.Leeway > jose.MaxLeeway*time.Second {
		errs = append(errs, errors.New("sessionauth: Leeway must be between 0 and 5 min, or NoLeeway"))
	}
	if cfg.Now == nil {
		cfg.Now = src.cfg.Now
	}
	crossOrigin := http.NewCrossOriginProtection()
	for _, o := range cfg.AllowedOrigins {
		// Kept as a browser writes it in Origin, which is compared as it comes.
		browser, err := weborigin.Parse(strings.TrimRight(strings.TrimSpace(o), "/"))
		if err == nil {
			err = crossOrigin.AddTrustedOrigin(browser)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("sessionauth: AllowedOrigins: %q: %w; write it like \"https://app.example.com\"", redact.URL(o), err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Checker{src: src, cfg: cfg, algs: algs, bearer: cfg.AllowBearer, now: cfg.Now, crossOrigin: crossOrigin}, nil
}

// Source returns the source the checker reads.
func (c *Checker) Source() *Source { return c.src }

// validator is the token validator for snapshot st: the configured values, the rest
// from the edge configuration or the defaults.
func (c *Checker) validator(st *state) (jose.Validator, error) {
	v := jose.Validator{Issuer: c.cfg.Issuer, Audience: c.cfg.Audience, Algorithms: c.algs,
		Leeway: int64(c.cfg.Leeway / time.Second), Type: jose.AccessTokenType}
	if v.Issuer == "" {
		v.Issuer = st.issuer(c.src.cfg.Issuer)
	}
	ec := st.edge
	if v.Audience == "" && ec != nil {
		v.Audience = ec.Audience
	}
	if v.Algorithms == nil {
		v.Algorithms = c.src.algs
		if ec != nil && len(ec.Algorithms) > 0 {
			algs, err := algorithms(ec.Algorithms)
			if err != nil {
				return v, fmt.Errorf("%w: the edge configuration's algorithms: %v", ErrStale, err)
			}
			v.Algorithms = algs
		}
	}
	switch c.cfg.Leeway {
	case NoLeeway:
		v.Leeway = 0
	case 0:
		// The edge configuration's leeway_seconds is the leeway, 0 included (syncEdge
		// refused one outside 0..300); a document without it means 0, as it does to
		// the gate (verifier.EdgeConfig). The default is only for a source without an
		// edge configuration.
		v.Leeway = int64(DefaultLeeway / time.Second)
		if ec != nil {
			v.Leeway = ec.LeewaySeconds
		}
	}
	if v.Issuer == "" || v.Audience == "" {
		return v, fmt.Errorf("%w: no edge configuration to take the issuer and audience from", ErrStale)
	}
	return v, nil
}

// accessCookie is the access cookie's name for snapshot st.
func (c *Checker) accessCookie(st *state) string {
	switch {
	case c.cfg.AccessCookie != "":
		return c.cfg.AccessCookie
	case st.edge != nil && st.edge.AccessCookie.Name != "":
		return st.edge.AccessCookie.Name
	}
	return DefaultAccessCookie
}

// Check verifies one access token (its compact JWS, without "Bearer "): the source
// must be fresh (else ErrStale), the token valid (errors wrap verifier.ErrExpired,
// verifier.ErrSignatureInvalid, ...), and its session not revoked
// (verifier.ErrRevoked); a token issued before the revocation list's cutoff is refused
// as expired (verifier.ErrExpired: its holder refreshes). A token naming a key the source does not have triggers one
// refetch (subject to the source's cooldown) before it is refused with
// verifier.ErrUnknownKey.
func (c *Checker) Check(ctx context.Context, token string) (Identity, error) {
	if err := c.src.Fresh(); err != nil {
		return Identity{}, err
	}
	st := c.src.snap.Load()
	v, err := c.validator(st)
	if err != nil {
		return Identity{}, err
	}
	claims, err := v.Verify([]byte(token), st.keys, c.now().Unix())
	if errors.Is(err, verifier.ErrUnknownKey) && c.src.UnknownKey(ctx) {
		claims, err = v.Verify([]byte(token), c.src.snap.Load().keys, c.now().Unix())
	}
	if err != nil {
		return Identity{}, fmt.Errorf("sessionauth: %w", err)
	}
	if r, revoked := c.src.Revoked(claims.SessionID); revoked {
		how := "revoked"
		if r.Reason != "" {
			how = r.Reason
		}
		return Identity{}, fmt.Errorf("sessionauth: session %s: %w", how, verifier.ErrRevoked)
	}
	if claims.IssuedAt < st.listBefore {
		return Identity{}, fmt.Errorf("sessionauth: token issued before the revocation list's cutoff: %w", verifier.ErrExpired)
	}
	id := Identity{Subject: claims.Subject, SessionID: claims.SessionID, Roles: claims.Roles,
		ExpiresAt: time.Unix(claims.ExpiresAt, 0), KeyID: claims.KeyID, SecondFactor: claims.SecondFactor}
	if claims.SessionExpiresAt != 0 {
		id.SessionExpiresAt = time.Unix(claims.SessionExpiresAt, 0)
	}
	if claims.IssuedAt != 0 {
		id.IssuedAt = time.Unix(claims.IssuedAt, 0)
	}
	return id, nil
}

// Token returns the request's access token: the access cookie (which must appear
// exactly once), else, with AllowBearer, an "Authorization: Bearer" header (with
// AllowBearer, verifier.ErrDuplicateAuthorization when Authorization is sent more than
// once, whatever else the request carries: 400 invalid_request). viaCookie
// says which: a cookie is sent by the browser on its own, so whoever accepts it must
// also check where the request comes from (CSRF, or a WebSocket's Origin). The bearer
// token is read as the gate reads it (only spaces and tabs trimmed), so that a route
// rule the gate applied holds for the token a Checker then accepts.
func (c *Checker) Token(r *http.Request) (token string, viaCookie bool, err error) {
	var bearer string
	if c.bearer {
		// Asked before the cookie, as the control plane does: a request that sends
		// Authorization twice is malformed whatever else it carries. Read as the gate
		// reads it (only spaces and tabs trimmed: "<token>\u00a0" is an invalid token
		// there, and here). Behind edge.Gate.RouteRules the proxy authorizes once
		// (wsauth.Proxy.ServePermitted) and the route's rules admit no identity where
		// the gate found no valid token, so a disagreement would be refused there too;
		// read alike, the refusal is the check's own 401.
		if bearer, err = verifier.BearerToken(r.Header); err != nil {
			return "", false, err
		}
	}
	m, err := cookie.Get(r.Header.Values("Cookie"), c.accessCookie(c.src.snap.Load()))
	switch {
	case err != nil:
		return "", false, fmt.Errorf("sessionauth: Cookie headers: %w", err)
	case m.Duplicated():
		return "", true, ErrDuplicateCookie
	case m.Found() && m.Value != "":
		return m.Value, true, nil
	}
	if bearer != "" {
		return bearer, false, nil
	}
	return "", false, ErrNoToken
}

// ErrCrossSite: a request with an unsafe method (not GET, HEAD or OPTIONS), authorized
// by the access cookie, came from a page of another origin than the API's own and
// CheckerConfig.AllowedOrigins (cross-site request forgery: the browser attaches the
// cookie on its own). Answered 403 cross_site_request, as the control plane answers it.
var ErrCrossSite = errors.New("sessionauth: cross-site request refused: its Origin may not send requests authorized by the access cookie")

// CheckRequest reads the request's token (Token) and checks it (Check). A request
// with an unsafe method whose token is the access cookie must come from the API's own
// origin or one of CheckerConfig.AllowedOrigins (net/http's CrossOriginProtection:
// Sec-Fetch-Site same-origin or none, else an Origin naming this host or an allowed
// origin; a request with neither header is no browser's), else ErrCrossSite, checked
// before the token: SameSite=Lax lets a sibling subdomain's page post with the cookie,
// SameSite=None any site's. A Bearer token, which no page can make a browser send, is
// not concerned.
func (c *Checker) CheckRequest(r *http.Request) (Identity, error) {
	tok, viaCookie, err := c.Token(r)
	if err != nil {
		return Identity{}, err
	}
	if viaCookie && c.crossOrigin.Check(r) != nil {
		return Identity{}, ErrCrossSite
	}
	return c.Check(r.Context(), tok)
}

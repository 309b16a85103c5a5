// Package config is the control plane's configuration: one typed value with defaults,
// derived settings (cookie names and attributes, the key-encryption key) and a
// Validate method that reports every problem at once, each with how to fix it.
//
// The package knows nothing about where values come from: cmd/edgeauth builds a
// Config from defaults, a YAML file, EDGEAUTH_ environment variables and flags (koanf),
// then calls Validate. The koanf struct tags below name the configuration keys.
package config

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"github.com/edgeauth/edgeauth/internal/redact"
	"github.com/edgeauth/edgeauth/internal/weborigin"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/edgeauth/edgeauth/controlplane/breached"
	"github.com/edgeauth/edgeauth/controlplane/cookies"
	"github.com/edgeauth/edgeauth/verifier"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// Config is the whole control-plane configuration. The zero value is not usable:
// start from Default.
type Config struct {
	// Listen is the TCP address the HTTP server binds (host:port).
	Listen string `koanf:"listen"`
	// OpsListen, when set, is a second address (host:port) serving the operations
	// endpoints only: /metrics, /healthz and /readyz. Bind it where only operators and
	// the metrics scraper reach it. Without it /metrics is not served at all in
	// production (health and readiness stay on Listen for load balancers).
	OpsListen string `koanf:"ops_listen"`
	// PublicURL is the origin browsers reach the control plane at, e.g.
	// https://auth.example.com or https://app.example.com when the app and /auth share
	// a host. Its scheme decides whether cookies can be Secure.
	PublicURL string `koanf:"public_url"`
	// Issuer and Audience go into every access token; both default to PublicURL.
	Issuer   string `koanf:"issuer"`
	Audience string `koanf:"audience"`
	// DatabaseURL is a PostgreSQL connection URL.
	DatabaseURL string `koanf:"database_url"`
	// DatabasePoolSize is the most connections the control plane holds open to
	// PostgreSQL. 0 sizes the pool from the machine (DefaultPoolSize) unless
	// DatabaseURL sets pool_max_conns.
	DatabasePoolSize int `koanf:"database_pool_size"`
	// Dev is the explicit development mode: plain HTTP on PublicURL (cookies without
	// Secure and without name prefixes), a generated development KEK, text logs. Never
	// in production.
	Dev bool `koanf:"dev"`
	// AllowedOrigins are the exact origins (scheme://host[:port]) allowed to make
	// state-changing requests; PublicURL's origin is always allowed.
	AllowedOrigins []string `koanf:"allowed_origins"`
	// LoginPath is where GET /auth/refresh sends a browser whose session is gone.
	LoginPath string `koanf:"login_path"`

	Cookies     Cookies     `koanf:"cookies"`
	Sessions    Sessions    `koanf:"sessions"`
	Throttle    Throttle    `koanf:"throttle"`
	Keys        Keys        `koanf:"keys"`
	Revocations Revocations `koanf:"revocations"`
	Passwords   Passwords   `koanf:"passwords"`
	// SecondFactor is the second-factor policy.
	SecondFactor SecondFactor `koanf:"second_factor"`

	// Signup enables POST /auth/signup.
	Signup bool `koanf:"signup"`
	// TokenInBody makes login and refresh also return the tokens in the JSON body,
	// for server-to-server clients that cannot keep cookies. Off by default: browsers
	// never need it, and a token a script can read is a token XSS can steal.
	TokenInBody bool `koanf:"token_in_body"`
	// Metrics collects Prometheus metrics and serves them at /metrics on OpsListen (in
	// development without OpsListen, on Listen).
	Metrics bool `koanf:"metrics"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `koanf:"log_level"`
}

// Cookies configures the access and refresh cookies. Names are given bare; the
// prefix is derived: __Host- for a Path=/ cookie without Domain, __Secure- otherwise,
// none in development over plain HTTP (browsers refuse prefixed cookies that are not
// Secure).
type Cookies struct {
	// Domain, when set, is a parent domain of PublicURL's host shared with sibling
	// subdomains (app.example.com and auth.example.com -> example.com). It switches
	// both cookies to __Secure- names (in development over plain HTTP they keep
	// their bare names, like every cookie there).
	Domain string `koanf:"domain"`
	// SameSite is lax (default), strict or none. none needs Secure.
	SameSite    string `koanf:"same_site"`
	AccessName  string `koanf:"access_name"`
	RefreshName string `koanf:"refresh_name"`
	// RefreshPath scopes the refresh cookie; it must cover every endpoint that reads
	// the cookie (RefreshCookieEndpoints).
	RefreshPath string `koanf:"refresh_path"`
}

// RefreshCookieEndpoints are the paths that read the refresh cookie: refresh rotates
// it, logout ends its session (with only an expired access token left, the refresh
// cookie is what names the session). Cookies.RefreshPath must cover all of them.
var RefreshCookieEndpoints = []string{"/auth/refresh", "/auth/logout"}

// cookiePathMatches reports whether a cookie with Path cookiePath is sent with a
// request for path (RFC 6265 section 5.1.4, path-match).
func cookiePathMatches(cookiePath, path string) bool {
	if !strings.HasPrefix(path, cookiePath) {
		return false
	}
	return len(path) == len(cookiePath) || strings.HasSuffix(cookiePath, "/") || path[len(cookiePath)] == '/'
}

// Sessions configures token and session lifetimes.
type Sessions struct {
	// AccessTTL is the access token's lifetime (its exp).
	AccessTTL time.Duration `koanf:"access_ttl"`
	// IdleTimeout ends a session not refreshed for this long.
	IdleTimeout time.Duration `koanf:"idle_timeout"`
	// AbsoluteLifetime ends a session this long after login, however active.
	AbsoluteLifetime time.Duration `koanf:"absolute_lifetime"`
	// RefreshGrace is how long the immediately previous refresh token still returns
	// the same successor (concurrent tabs), instead of counting as reuse. 0: no grace,
	// every replay of a rotated token is reuse.
	RefreshGrace time.Duration `koanf:"refresh_grace"`
	// RecentLogin is how long after signing in a session may end the user's other
	// sessions (logout-all, logout-others, deleting another device's session); later
	// the user signs in again first (403 reauthentication_required).
	RecentLogin time.Duration `koanf:"recent_login"`
}

// Throttle configures login (and signup) throttling; see auth.Throttle for the model.
type Throttle struct {
	// AccountAddressFailures failed logins for one account from one client address
	// within Window throttle that pair: the guessing budget from one place, which
	// failures from elsewhere cannot use up.
	AccountAddressFailures int `koanf:"account_address_failures"`
	// AddressFailures failed logins from one client address (any accounts) within
	// Window throttle that address.
	AddressFailures int           `koanf:"address_failures"`
	Window          time.Duration `koanf:"window"`
	// AccountFailures failed logins for one account (any addresses) within
	// AccountWindow throttle the account, except from addresses it signed in from
	// recently: a ceiling on distributed guessing that cannot lock the owner out.
	AccountFailures int           `koanf:"account_failures"`
	AccountWindow   time.Duration `koanf:"account_window"`
	// TrustForwardedFor takes the client address from the last X-Forwarded-For hop
	// (set it only behind a proxy that writes that header).
	TrustForwardedFor bool `koanf:"trust_forwarded_for"`
}

// Keys configures signing keys.
type Keys struct {
	// Algorithm is EdDSA (default), ES256 or RS256.
	Algorithm string `koanf:"algorithm"`
	// KEK is the key-encryption key for private keys at rest: 32 bytes, base64.
	KEK string `koanf:"kek"`
	// PreviousKEKs are key-encryption keys that sealed stored keys before KEK (same
	// format as KEK). Keys sealed under one of them are opened and re-sealed under KEK
	// (keys.Config.PreviousKEKs), which is how the KEK is rotated: see the README,
	// "Rotating the KEK".
	PreviousKEKs []string `koanf:"previous_keks"`
	// RotateEvery is how long a key signs before the next one takes over.
	RotateEvery time.Duration `koanf:"rotate_every"`
	// PrePublish is how long a new key is published before it signs; it must exceed
	// JWKSMaxAge so every cached JWKS knows a key before any token uses it.
	PrePublish time.Duration `koanf:"pre_publish"`
	// RetireAfter is how long a retired key stays published; it must cover the
	// access-token lifetime.
	RetireAfter time.Duration `koanf:"retire_after"`
	// JWKSMaxAge is the Cache-Control max-age of /.well-known/jwks.json.
	JWKSMaxAge time.Duration `koanf:"jwks_max_age"`
}

// Revocations configures the revocation list.
type Revocations struct {
	// MaxAge is the Cache-Control max-age of the list: how late a logout may reach an
	// edge that honours it.
	MaxAge time.Duration `koanf:"max_age"`
	// Lifetime is the signed list's own validity (exp - iat), 60 s .. 300 s; it must
	// exceed MaxAge so no cache serves an expired list.
	Lifetime time.Duration `koanf:"lifetime"`
}

// Passwords configures what new passwords are checked against besides the local rules
// (length, and the guessing estimate).
type Passwords struct {
	// BreachCheckURL is a k-anonymity range service asked about every new password
	// (Pwned Passwords: https://api.pwnedpasswords.com); one found in breaches is
	// refused. Empty: no such check. Only five hex characters of the password's SHA-1
	// leave the process; when the service does not answer, the password is accepted
	// and a warning logged.
	BreachCheckURL string `koanf:"breach_check_url"`
	// BreachCheckTimeout bounds one question to it.
	BreachCheckTimeout time.Duration `koanf:"breach_check_timeout"`
}

// SecondFactor configures the second-factor policy (auth/enrollment.go).
type SecondFactor struct {
	// RequiredFor lists roles whose accounts must sign in with a second factor; "*" is
	// every account. Such an account without one gets no session until it turns one
	// on (POST /auth/mfa/enroll, /auth/mfa/enroll/confirm), and a session of it that
	// signed in with the password alone ends at its next refresh. Empty: nobody must.
	RequiredFor []string `koanf:"required_for"`
}

// KeyReloadEvery is how often each replica reloads the key set (keys.Config.ReloadEvery).
const KeyReloadEvery = time.Minute

// Leeway is the clock skew verifiers tolerate, counted into key and list lifetimes.
const Leeway = time.Minute

// MaxTokenLifetime is the longest validity of anything signed: an access token or a
// revocation list, plus leeway. A retired key stays published at least this long.
func (c *Config) MaxTokenLifetime() time.Duration {
	return max(c.Sessions.AccessTTL, c.Revocations.Lifetime) + Leeway
}

// Default returns the defaults. PublicURL is empty: it has no sensible production
// default (development mode fills in http://localhost:8080, see Normalize).
func Default() Config {
	return Config{
		Listen:      "127.0.0.1:8080",
		DatabaseURL: "postgres://postgres@127.0.0.1:5432/edgeauth?sslmode=disable",
		LoginPath:   "/login",
		Cookies: Cookies{
			SameSite:    "lax",
			AccessName:  "edgeauth_at",
			RefreshName: "edgeauth_rt",
			RefreshPath: "/auth",
		},
		Sessions: Sessions{
			AccessTTL:        10 * time.Minute,
			IdleTimeout:      7 * 24 * time.Hour,
			AbsoluteLifetime: 30 * 24 * time.Hour,
			RefreshGrace:     30 * time.Second,
			RecentLogin:      10 * time.Minute,
		},
		Throttle: Throttle{
			AccountAddressFailures: 5,
			AddressFailures:        20,
			Window:                 15 * time.Minute,
			AccountFailures:        100,
			AccountWindow:          24 * time.Hour,
		},
		Keys: Keys{
			Algorithm:   "EdDSA",
			RotateEvery: 30 * 24 * time.Hour,
			PrePublish:  24 * time.Hour,
			RetireAfter: 24 * time.Hour,
			JWKSMaxAge:  10 * time.Minute,
		},
		Revocations: Revocations{MaxAge: 30 * time.Second, Lifetime: 60 * time.Second},
		Passwords:   Passwords{BreachCheckTimeout: 3 * time.Second},
		Metrics:     true,
		LogLevel:    "info",
	}
}

// DevPublicURL is PublicURL in development mode when none is configured.
const DevPublicURL = "http://localhost:8080"

// Normalize fills the settings derived from others (PublicURL in development,
// Issuer, Audience) and trims spelling variations. Validate calls it.
func (c *Config) Normalize() {
	c.PublicURL = strings.TrimRight(strings.TrimSpace(c.PublicURL), "/")
	if c.PublicURL == "" && c.Dev {
		c.PublicURL = DevPublicURL
	}
	if c.Issuer == "" {
		c.Issuer = c.PublicURL
	}
	if c.Audience == "" {
		c.Audience = c.PublicURL
	}
	c.Cookies.Domain = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(c.Cookies.Domain)), ".")
	c.Cookies.SameSite = strings.ToLower(strings.TrimSpace(c.Cookies.SameSite))
	c.LogLevel = strings.ToLower(strings.TrimSpace(c.LogLevel))
	for i, o := range c.AllowedOrigins {
		c.AllowedOrigins[i] = strings.TrimRight(strings.TrimSpace(o), "/")
	}
}

// MetricsOnPublicListener reports whether /metrics is served on Listen: only in
// development mode without an OpsListen (production keeps it off the public listener).
func (c *Config) MetricsOnPublicListener() bool { return c.Metrics && c.Dev && c.OpsListen == "" }

// Secure reports whether cookies carry the Secure attribute: always, except in
// development mode over plain HTTP.
func (c *Config) Secure() bool {
	u, err := url.Parse(c.PublicURL)
	return !(c.Dev && err == nil && u.Scheme == "http")
}

// PublicOrigin is PublicURL's origin (scheme://host[:port]) as browsers send it in an
// Origin header: host in lower case, the scheme's default port omitted.
func (c *Config) PublicOrigin() string { return browserOrigin(c.PublicURL) }

// browserOrigin is origin s as browsers serialise it (weborigin.Parse), "" when s is
// not one.
func browserOrigin(s string) string {
	o, err := weborigin.Parse(s)
	if err != nil {
		return ""
	}
	return o
}

// Origins is the allow-list for state-changing requests: PublicURL's origin and
// AllowedOrigins, each as browsers send it (PublicOrigin) and, when that differs, as
// configured (a non-browser client may copy the configured spelling).
func (c *Config) Origins() []string {
	var out []string
	add := func(o string) {
		if o != "" && !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	add(c.PublicOrigin())
	if u, err := url.Parse(c.PublicURL); err == nil {
		add(u.Scheme + "://" + u.Host)
	}
	for _, o := range c.AllowedOrigins {
		add(browserOrigin(o))
		add(o)
	}
	return out
}

// AccessCookie is the access cookie's spec. It lives as long as the session (the JWT
// inside has its own short exp), so an edge can tell "expired: refresh" from "no
// session: log in": MaxAge is the absolute lifetime, which the handler shortens to the
// time the session has left.
func (c *Config) AccessCookie() cookies.Spec {
	return c.cookie(c.Cookies.AccessName, "/")
}

// RefreshCookie is the refresh cookie's spec, scoped to RefreshPath. It lives as
// long as an idle session (each refresh sets it again), never past the session's
// absolute expiry (the handler shortens MaxAge then).
func (c *Config) RefreshCookie() cookies.Spec {
	s := c.cookie(c.Cookies.RefreshName, c.Cookies.RefreshPath)
	s.MaxAge = c.Sessions.IdleTimeout
	return s
}

func (c *Config) cookie(name, path string) cookies.Spec {
	ss, ok := cookies.ParseSameSite(c.Cookies.SameSite)
	if !ok {
		ss = http.SameSiteLaxMode
	}
	s := cookies.Spec{
		Name:     name,
		Path:     path,
		Domain:   c.Cookies.Domain,
		Secure:   c.Secure(),
		SameSite: ss,
		MaxAge:   c.Sessions.AbsoluteLifetime,
	}
	switch {
	case !s.Secure:
		// Development over plain HTTP: browsers drop prefixed cookies without Secure.
	case s.Domain == "" && s.Path == "/":
		s.Name = cookies.HostPrefix + name
	default:
		s.Name = cookies.SecurePrefix + name
	}
	return s
}

// KEKBytes decodes Keys.KEK (standard or URL base64, padded or not). In development
// mode without a KEK it returns DevKEK.
func (c *Config) KEKBytes() ([]byte, error) {
	if c.Keys.KEK == "" {
		if c.Dev {
			return DevKEK(), nil
		}
		return nil, errors.New("config: keys.kek is not set")
	}
	k, err := decodeKEK(c.Keys.KEK)
	if err != nil {
		return nil, errors.New("config: keys.kek " + err.Error())
	}
	return k, nil
}

// PreviousKEKBytes decodes Keys.PreviousKEKs (each like Keys.KEK). Errors name the
// entry by its position, never its value.
func (c *Config) PreviousKEKBytes() ([][]byte, error) {
	var out [][]byte
	for i, s := range c.Keys.PreviousKEKs {
		k, err := decodeKEK(s)
		if err != nil {
			return nil, errors.New("config: keys.previous_keks: " + previousKEKEntry(i, len(c.Keys.PreviousKEKs)) + " " + err.Error())
		}
		out = append(out, k)
	}
	return out, nil
}

func previousKEKEntry(i, n int) string { return "entry " + itoa(i+1) + " of " + itoa(n) }

// DevKEK is the development key-encryption key: derived from a public string, so
// it protects nothing, but stable across restarts so keys stored by one development
// run decrypt in the next. cmd/edgeauth warns loudly whenever it is used.
func DevKEK() []byte {
	k := sha256.Sum256([]byte("edgeauth development KEK - public, protects nothing"))
	return k[:]
}

// decodeKEK decodes a key-encryption key. Its errors say what is wrong without the
// value (a secret), for the caller to prefix with the key's name.
func decodeKEK(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("is empty")
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != 32 {
				return nil, errors.New("must decode to 32 bytes")
			}
			return b, nil
		}
	}
	return nil, errors.New("is not base64")
}

// Problem is one thing wrong with a configuration.
type Problem struct {
	// Key is the configuration key (e.g. "cookies.same_site").
	Key string
	// Message says what is wrong; Fix says how to fix it.
	Message, Fix string
}

// ValidationError lists every problem Validate found.
type ValidationError struct{ Problems []Problem }

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("invalid configuration (")
	b.WriteString(itoa(len(e.Problems)))
	if len(e.Problems) == 1 {
		b.WriteString(" problem):")
	} else {
		b.WriteString(" problems):")
	}
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p.Key)
		b.WriteString(": ")
		b.WriteString(p.Message)
		if p.Fix != "" {
			b.WriteString(". Fix: ")
			b.WriteString(p.Fix)
		}
	}
	return b.String()
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var d []byte
	for ; n > 0; n /= 10 {
		d = append([]byte{byte('0' + n%10)}, d...)
	}
	return string(d)
}

// Validate normalizes c and checks it, returning a *ValidationError with every
// problem found, or nil.
func (c *Config) Validate() error {
	c.Normalize()
	var p problems
	c.checkListeners(&p)
	publicHost := c.checkPublicURL(&p)
	c.checkIdentity(&p)
	c.checkCookies(&p, publicHost)
	c.checkSessions(&p)
	c.checkThrottle(&p)
	c.checkKeys(&p)
	c.checkRevocations(&p)
	c.checkPasswords(&p)
	c.checkSecondFactor(&p)
	if len(p) == 0 {
		return nil
	}
	return &ValidationError{Problems: p}
}

// problems collects what Validate finds.
type problems []Problem

func (p *problems) add(key, msg, fix string) { *p = append(*p, Problem{key, msg, fix}) }

func (p *problems) inRange(key string, d, lo, hi time.Duration, why string) {
	if d < lo || d > hi {
		p.add(key, d.String()+" is out of range "+lo.String()+" .. "+hi.String(), why)
	}
}

// checkListeners checks listen and ops_listen.
func (c *Config) checkListeners(p *problems) {
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		p.add("listen", "not a host:port address ("+err.Error()+")", `use e.g. "127.0.0.1:8080" or ":8080"`)
	}
	if c.OpsListen != "" {
		if _, _, err := net.SplitHostPort(c.OpsListen); err != nil {
			p.add("ops_listen", "not a host:port address ("+err.Error()+")", `use e.g. "127.0.0.1:9090", or leave it empty`)
		} else if c.OpsListen == c.Listen {
			p.add("ops_listen", "same address as listen", "give the operations endpoints an address of their own, e.g. 127.0.0.1:9090")
		}
	}
}

// checkPublicURL checks public_url, which also decides whether cookies can be Secure,
// and returns its host, case-folded as browsers compare hosts ("" when unusable).
func (c *Config) checkPublicURL(p *problems) (publicHost string) {
	u, err := url.Parse(c.PublicURL)
	switch {
	case c.PublicURL == "":
		p.add("public_url", "not set", "set it to the https origin browsers use, e.g. https://auth.example.com (or run with --dev for http://localhost:8080)")
	case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
		p.add("public_url", "not an http(s) URL: "+redact.URL(c.PublicURL), "use e.g. https://auth.example.com")
	case u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		p.add("public_url", "must be an origin without path, query or credentials", "use scheme://host[:port] only")
	case strings.ContainsFunc(u.Host, func(r rune) bool { return r >= 0x80 }):
		// Browsers send an internationalised host in its ASCII form (Origin, Host), so
		// the origin check would refuse every browser request.
		fix := "write the host in its ASCII (xn--) form"
		if a, err := idna.Lookup.ToASCII(u.Hostname()); err == nil {
			fix += ", e.g. " + u.Scheme + "://" + a
		}
		p.add("public_url", "the host is not ASCII: browsers send its xn-- form", fix)
	case !exactOrigin(c.PublicURL):
		p.add("public_url", "not an origin browsers can send: "+redact.URL(c.PublicURL), "use scheme://host[:port] with a host name or IP address, e.g. https://auth.example.com")
	default:
		publicHost = strings.ToLower(u.Hostname()) // cookies.domain is compared folded (Normalize)
		if u.Scheme == "http" && !c.Dev {
			p.add("public_url", "plain http in production: Secure cookies would never be sent back, so no one could stay logged in",
				"serve the control plane over https (TLS at the proxy is fine), or set dev: true (--dev) for local development only")
		}
	}
	return publicHost
}

// checkIdentity checks issuer, audience, database_url, database_pool_size, allowed_origins,
// login_path and log_level.
func (c *Config) checkIdentity(p *problems) {
	if c.Issuer == "" {
		p.add("issuer", "empty", "set issuer (defaults to public_url)")
	}
	if c.Audience == "" {
		p.add("audience", "empty", "set audience (defaults to public_url)")
	}
	if c.DatabaseURL == "" {
		p.add("database_url", "not set", "set it to a PostgreSQL URL, e.g. postgres://user@host:5432/edgeauth")
	} else if _, err := pgxpool.ParseConfig(c.DatabaseURL); err != nil {
		p.add("database_url", "not a valid PostgreSQL URL", "use postgres://user[:password]@host:port/database")
	}
	if c.DatabasePoolSize < 0 || c.DatabasePoolSize > MaxPoolSize {
		p.add("database_pool_size", "out of range 0.."+itoa(MaxPoolSize)+": "+itoa(max(c.DatabasePoolSize, 0)),
			"use 0 to size the pool from the machine, or at most the server's max_connections divided by the replicas")
	}
	for _, o := range c.AllowedOrigins {
		if !exactOrigin(o) {
			p.add("allowed_origins", "not an exact origin: "+redact.URL(o), "list exact origins like https://app.example.com (no wildcards, no path)")
		}
	}
	if lp := c.LoginPath; !verifier.EndpointPath(lp) {
		// Edges check the login, refresh and logout paths of the published
		// configuration as canonical paths without a query, and refuse it otherwise.
		p.add("login_path", "must be a same-site canonical path without query (no '//', dot segments, spaces or encoded '/'; at most 1024 bytes): "+quote(lp),
			`use e.g. "/login"`)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		p.add("log_level", "must be debug, info, warn or error, not "+quote(c.LogLevel), "use info")
	}
}

// checkCookies checks the cookies.* keys.
func (c *Config) checkCookies(p *problems, publicHost string) {
	secure := c.Secure()
	ss, ok := cookies.ParseSameSite(c.Cookies.SameSite)
	if !ok {
		p.add("cookies.same_site", "must be lax, strict or none, not "+quote(c.Cookies.SameSite), "use lax (default) unless you know you need another")
	} else if ss == http.SameSiteNoneMode && !secure {
		p.add("cookies.same_site", "none without Secure: browsers reject such cookies", "use lax, or serve over https")
	}
	for _, kn := range [][2]string{{"cookies.access_name", c.Cookies.AccessName}, {"cookies.refresh_name", c.Cookies.RefreshName}} {
		key, name := kn[0], kn[1]
		switch {
		case !validCookieName(name):
			p.add(key, "not a valid cookie name: "+quote(name), "use letters, digits, '_' and '-'")
		case strings.HasPrefix(strings.ToLower(name), "__host-") || strings.HasPrefix(strings.ToLower(name), "__secure-"):
			p.add(key, "includes a prefix; prefixes are derived", "give the bare name (e.g. edgeauth_at): __Host- is added for Path=/ without Domain, __Secure- otherwise")
		}
	}
	if c.Cookies.AccessName == c.Cookies.RefreshName {
		p.add("cookies.refresh_name", "same as cookies.access_name", "give the two cookies different names")
	}
	if rp := c.Cookies.RefreshPath; !strings.HasPrefix(rp, "/") || strings.ContainsAny(rp, ";,\\ \t\r\n") {
		p.add("cookies.refresh_path", "not a cookie path: "+quote(rp), `use "/auth" (default) or "/"`)
	} else {
		for _, ep := range RefreshCookieEndpoints {
			if !cookiePathMatches(rp, ep) {
				p.add("cookies.refresh_path", quote(rp)+" does not cover "+ep+", so browsers would not send the refresh cookie there",
					`use "/auth" (default) or "/": the path must cover `+strings.Join(RefreshCookieEndpoints, " and "))
				break
			}
		}
	}
	if d := c.Cookies.Domain; d != "" {
		// No Secure case: a Domain cookie is __Secure- only when Secure; in development
		// over plain HTTP it has no prefix (cookie), which browsers accept with a Domain.
		switch {
		case strings.ContainsAny(d, "/: ") || !strings.Contains(d, "."):
			p.add("cookies.domain", "not a registrable parent domain: "+quote(d), "use the parent shared by app and API, e.g. example.com")
		case isIP(d) || isIP(publicHost):
			p.add("cookies.domain", "cookies for IP addresses cannot have a Domain", "unset cookies.domain, or use host names")
		case (&http.Cookie{Name: "n", Domain: d}).Valid() != nil || strings.HasSuffix(d, "."):
			// net/http drops a Domain it cannot write (the cookie would go out host-only
			// while the edge configuration names the Domain), and edges refuse one that
			// is not ASCII letters, digits, '-' and '.' in non-empty labels.
			p.add("cookies.domain", "not a host name a Set-Cookie Domain can carry: "+quote(d),
				"use ASCII labels of letters, digits and '-' (international names in their xn-- form), without a trailing dot")
		case publicSuffixOf(d) == d:
			p.add("cookies.domain", d+" is a public suffix: browsers refuse cookies for it",
				"set cookies.domain to the registrable parent shared by app and API, e.g. example.co.uk, or unset it")
		case publicHost != "" && publicHost != d && !strings.HasSuffix(publicHost, "."+d):
			p.add("cookies.domain", d+" is not a parent of public_url's host "+publicHost+"; the browser would reject the cookie",
				"set cookies.domain to a suffix of "+publicHost+", or unset it for __Host- cookies on that host alone")
		}
	}
}

// checkSessions checks the sessions.* lifetimes.
func (c *Config) checkSessions(p *problems) {
	s := c.Sessions
	p.inRange("sessions.access_ttl", s.AccessTTL, time.Minute, time.Hour, "keep access tokens short: revocation reaches tokens at the edge only via the list")
	p.inRange("sessions.absolute_lifetime", s.AbsoluteLifetime, time.Hour, 400*24*time.Hour, "browsers cap cookie lifetimes at 400 days")
	p.inRange("sessions.idle_timeout", s.IdleTimeout, s.AccessTTL, s.AbsoluteLifetime, "the idle timeout lies between sessions.access_ttl and sessions.absolute_lifetime")
	p.inRange("sessions.recent_login", s.RecentLogin, time.Minute, s.AbsoluteLifetime, "minutes: ending the other sessions asks a session older than this to sign in again; the absolute lifetime never asks")
	p.inRange("sessions.refresh_grace", s.RefreshGrace, 0, 2*time.Minute, "seconds cover tabs refreshing at once and a retried refresh whose answer was lost; a replay only ever yields the tokens the client already holds")
}

// checkThrottle checks the throttle.* keys.
func (c *Config) checkThrottle(p *problems) {
	th := c.Throttle
	if th.AccountAddressFailures < 1 || th.AccountAddressFailures > 1000 {
		p.add("throttle.account_address_failures", "out of range 1..1000: "+itoa(max(th.AccountAddressFailures, 0)), "use e.g. 5")
	}
	if th.AddressFailures < 1 || th.AddressFailures > 100000 {
		p.add("throttle.address_failures", "out of range 1..100000: "+itoa(max(th.AddressFailures, 0)), "use e.g. 20")
	}
	if th.AccountFailures < max(th.AccountAddressFailures, 1) || th.AccountFailures > 100000 {
		p.add("throttle.account_failures", "out of range "+itoa(max(th.AccountAddressFailures, 1))+"..100000 (at least throttle.account_address_failures): "+itoa(max(th.AccountFailures, 0)),
			"use e.g. 100: a ceiling for guesses from many addresses, well above one address's budget")
	}
	p.inRange("throttle.window", th.Window, time.Second, 24*time.Hour, "use e.g. 15m")
	p.inRange("throttle.account_window", th.AccountWindow, max(th.Window, time.Second), 30*24*time.Hour, "use e.g. 24h (not shorter than throttle.window)")
}

// checkKeys checks the keys.* keys and how they fit the token lifetimes.
func (c *Config) checkKeys(p *problems) {
	k := c.Keys
	switch k.Algorithm {
	case "EdDSA", "ES256", "RS256":
	default:
		p.add("keys.algorithm", "must be EdDSA, ES256 or RS256, not "+quote(k.Algorithm), "use EdDSA (default, fastest at the edge)")
	}
	if k.KEK == "" {
		if !c.Dev {
			p.add("keys.kek", "not set: private signing keys would be stored unencrypted",
				"generate one with `head -c 32 /dev/urandom | base64` and set EDGEAUTH_KEYS__KEK (keep it in your secret store)")
		}
	} else if _, err := decodeKEK(k.KEK); err != nil {
		p.add("keys.kek", err.Error(), "generate one with `head -c 32 /dev/urandom | base64`")
	}
	for i, prev := range k.PreviousKEKs {
		if _, err := decodeKEK(prev); err != nil {
			p.add("keys.previous_keks", previousKEKEntry(i, len(k.PreviousKEKs))+" "+err.Error(),
				"list the KEKs that sealed keys before keys.kek, each as keys.kek was written (32 bytes, base64)")
		}
	}
	p.inRange("keys.jwks_max_age", k.JWKSMaxAge, time.Minute, 24*time.Hour, "use e.g. 10m")
	if k.PrePublish <= k.JWKSMaxAge+KeyReloadEvery {
		p.add("keys.pre_publish", "must exceed keys.jwks_max_age ("+k.JWKSMaxAge.String()+") plus the key reload interval ("+KeyReloadEvery.String()+"), or an edge with a cached JWKS meets tokens signed by a key it does not know",
			"set keys.pre_publish to at least "+(2*k.JWKSMaxAge+KeyReloadEvery).String()+" (twice keys.jwks_max_age plus the reload interval)")
	}
	if k.RotateEvery <= k.PrePublish {
		p.add("keys.rotate_every", "must exceed keys.pre_publish ("+k.PrePublish.String()+")", "rotate less often, e.g. 720h")
	}
	if need := c.MaxTokenLifetime() + KeyReloadEvery; k.RetireAfter < need {
		p.add("keys.retire_after", "shorter than the longest token lifetime plus reload ("+need.String()+"): tokens signed by a retired key would fail before they expire",
			"set keys.retire_after to at least "+need.String())
	}
}

// checkRevocations checks the revocations.* keys.
func (c *Config) checkRevocations(p *problems) {
	p.inRange("revocations.lifetime", c.Revocations.Lifetime, time.Minute, 5*time.Minute, "the list format allows 60 s .. 300 s")
	p.inRange("revocations.max_age", c.Revocations.MaxAge, time.Second, 5*time.Minute, "a logout reaches edges within this time; keep it short")
	if c.Revocations.MaxAge >= c.Revocations.Lifetime {
		p.add("revocations.max_age", "must be shorter than revocations.lifetime ("+c.Revocations.Lifetime.String()+"), or caches could serve an expired list",
			"use e.g. half the lifetime")
	}
}

// checkPasswords checks the passwords.* keys.
func (c *Config) checkPasswords(p *problems) {
	if u := c.Passwords.BreachCheckURL; u != "" {
		if err := breached.CheckURL(u); err != nil {
			p.add("passwords.breach_check_url", strings.TrimPrefix(err.Error(), "breached: "), "use https://api.pwnedpasswords.com, or leave it empty for no breach check")
		}
	}
	p.inRange("passwords.breach_check_timeout", c.Passwords.BreachCheckTimeout, 100*time.Millisecond, 30*time.Second, "signups and password changes wait this long at most")
}

// checkSecondFactor checks second_factor.required_for: role names as accounts carry
// them (auth.Accounts.SetRoles), or "*".
func (c *Config) checkSecondFactor(p *problems) {
	for _, r := range c.SecondFactor.RequiredFor {
		if r == "" || strings.ContainsRune(r, ',') || strings.TrimSpace(r) != r || strings.ContainsFunc(r, unicode.IsControl) {
			p.add("second_factor.required_for", fmt.Sprintf("%q is not a role name", r), `list role names (no commas, no spaces at either end), or "*" for every account`)
		}
	}
}

// publicSuffixOf is d's public suffix by the Public Suffix List browsers use (ICANN and
// private entries: co.uk, herokuapp.com, github.io).
func publicSuffixOf(d string) string {
	ps, _ := publicsuffix.PublicSuffix(d)
	return ps
}

// exactOrigin reports whether o is one origin an Origin header can carry
// (weborigin.Parse): http(s)://host[:port] with a host name or IP literal and a port in
// 1..65535, nothing else. A wildcard ("https://*.example.com") is not one: it would
// match no request.
func exactOrigin(o string) bool {
	_, err := weborigin.Parse(o)
	return err == nil
}

func quote(s string) string { return `"` + s + `"` }

func isIP(h string) bool {
	_, err := netip.ParseAddr(strings.Trim(h, "[]"))
	return h != "" && err == nil
}

func validCookieName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

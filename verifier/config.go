package verifier

// Config is the gate's configuration: what the edge must agree on with the control
// plane (EdgeConfig, published by the control plane) and the edge's own rules
// (LocalConfig). Hosts marshal it to JSON for Engine.Configure; the module parses that
// JSON with its own strict parser (unknown fields are errors). The two halves are
// embedded, so the JSON is one flat object (verifier/ABI.md, "configure").
type Config struct {
	EdgeConfig
	LocalConfig
}

// EdgeConfig is what an edge must agree on with the control plane that issues its
// tokens and sets its cookies. The control plane derives it from its own configuration
// and publishes it at /.well-known/edgeauth/edge-config (and prints it with
// `edgeauth edge-config`); an edge starts from that document instead of repeating its
// values by hand.
type EdgeConfig struct {
	Issuer   string `json:"issuer"`
	Audience string `json:"audience"`
	// Algorithms allowed for access tokens; default ["EdDSA"].
	Algorithms []string `json:"algorithms,omitempty"`
	// LeewaySeconds tolerated on exp, nbf and iat (0..300). It is always written, 0
	// included: with omitempty a leeway of 0 was published as no member at all, which
	// a reader with a default of its own (sessionauth's 1 min) took for that default.
	// A document without the member still means 0, as the gate has always read it
	// (every earlier writer omitted it only for 0), and as every reader here reads it.
	LeewaySeconds int64 `json:"leeway_seconds"`

	AccessCookie  Cookie `json:"access_cookie"`
	RefreshCookie Cookie `json:"refresh_cookie"`

	// LoginPath is where unauthenticated browsers are sent, with ?return_to=.
	LoginPath string `json:"login_path"`
	// RefreshPath is the control plane's GET refresh endpoint, with ?return_to=.
	RefreshPath string `json:"refresh_path"`
	// LogoutPath is the control plane's logout endpoint (POST). Optional; when set it
	// must not need a token (a browser with an expired token must still be able to
	// sign out), and the gate never adds clearing cookies to its responses.
	LogoutPath string `json:"logout_path,omitempty"`
}

// LocalConfig holds the rules an edge adds to the control plane's EdgeConfig: which
// of its paths need a token and which roles, where a signed-in user who opens the
// login page goes, the token cache, and whether API clients may send bearer tokens.
type LocalConfig struct {
	// AllowBearer lets an "Authorization: Bearer" header stand in for the cookie
	// (API clients); off by default.
	AllowBearer bool `json:"allow_bearer,omitempty"`
	// AfterLoginPath is where a signed-in user who opens the login page is sent.
	AfterLoginPath string `json:"after_login_path,omitempty"`
	// PublicPaths are exact paths, or prefixes when they end in "/" ("/" alone is the
	// home page only), that need no token. The longest matching rule wins; on a tie
	// the protected rule wins. Paths that are not canonical are never public.
	PublicPaths []string `json:"public_paths,omitempty"`
	// Protected lists prefixes that need a valid token and, optionally, roles (any
	// one of them suffices) and a sign-in with a second factor.
	Protected []ProtectedRoute `json:"protected,omitempty"`
	// DefaultProtected decides paths no rule matches (true: they need a token).
	DefaultProtected bool `json:"default_protected,omitempty"`
	// CacheEntries bounds the verified-token cache (0 disables it).
	CacheEntries int `json:"cache_entries,omitempty"`
}

// ProtectedRoute is one protected path prefix.
type ProtectedRoute struct {
	Prefix string   `json:"prefix"`
	Roles  []string `json:"roles,omitempty"`
	// MFA asks for a token whose sign-in used a second factor (its amr claim lists
	// "mfa"); a token without one is denied (403, reason mfa_required).
	MFA bool `json:"mfa,omitempty"`
}

// Cookie names a cookie and the attributes it was set with, so that the gate can
// clear it with exactly those attributes (a browser ignores a clearing cookie whose
// Path or Domain differ).
type Cookie struct {
	Name     string `json:"name"`
	Path     string `json:"path,omitempty"`
	Domain   string `json:"domain,omitempty"`
	Secure   bool   `json:"secure,omitempty"`
	HTTPOnly bool   `json:"http_only,omitempty"`
	SameSite string `json:"same_site,omitempty"` // Strict, Lax or None
}

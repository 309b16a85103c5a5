package config

import (
	"encoding/json"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/cookies"
	"github.com/edgeauth/edgeauth/verifier"
)

// Endpoints of the control plane that edges send browsers to (registered by httpapi).
const (
	RefreshEndpoint = "/auth/refresh"
	LogoutEndpoint  = "/auth/logout"
)

// EdgeAlgorithms are the algorithms an edge accepts for access tokens: every one the
// control plane can sign with, as its own token check does. A key names its one
// algorithm, so the list widens nothing for a key set that holds no key of an
// algorithm; a narrower list would sign users out while keys.algorithm changes and
// tokens of the previous key are still live.
var EdgeAlgorithms = []string{"EdDSA", "ES256", "RS256"}

// EdgeConfig is what every edge in front of this control plane must agree with:
// issuer, audience, algorithms, leeway, both cookie descriptions (exactly the
// attributes Set-Cookie uses, so an edge can clear them) and the login, refresh and
// logout paths. The control plane publishes it at /.well-known/edgeauth/edge-config
// and `edgeauth edge-config` prints it; an edge adds only its route rules. c must have
// passed Validate.
func (c *Config) EdgeConfig() verifier.EdgeConfig {
	return verifier.EdgeConfig{
		Issuer:        c.Issuer,
		Audience:      c.Audience,
		Algorithms:    append([]string(nil), EdgeAlgorithms...),
		LeewaySeconds: int64(Leeway / time.Second),
		AccessCookie:  edgeCookie(c.AccessCookie()),
		RefreshCookie: edgeCookie(c.RefreshCookie()),
		LoginPath:     c.LoginPath,
		RefreshPath:   RefreshEndpoint,
		LogoutPath:    LogoutEndpoint,
	}
}

func edgeCookie(s cookies.Spec) verifier.Cookie {
	c := s.Cookie("")
	return verifier.Cookie{Name: c.Name, Path: c.Path, Domain: c.Domain, Secure: c.Secure, HTTPOnly: c.HttpOnly,
		SameSite: cookies.SameSiteName(c.SameSite)}
}

// EdgeConfigDocument is EdgeConfig as published: indented JSON and a final newline.
// The server and `edgeauth edge-config` write these same bytes.
func (c *Config) EdgeConfigDocument() []byte {
	b, err := json.MarshalIndent(c.EdgeConfig(), "", "  ")
	if err != nil {
		panic("config: encoding the edge configuration: " + err.Error()) // plain strings and ints cannot fail
	}
	return append(b, '\n')
}

package httpapi

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
)

var edgeConfigType = []string{"application/json"}

// initEdgeConfig builds the published edge configuration once: it depends only on the
// configuration, which does not change while the server runs.
func (s *Server) initEdgeConfig() {
	s.edgeConfig = s.cfg.EdgeConfigDocument()
	sum := sha256.Sum256(s.edgeConfig)
	s.edgeConfigETag = `"` + base64.RawURLEncoding.EncodeToString(sum[:]) + `"`
}

// serveEdgeConfig publishes what every edge must agree with (config.EdgeConfig), cached
// like the JWKS: an edge polls it beside the keys and follows a change.
func (s *Server) serveEdgeConfig(w http.ResponseWriter, r *http.Request) error {
	serveCached(w, r, s.edgeConfig, s.edgeConfigETag, s.jwksCache, edgeConfigType)
	return nil
}

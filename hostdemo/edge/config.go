package edge

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/edgeauth/edgeauth/internal/redact"
	"github.com/edgeauth/edgeauth/sessionauth"
	"github.com/edgeauth/edgeauth/verifier"
	"github.com/go-json-experiment/json"
)

// maxDocument bounds what is read of the edge configuration.
const maxDocument = 1 << 20

// EdgeConfigPath is where the control plane publishes the edge configuration
// (verifier.EdgeConfig), relative to its base URL.
const EdgeConfigPath = "/.well-known/edgeauth/edge-config"

// Configurator keeps an Engine configured with the control plane's edge configuration
// (issuer, audience, algorithms, cookies, login and refresh paths) plus this edge's
// own rules, so the edge never repeats the control plane's values by hand. It is not
// safe for concurrent use: one goroutine syncs it.
type Configurator struct {
	// URL is the control plane's edge configuration document (base URL +
	// EdgeConfigPath).
	URL string
	// Local holds this edge's route rules.
	Local  verifier.LocalConfig
	Engine verifier.Engine
	// Source, when it feeds Engine (sessionauth.SourceConfig.Engine), configures it
	// (Source.ConfigureEngine): a new configuration (another issuer) can make the
	// engine drop its revocation list, and the source must not report fresh meanwhile.
	Source *sessionauth.Source
	// Client fetches the document (default http.DefaultClient; give it a timeout).
	Client *http.Client

	etag string
}

// Sync fetches the edge configuration (with If-None-Match) and, when it changed,
// configures the engine with it and Local. It reports whether the engine was
// configured anew. A document with members this edge does not know is refused rather
// than half applied: the control plane is newer than this edge, which must be updated.
func (c *Configurator) Sync(ctx context.Context) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL, nil)
	if err != nil {
		return false, err
	}
	if c.etag != "" {
		req.Header.Set("If-None-Match", c.etag)
	}
	client := c.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, fmt.Errorf("edge: edge configuration: %w", redact.Error(err)) // it quotes c.URL, query and all
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotModified:
		return false, nil
	case http.StatusOK:
	default:
		return false, fmt.Errorf("edge: edge configuration: GET %s: %s", redact.URL(c.URL), resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
	if err != nil {
		return false, fmt.Errorf("edge: edge configuration: %w", err)
	}
	if len(body) > maxDocument {
		return false, fmt.Errorf("edge: edge configuration: GET %s: document larger than %d bytes", redact.URL(c.URL), maxDocument)
	}
	// JSON v2: names matched exactly, no member twice, nothing after the document, as
	// the module reads it at the JS edge (encoding/json would take the last of two
	// spellings of "issuer").
	var ec verifier.EdgeConfig
	if err := json.Unmarshal(body, &ec, json.RejectUnknownMembers(true)); err != nil {
		return false, fmt.Errorf("edge: edge configuration from %s: %w (is this edge older than the control plane?)", redact.URL(c.URL), err)
	}
	cfg := verifier.Config{EdgeConfig: ec, LocalConfig: c.Local}
	if c.Source != nil {
		// An error after the engine took the configuration (no revocation list could
		// be fetched for it) leaves the source stale, and the ETag unrecorded: the
		// next Sync applies the document again.
		err = c.Source.ConfigureEngine(ctx, cfg)
	} else {
		err = c.Engine.Configure(ctx, cfg)
	}
	if err != nil {
		return false, fmt.Errorf("edge: the control plane's edge configuration with this edge's rules: %w", err)
	}
	c.etag = resp.Header.Get("ETag")
	return true, nil
}

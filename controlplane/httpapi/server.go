// Package httpapi is the control plane's HTTP surface: the /auth endpoints (login,
// signup, refresh, logout, sessions, introspection), the published JWKS and
// revocation list, health, readiness and metrics.
//
// Handlers return error; one adapter renders errors as
// {"error":{"code":"...","message":"..."}} with the status declared in errors.go,
// checks CSRF on every state-changing request, sets security headers, and logs and
// measures each request (method, route, status, duration, request id: never a
// token, cookie or password). A handler's panic is answered with the JSON 500 and
// logged with its type and stack, never its value.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/config"
	"github.com/edgeauth/edgeauth/controlplane/cookies"
	"github.com/edgeauth/edgeauth/controlplane/metrics"
)

// Database is what readiness asks the database; *store.Store implements it.
type Database interface {
	Ping(ctx context.Context) error
	// SchemaVersion returns the database's schema version and the one this binary needs.
	SchemaVersion(ctx context.Context) (current, latest int32, err error)
}

// JWKSSource serves the published key set from memory (keys.Manager).
type JWKSSource interface {
	JWKS() (body []byte, etag string)
	// CheckFresh fails when the set was not reloaded recently enough for the
	// rotation timings to hold (keys.ErrStale).
	CheckFresh() error
}

// Server is the HTTP handler of the control plane. Build it with New.
type Server struct {
	cfg      config.Config
	deps     Deps
	log      *slog.Logger
	metrics  *metrics.Metrics
	mux      *http.ServeMux
	ops      *http.ServeMux // operations endpoints for their own listener (Ops)
	routes   []Route
	origins  map[string]bool
	access   cookies.Spec
	refresh  cookies.Spec
	now      func() time.Time
	verifier *tokenVerifier
	// Cache-Control values of the published documents.
	jwksCache, revocationsCache []string
	// edgeConfig is the published edge configuration (JSON) and its ETag.
	edgeConfig     []byte
	edgeConfigETag string
	// staticHeaders are set on every response (security headers, no-store).
	staticHeaders http.Header
	// streams counts the open revocation streams.
	streams atomic.Int64
	// requestTimeout bounds every request but the revocation stream (RequestTimeout).
	requestTimeout time.Duration
}

// Route is one registered endpoint.
type Route struct{ Method, Path string }

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// New builds the handler on the services in d. cfg must have passed Validate.
func New(d Deps, cfg config.Config) (*Server, error) {
	s := &Server{
		cfg:     cfg,
		deps:    d,
		log:     d.Logger,
		metrics: d.Metrics,
		mux:     http.NewServeMux(),
		ops:     http.NewServeMux(),
		origins: map[string]bool{},
		access:  cfg.AccessCookie(),
		refresh: cfg.RefreshCookie(),
		now:     d.Now,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.requestTimeout = RequestTimeout
	if cfg.Passwords.BreachCheckURL != "" {
		s.requestTimeout += cfg.Passwords.BreachCheckTimeout
	}
	s.jwksCache, s.revocationsCache = publicMaxAge(cfg.Keys.JWKSMaxAge), publicMaxAge(cfg.Revocations.MaxAge)
	s.staticHeaders = http.Header{}
	sh := s.staticHeaders
	sh.Set("X-Content-Type-Options", "nosniff")
	sh.Set("Referrer-Policy", "no-referrer")
	sh.Set("X-Frame-Options", "DENY")
	sh.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	sh.Set("Cross-Origin-Opener-Policy", "same-origin")
	sh.Set("Cache-Control", "no-store")
	if cfg.Secure() {
		sh.Set("Strict-Transport-Security", "max-age=63072000")
	}
	for k, v := range sh {
		sh[k] = v[:1:1]
	}
	for _, o := range cfg.Origins() {
		s.origins[o] = true
	}
	if err := s.init(); err != nil {
		return nil, err
	}
	s.initEdgeConfig()

	s.handle("GET /healthz", s.healthz)
	s.handle("GET /readyz", s.readyz)
	s.handleOps("GET /healthz", s.healthz)
	s.handleOps("GET /readyz", s.readyz)
	if s.metrics != nil && cfg.Metrics {
		serveMetrics := func(w http.ResponseWriter, r *http.Request) error {
			s.metrics.Handler().ServeHTTP(w, r)
			return nil
		}
		s.handleOps("GET /metrics", serveMetrics)
		if cfg.MetricsOnPublicListener() {
			s.handle("GET /metrics", serveMetrics)
		}
	}
	s.handle("GET /.well-known/jwks.json", s.jwks)
	s.handle("GET /.well-known/edgeauth/revocations", s.revocations)
	s.handleStream("GET /.well-known/edgeauth/revocations/stream", s.revocationStream)
	s.handle("GET /.well-known/edgeauth/edge-config", s.serveEdgeConfig)
	s.authRoutes()
	return s, nil
}

// Routes lists the endpoints of both handlers (ServeHTTP and Ops), sorted and without
// repeats (the OpenAPI test compares them with the document).
func (s *Server) Routes() []Route {
	out := append([]Route(nil), s.routes...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return slices.Compact(out)
}

// Ops is the handler of the operations listener (config ops_listen): /healthz, /readyz
// and, when metrics are on, /metrics. Only operators should reach it; the public
// handler (ServeHTTP) serves /metrics only in development without ops_listen.
func (s *Server) Ops() http.Handler { return s.ops }

// RequestTimeout bounds a request (the revocation stream's replay, not the stream):
// what it waits for is the database. One that stops answering (a host that hangs, or
// one a failover leaves behind with its connections open) refuses nothing and returns
// nothing, and would hold every request until its client gave up; past the bound the
// request is answered 503 unavailable with Retry-After, as while the database is down.
// It stays under the binary's WriteTimeout (30 s), past which no answer is written.
// A request that checks a password against the breach service may take that check's
// timeout longer (requestTimeout).
const RequestTimeout = 10 * time.Second

// handle registers pattern ("METHOD /path") on the public handler. State-changing
// methods get the CSRF check before the handler runs.
func (s *Server) handle(pattern string, h handlerFunc) {
	s.register(s.mux, pattern, h, s.requestTimeout)
}

// handleStream registers a long-lived pattern (the revocation stream), which bounds
// what it waits for itself.
func (s *Server) handleStream(pattern string, h handlerFunc) {
	s.register(s.mux, pattern, h, 0)
}

// handleOps registers pattern on the operations handler.
func (s *Server) handleOps(pattern string, h handlerFunc) {
	s.register(s.ops, pattern, h, s.requestTimeout)
}

// register adds pattern to mux; timeout, when not 0, bounds each request's context.
func (s *Server) register(mux *http.ServeMux, pattern string, h handlerFunc, timeout time.Duration) {
	method, path, _ := strings.Cut(pattern, " ")
	s.routes = append(s.routes, Route{Method: method, Path: path})
	unsafe := method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
	mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if timeout > 0 {
			ctx, cancel := context.WithTimeout(r.Context(), timeout)
			defer cancel()
			r = r.WithContext(ctx)
		}
		var err error
		if unsafe {
			err = s.checkCSRF(r)
		}
		if err == nil {
			err = h(w, r)
		}
		if err != nil {
			s.renderError(w, r, err)
		}
	}))
}

// ServeHTTP runs the request through the mux with logging, metrics, a request id and
// security headers; the mux's own 404 and 405 answers are rendered as API errors, and
// a path the mux would redirect to its cleaned form is answered 404 (canonicalPath).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := requestID(r)
	_, pattern := s.mux.Handler(r)
	rec := &recorder{ResponseWriter: w, status: 0}
	h := w.Header()
	for k, v := range s.staticHeaders {
		h[k] = v // shared read-only slices: Set and Del replace, Add reallocates (cap 1)
	}
	h["X-Request-Id"] = []string{id}
	ctx := r.Context()
	canonical := canonicalPath(r)
	if !canonical {
		pattern = "" // the mux named the route of the cleaned path, which does not answer
	}
	if pattern == "" {
		rec.intercept = true
		if r.URL.Path == "/auth/refresh" {
			rec.allow = refreshAllow // the mux would name HEAD, which refreshGET refuses
		}
	}
	func() {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				// The type and the stack, never the value: a panic's value can carry
				// request data or a secret (a header, an error naming a token).
				s.log.Error("panic", "request_id", id, "panic_type", fmt.Sprintf("%T", p), "stack", string(debug.Stack()))
				if rec.status == 0 {
					s.renderError(rec, r, ErrInternal)
				}
			}
		}()
		if answered, err := s.cors(rec, r); answered {
			pattern = "preflight"
			if err != nil {
				rec.intercept = false
				s.renderError(rec, r, err)
			}
			return
		}
		if !canonical {
			rec.intercept = false
			s.renderError(rec, r, errNotCanonical)
			return
		}
		s.mux.ServeHTTP(rec, r)
	}()
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	route := pattern
	if route == "" {
		route = "unmatched"
	}
	d := time.Since(start)
	s.metrics.Request(route, r.Method, rec.status, d)
	attrs := []slog.Attr{
		slog.String("request_id", id), slog.String("method", metrics.Method(r.Method)), slog.String("route", route),
		slog.Int("status", rec.status), slog.Duration("duration", d),
	}
	if rec.code != "" {
		attrs = append(attrs, slog.String("code", rec.code))
	}
	if rec.cause != "" {
		attrs = append(attrs, slog.String("error", rec.cause))
	}
	lvl := slog.LevelInfo
	switch {
	case rec.code == "not_ready":
		// A readiness probe answered 503 is the probe doing its job (at startup, while
		// a connection comes back); what keeps the replica out logs its own error.
		lvl = slog.LevelWarn
	case rec.status >= 500:
		lvl = slog.LevelError
	}
	s.log.LogAttrs(ctx, lvl, "request", attrs...)
}

// errNotCanonical answers a path that is not in canonical form.
var errNotCanonical = ErrNotFound.with(nil, "no such endpoint: the path is not in canonical form (no //, . or .. segments)")

// canonicalPath reports whether the request's path is what ServeMux would route
// without redirecting: cleaned (no //, . or .. segments), a trailing slash aside. The
// mux answers any other path with a redirect to the cleaned one and an HTML body; the
// API answers it 404, as a path naming no endpoint, in its JSON shape. (CONNECT
// requests are routed as they are.)
func canonicalPath(r *http.Request) bool {
	p := r.URL.Path
	if r.Method == http.MethodConnect {
		return true
	}
	if p == "" || p[0] != '/' {
		return false
	}
	c := path.Clean(p)
	return c == p || c+"/" == p
}

// requestID keeps a client's X-Request-Id when it is short and plain, else makes one.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= 64 {
		ok := true
		for i := 0; i < len(id) && ok; i++ {
			c := id[i]
			ok = c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		}
		if ok {
			return id
		}
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// recorder remembers the status and the error code for the access log. With
// intercept set (no route matched), the mux's plain-text 404/405 becomes a JSON error.
type recorder struct {
	http.ResponseWriter
	status      int
	code, cause string
	intercept   bool
	swallow     bool
	// allow, when set, replaces the Allow header of an intercepted 405.
	allow string
}

func (r *recorder) WriteHeader(status int) {
	if r.status != 0 {
		return
	}
	if r.intercept && status >= 400 {
		e := ErrNotFound
		if status == http.StatusMethodNotAllowed {
			e = ErrMethodNotAllowed
		}
		r.intercept, r.swallow = false, true
		if r.allow != "" && status == http.StatusMethodNotAllowed {
			r.Header().Set("Allow", r.allow)
		}
		r.code = e.Code
		r.status = e.Status
		writeErrorBody(r.ResponseWriter, e)
		return
	}
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	if r.swallow {
		return len(b), nil
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// renderError writes err as an API error and notes its code and cause for the log.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	e := asAPIError(err)
	if rec, ok := w.(*recorder); ok {
		rec.code = e.Code
		if e.cause != nil {
			rec.cause = e.cause.Error()
		}
	}
	writeErrorBody(w, e)
}

func writeErrorBody(w http.ResponseWriter, e *Error) {
	h := w.Header()
	h.Del("Content-Length")
	h.Set("Cache-Control", "no-store")
	if e.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", challenge(e))
	}
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64((e.RetryAfter+time.Second-1)/time.Second), 10))
	}
	writeJSON(w, e.Status, map[string]any{"error": map[string]string{"code": e.Code, "message": e.Message}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// readyz answers 200 when the database answers, the signing keys were reloaded
// recently, the revocation list is being kept current (its listener connected, its exp
// not near) and the schema is the version this binary expects; 503 otherwise, with the
// reason as the error's message (a load balancer then keeps traffic away).
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if s.deps.Database == nil {
		return ErrNotReady.with(nil, "no database")
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.deps.Database.Ping(ctx); err != nil {
		return ErrNotReady.with(err, "database unreachable")
	}
	if f, ok := s.deps.Keys.(interface{ CheckFresh() error }); ok {
		if err := f.CheckFresh(); err != nil {
			return ErrNotReady.with(err, "signing keys not reloaded recently")
		}
	}
	if err := s.deps.Revocations.Ready(); err != nil {
		return ErrNotReady.with(err, err.Error())
	}
	cur, latest, err := s.deps.Database.SchemaVersion(ctx)
	if err != nil {
		return ErrNotReady.with(err, "cannot read the schema version")
	}
	switch {
	case cur > latest:
		return ErrNotReady.with(nil, "database schema at version "+strconv.Itoa(int(cur))+", newer than this binary (which knows up to "+strconv.Itoa(int(latest))+"): upgrade this replica")
	case cur < latest:
		return ErrNotReady.with(nil, "database schema at version "+strconv.Itoa(int(cur))+", this binary needs "+strconv.Itoa(int(latest))+": run `edgeauth migrate`")
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "schema_version": cur})
	return nil
}

// public marks an answer anyone may read from any site: Allow-Origin "*", and no
// Allow-Credentials, which cors gives an allowed origin's requests. A browser refuses
// "*" together with credentials, so the pair would fail the allowed origins' fetches
// of documents that need no credentials.
func public(h http.Header) {
	h["Access-Control-Allow-Origin"] = anyOrigin
	delete(h, "Access-Control-Allow-Credentials")
	h["Cross-Origin-Resource-Policy"] = crossOrigin
}

// serveCached writes a public document with an ETag and max-age, answering 304 when
// If-None-Match names the current ETag.
func serveCached(w http.ResponseWriter, r *http.Request, body []byte, etag string, cacheControl, contentType []string) {
	h := w.Header()
	h["Cache-Control"] = cacheControl
	h["Etag"] = []string{etag}
	public(h)
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h["Content-Type"] = contentType
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// Read-only header values shared by every response (see ServeHTTP).
var (
	anyOrigin   = []string{"*"}
	crossOrigin = []string{"cross-origin"}
	jwksType    = []string{"application/jwk-set+json"}
	jwtType     = []string{"application/jwt"}
)

func publicMaxAge(d time.Duration) []string {
	return []string{"public, max-age=" + strconv.Itoa(int(d/time.Second))}
}

// etagMatch implements If-None-Match's weak comparison over a list of tags.
func etagMatch(header, etag string) bool {
	trim := func(t string) string {
		if len(t) > 2 && t[:2] == "W/" {
			return t[2:]
		}
		return t
	}
	want := trim(etag)
	start := 0
	for i := 0; i <= len(header); i++ {
		if i == len(header) || header[i] == ',' {
			t := header[start:i]
			for len(t) > 0 && (t[0] == ' ' || t[0] == '\t') {
				t = t[1:]
			}
			for len(t) > 0 && (t[len(t)-1] == ' ' || t[len(t)-1] == '\t') {
				t = t[:len(t)-1]
			}
			if t == "*" || trim(t) == want {
				return true
			}
			start = i + 1
		}
	}
	return false
}

func (s *Server) jwks(w http.ResponseWriter, r *http.Request) error {
	body, etag := s.deps.Keys.JWKS()
	if len(body) == 0 {
		return ErrNotReady.with(nil, "no keys loaded")
	}
	if err := s.deps.Keys.CheckFresh(); err != nil {
		// Not reloaded for longer than the rotation timings allow: the set may lack a
		// key created since that is about to sign, and an edge would keep it for the
		// whole max-age. The edge asks again (another replica) meanwhile.
		e := ErrUnavailable.with(err, "signing keys not reloaded recently")
		e.RetryAfter = time.Second
		return e
	}
	serveCached(w, r, body, etag, s.jwksCache, jwksType)
	return nil
}

// Command hostdemo is a Go edge in front of a web app: it decides every request with
// verifier.wasm in wazero (or the same core natively), forwards /auth/ and
// /.well-known/ to the control plane, and keeps the verifier's configuration, keys and
// revocation list current from the control plane (keys and revocations through
// sessionauth.Source).
//
//	hostdemo --control-plane http://127.0.0.1:8080 --listen 127.0.0.1:8000
//
// The verifier's configuration is the control plane's edge configuration
// (/.well-known/edgeauth/edge-config: issuer, audience, cookies, login and refresh
// paths) plus this edge's route rules (--routes). Until the control plane has answered,
// the edge answers 503.
//
// WebSocket routes (--ws PATH=URL) are relayed to an upstream WebSocket server once
// the upgrade is authorized by the session (wsauth.Proxy: Origin allow-list, access
// cookie, identity headers) and the route rules hold for the identity it is authorized
// for (a socket under /admin/ needs role admin, like a page there:
// edge.Gate.RouteRules), and closed on both sides when
// the session ends: the edge
// holds the control plane's revocation stream, so a logout anywhere closes them at once.
//
// Without --upstream it serves a small demo app (a login page, public and protected
// pages that show the identity headers, a live chat over a WebSocket, "your devices").
// `make demo` runs it beside the control plane.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"path"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/edgeauth/edgeauth/hostdemo/demoapp"
	"github.com/edgeauth/edgeauth/hostdemo/edge"
	"github.com/edgeauth/edgeauth/internal/redact"
	"github.com/edgeauth/edgeauth/sessionauth"
	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/wasmhost"
	"github.com/edgeauth/edgeauth/wsauth"
	"github.com/go-json-experiment/json"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "hostdemo:", err)
		os.Exit(1)
	}
}

// fetchTimeout bounds every request to the control plane for documents.
const fetchTimeout = 10 * time.Second

func run() error {
	listen := flag.String("listen", "127.0.0.1:8000", "address to listen on")
	controlPlane := flag.String("control-plane", "http://127.0.0.1:8080", "control plane base URL")
	upstream := flag.String("upstream", "", "app to forward allowed requests to (default: the built-in demo app)")
	routesFile := flag.String("routes", "", "this edge's route rules: JSON with public_paths, protected, default_protected, after_login_path, cache_entries (default 1024; 0 turns the cache off), allow_bearer (verifier/ABI.md); default: /app/ for any signed-in user, /app/vault for a sign-in with a second factor, /admin/ for role admin, everything else public")
	engineName := flag.String("engine", "wasm", "wasm (verifier.wasm in wazero) or native")
	poll := flag.Duration("poll", 15*time.Second, "how often to fetch the edge configuration, the JWKS and the revocation list")
	maxStale := flag.Duration("max-stale", 10*time.Minute, "how long to use the last good keys while the control plane is unreachable before failing closed")
	readTimeout := flag.Duration("read-timeout", 30*time.Second, "longest time to read a request, body included: a client sending slower is cut off")
	writeTimeout := flag.Duration("write-timeout", 60*time.Second, "longest time to write a response")
	idleTimeout := flag.Duration("idle-timeout", 60*time.Second, "how long an idle keep-alive connection is kept open")
	upstreamTimeout := flag.Duration("upstream-timeout", 30*time.Second, "longest wait for the upstream's (or the control plane's) response headers; 502 after that")
	var wsFlags wsRouteFlag
	flag.Var(&wsFlags, "ws", "PATH=URL: relay WebSocket upgrades at PATH (a prefix when it ends in /) to the WebSocket server at URL (ws:// or wss://) once the session authorizes them; repeatable. Default with the built-in demo app: "+demoapp.LivePath+" to its chat")
	apiPrefixes := flag.String("api-prefixes", "", "comma-separated path prefixes of API routes (like /api/; a prefix is a path exactly unless it ends in /): a request there that needs sign-in gets 401 JSON instead of a redirect, and its refusals are JSON, as the JS edge's apiPrefixes")
	wsOrigins := flag.String("ws-origins", "", "comma-separated origins whose pages may open WebSockets with the session cookie (default: http:// and this edge's --listen address; on an unspecified address, its loopback names)")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cpURL, err := url.Parse(*controlPlane)
	if err != nil || cpURL.Scheme == "" || cpURL.Host == "" {
		return fmt.Errorf("--control-plane %q is not an absolute URL", redact.URL(*controlPlane))
	}
	wsRoutes, err := wsFlags.routes()
	if err != nil {
		return err
	}
	local, err := loadRoutes(*routesFile)
	if err != nil {
		return err
	}
	var engine verifier.Engine
	switch *engineName {
	case "wasm":
		if engine, err = wasmhost.NewEmbedded(ctx, wasmhost.Options{}); err != nil {
			return err
		}
	case "native":
		engine = verifier.NewNative()
	default:
		return fmt.Errorf("--engine must be wasm or native, not %q", *engineName)
	}
	defer engine.Close(context.Background())

	client := &http.Client{Timeout: fetchTimeout}
	source, err := sessionauth.NewSource(sessionauth.SourceConfig{
		ControlPlane: cpURL.String(), Engine: engine, PollEvery: *poll, MaxStale: *maxStale, Logger: log,
	})
	if err != nil {
		return err
	}
	// Configured through the source, which stays stale while the engine holds no
	// revocation list (a new issuer's configuration drops the old issuer's list).
	configurator := &edge.Configurator{URL: cpURL.JoinPath(edge.EdgeConfigPath).String(), Local: local, Engine: engine,
		Source: source, Client: client}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	var app http.Handler = demoapp.Handler()
	if *upstream == "" && len(wsRoutes) == 0 {
		// The demo's chat server, reachable only through this edge: it trusts the
		// identity headers.
		liveLn, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		live := &http.Server{Handler: demoapp.Live(), ReadHeaderTimeout: 10 * time.Second}
		go live.Serve(liveLn)
		defer live.Close()
		wsRoutes = append(wsRoutes, wsRoute{path: demoapp.LivePath, upstream: &url.URL{Scheme: "ws", Host: liveLn.Addr().String()}})
	}
	if *upstream != "" {
		u, err := url.Parse(*upstream)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("--upstream %q is not an absolute URL", redact.URL(*upstream))
		}
		app = proxyTo(u, *upstreamTimeout, log)
	}
	cp := proxyTo(cpURL, *upstreamTimeout, log)
	// Past the gate too, no client-sent identity header is forwarded (ABI.md, "Identity
	// headers": every request an edge forwards).
	toControlPlane := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		verifier.StripIdentityHeaders(r.Header)
		cp.ServeHTTP(w, r)
	})
	mux := http.NewServeMux()
	for _, p := range controlPlanePatterns {
		mux.Handle(p, toControlPlane)
	}
	gate := &edge.Gate{Engine: engine, Source: source, Upstream: app, Logger: log}
	if p, ok := app.(*httputil.ReverseProxy); ok {
		p.ErrorHandler = gate.ProxyError
	}
	cp.ErrorHandler = edge.ProxyError(log, true)
	if *apiPrefixes != "" {
		for _, p := range strings.Split(*apiPrefixes, ",") {
			if p = strings.TrimSpace(p); !strings.HasPrefix(p, "/") {
				return fmt.Errorf("--api-prefixes: %q is not a path prefix; write it like /api/", p)
			}
			gate.APIPrefixes = append(gate.APIPrefixes, p)
		}
	}
	mux.Handle(gatePattern, gate)
	var sockets *wsauth.Server
	if len(wsRoutes) > 0 {
		origins := defaultWebSocketOrigins(ln.Addr().(*net.TCPAddr))
		if *wsOrigins != "" {
			origins = strings.Split(*wsOrigins, ",")
		}
		checker, err := sessionauth.NewChecker(source, sessionauth.CheckerConfig{AllowBearer: local.AllowBearer})
		if err != nil {
			return err
		}
		if sockets, err = wsauth.New(wsauth.Config{Checker: checker, AllowedOrigins: origins, Logger: log}); err != nil {
			return err
		}
		for _, r := range wsRoutes {
			// The proxy checks the session, the route rules its identity's roles.
			mux.Handle(r.path, gate.RouteRules(&wsauth.Proxy{Server: sockets, Upstream: r.upstream}))
		}
	}
	// Every phase of a connection is bounded: a client cannot hold one open by sending
	// its headers or body slowly, reading slowly, or idling between requests.
	srv := &http.Server{
		Handler:           canonicalOrGate(mux, gate),
		ReadHeaderTimeout: min(10*time.Second, *readTimeout),
		ReadTimeout:       *readTimeout,
		WriteTimeout:      *writeTimeout,
		IdleTimeout:       *idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if sockets != nil {
		// Hijacked connections are not the server's to wait for: close them (1001).
		srv.RegisterOnShutdown(func() { sockets.Close() })
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	// redact.URL, not URL.Redacted: the query's values (a gateway's ?key=) are hidden too.
	log.Info("edge listening", "addr", ln.Addr().String(), "engine", *engineName, "control_plane", redact.URL(cpURL.String()))
	err = configure(ctx, configurator, log)
	if err == nil {
		go follow(ctx, configurator, source, *poll, log)
		select {
		case err = <-served:
		case <-ctx.Done():
		}
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// defaultWebSocketOrigins are the origins a browser sends for pages served from addr:
// its own, or, when it is unspecified (--listen :8080), the loopback names, since no
// browser sends "http://[::]:8080".
func defaultWebSocketOrigins(addr *net.TCPAddr) []string {
	if !addr.IP.IsUnspecified() {
		return []string{"http://" + addr.String()}
	}
	port := strconv.Itoa(addr.Port)
	return []string{"http://localhost:" + port, "http://127.0.0.1:" + port, "http://[::1]:" + port}
}

// proxyTo forwards to target with every step of the upstream exchange bounded
// (connect, TLS, response headers), so a stuck upstream costs a 502, not a goroutine
// and a connection held forever.
func proxyTo(target *url.URL, timeout time.Duration, log *slog.Logger) *httputil.ReverseProxy {
	p := httputil.NewSingleHostReverseProxy(target)
	p.Transport = &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   64,
		ForceAttemptHTTP2:     true,
	}
	p.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	p.BufferPool = copyBuffers
	return p
}

// copyBuffers lends the proxies their response-copying buffers (edge.BufferPool).
var copyBuffers = &edge.BufferPool{}

// configure applies the control plane's edge configuration with this edge's rules,
// retrying while the control plane cannot be reached (the gate answers 503 meanwhile).
// A configuration the verifier refuses is an error: retrying would not fix it.
func configure(ctx context.Context, c *edge.Configurator, log *slog.Logger) error {
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		_, err := c.Sync(ctx)
		if err == nil || errors.Is(err, verifier.ErrInvalidConfig) {
			return err
		}
		log.Warn("control plane not reachable yet; failing closed until it is", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// follow loads keys and revocations, then keeps them and the edge configuration
// current every poll interval. Until keys are loaded the gate answers 503.
func follow(ctx context.Context, c *edge.Configurator, s *sessionauth.Source, poll time.Duration, log *slog.Logger) {
	if err := s.Sync(ctx); err != nil {
		log.Warn("keys not loaded yet; failing closed until they are", "err", err)
	}
	go s.Run(ctx)
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			changed, err := c.Sync(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				log.Warn("edge configuration poll failed; keeping the current one", "err", err)
			case changed:
				log.Info("edge configuration changed; verifier reconfigured")
			}
		}
	}
}

// wsRoute relays WebSocket upgrades at path to upstream.
type wsRoute struct {
	path     string
	upstream *url.URL
}

// canonicalOrGate hands a path with dot segments or "//" to the gate, which refuses
// dot segments (400 invalid_path, ABI.md "Paths") and decides the rest, and serves
// every other request with mux: http.ServeMux would answer such a path with a
// redirect to its cleaned form, which the gate then never sees. A path that Clean
// only strips of its trailing "/" is canonical ("/app/"), except "//", which Clean
// makes "/".
func canonicalOrGate(mux *http.ServeMux, gate http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if c := path.Clean(p); r.Method != http.MethodConnect && strings.HasPrefix(p, "/") && c != p && (c+"/" != p || c == "/") {
			gate.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// wsRouteFlag collects --ws PATH=URL as written; routes reads them. Set refuses
// nothing: the flag package quotes a refused value whole, and the URL may hold a
// password.
type wsRouteFlag []string

func (f *wsRouteFlag) String() string { return fmt.Sprint(len(*f), " route(s)") }

func (f *wsRouteFlag) Set(v string) error {
	*f = append(*f, v)
	return nil
}

// The patterns run gives its mux before the --ws routes (a route at one of them would
// make http.ServeMux panic): the control plane's paths, and the gate for the rest.
var controlPlanePatterns = []string{"/auth/", "/.well-known/"}

const gatePattern = "/"

// routes reads each PATH=URL; an error quotes the URL without its password
// (redact.URL). A PATH must be one that http.ServeMux takes as that path and no other
// route has: the mux reads "{...}" as a wildcard and text before a space or tab as a
// method, and panics on a malformed pattern or one registered twice.
func (f wsRouteFlag) routes() ([]wsRoute, error) {
	var rs []wsRoute
	for _, v := range f {
		path, target, ok := strings.Cut(v, "=")
		u, err := url.Parse(target)
		if !ok || !strings.HasPrefix(path, "/") || err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			shown := path + "=" + redact.URL(target)
			if !ok || !strings.HasPrefix(path, "/") { // no PATH=: the URL (or PATH) starts v
				shown = redact.URL(v)
			}
			return nil, fmt.Errorf("--ws %q: want PATH=URL with an absolute path and a ws:// or wss:// URL", shown)
		}
		if strings.ContainsAny(path, "{} \t") {
			return nil, fmt.Errorf("--ws %q: PATH may hold no '{', '}', space or tab (http.ServeMux reads them as a pattern)", path)
		}
		taken := path == gatePattern || slices.Contains(controlPlanePatterns, path)
		for _, r := range rs {
			taken = taken || r.path == path
		}
		if taken {
			return nil, fmt.Errorf("--ws %q: another route has PATH already (this edge serves %s itself)", path, strings.Join(append([]string{gatePattern}, controlPlanePatterns...), ", "))
		}
		rs = append(rs, wsRoute{path: path, upstream: u})
	}
	return rs, nil
}

// defaultCacheEntries bounds the verified-token cache when the route rules do not, as
// the JS edge does (js/README.md): a repeat visitor's token is verified once.
const defaultCacheEntries = 1024

// loadRoutes reads this edge's route rules, or returns the demo's: /app/ for any
// signed-in user, /app/vault for a sign-in with a second factor, /admin/ for role
// admin, everything else public.
func loadRoutes(path string) (verifier.LocalConfig, error) {
	if path == "" {
		return verifier.LocalConfig{
			AfterLoginPath: "/app/",
			PublicPaths:    []string{"/", "/auth/", "/.well-known/"},
			Protected: []verifier.ProtectedRoute{{Prefix: "/app/"}, {Prefix: "/app/vault/", MFA: true},
				{Prefix: "/admin/", Roles: []string{"admin"}}},
			CacheEntries: defaultCacheEntries,
		}, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return verifier.LocalConfig{}, fmt.Errorf("--routes: %w", err)
	}
	local := verifier.LocalConfig{CacheEntries: defaultCacheEntries} // a file's cache_entries, 0 included, replaces it
	// JSON v2: names matched exactly, no member twice, nothing after the object, as the
	// module reads rules at the JS edge; encoding/json would let a later "MFA" turn a
	// route's "mfa" off.
	if err := json.Unmarshal(b, &local, json.RejectUnknownMembers(true)); err != nil {
		return verifier.LocalConfig{}, fmt.Errorf("--routes %s: %w (members: public_paths, protected, default_protected, after_login_path, cache_entries, allow_bearer)", path, err)
	}
	return local, nil
}

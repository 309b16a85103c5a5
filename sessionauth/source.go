package sessionauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/edgeauth/edgeauth/internal/redact"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgeauth/edgeauth/verifier"
	"github.com/edgeauth/edgeauth/verifier/jose"
	"golang.org/x/sync/singleflight"
)

// The control plane's published documents, relative to its base URL.
const (
	JWKSPath        = "/.well-known/jwks.json"
	RevocationsPath = "/.well-known/edgeauth/revocations"
	EdgeConfigPath  = "/.well-known/edgeauth/edge-config"
)

// Defaults of SourceConfig.
const (
	DefaultPollEvery       = 15 * time.Second
	DefaultRefetchCooldown = 10 * time.Second
	DefaultMaxStale        = 10 * time.Minute
	DefaultFetchTimeout    = 10 * time.Second
	DefaultLeeway          = time.Minute
)

// maxDocument bounds what is read of a published document: the largest JWKS and list
// the verifier accepts (jose.MaxJWSBytes, 256 KiB) fit.
const maxDocument = 1 << 20

// errOlderList: a list older than the one held (a replica's cached list after a poll
// fetched a newer one); it wraps verifier.ErrInvalidRevocationList.
var errOlderList = fmt.Errorf("%w: older than the list held", verifier.ErrInvalidRevocationList)

// ErrStale is wrapped by every check while the source's keys or revocations are older
// than MaxStale (or were never fetched): the check fails closed rather than trust keys
// and revocations of unknown age.
var ErrStale = errors.New("sessionauth: keys or revocations are stale (control plane unreachable)")

// SourceConfig configures a Source. ControlPlane is required; zero values elsewhere
// take the defaults noted.
type SourceConfig struct {
	// ControlPlane is the control plane's base URL (scheme and host, optionally a
	// path prefix); the documents are fetched at JWKSPath, RevocationsPath and
	// EdgeConfigPath below it.
	ControlPlane string
	// Issuer is the control plane's issuer: revocation lists must name it. Empty: the
	// issuer of the control plane's edge configuration, which the source then fetches
	// beside the keys (and which also gives a Checker its defaults).
	Issuer string
	// Algorithms the control plane may sign lists and events with; default all that
	// the verifier implements (EdDSA, ES256, RS256: a key is bound to one algorithm,
	// so allowing the three cannot confuse one key's algorithm for another's).
	Algorithms []string
	// Leeway is the clock skew tolerated on a list's iat; default 1 min, at most 5.
	Leeway time.Duration
	// Client fetches the documents; default a client with DefaultFetchTimeout. The
	// stream uses its Transport without the overall timeout.
	Client *http.Client
	// PollEvery is how often the JWKS is fetched, and the revocation list when the
	// stream has not delivered one within PollEvery; default 15 s. Without the stream
	// a logout reaches this source within about PollEvery.
	PollEvery time.Duration
	// RefetchCooldown spaces refetches for unknown key ids (UnknownKey), so a flood of
	// forged kids cannot hammer the control plane; default 10 s.
	RefetchCooldown time.Duration
	// MaxStale is how long the last good keys and list serve while nothing newer can
	// be fetched; past it every check fails with ErrStale. Default 10 min; keep it
	// shorter than the control plane's revocation window (access-token lifetime plus
	// leeway, 11 min by default), which is all a list remembers.
	MaxStale time.Duration
	// NoStream leaves the revocation stream alone: Run only polls (for a runtime that
	// cannot hold a connection open). With the stream, a revocation reaches the source
	// as soon as the control plane has committed it.
	NoStream bool
	// Engine, when set, is given every key set and list the source accepts (a Go edge
	// deciding with verifier.wasm keeps it current this way). An engine drops its list
	// when a new key set does not verify it; until a list loads again the source is
	// stale (Fresh), so nothing that trusts the source's freshness decides with an
	// engine that knows no revocation.
	Engine verifier.Engine
	Logger *slog.Logger     // default slog.Default()
	Now    func() time.Time // default time.Now
}

// Revocation says that a session has ended.
type Revocation struct {
	SessionID string
	// Reason is the control plane's revocation reason (logout, logout_all,
	// logout_others, revoked_by_user, refresh_token_reused, password_changed,
	// ended_by_operator, account_disabled, session_replaced) when it came with a pushed
	// event, and empty when the session was learned from a list.
	Reason string
}

// Change is what a watcher (Source.Watch) is told.
type Change struct {
	// Revoked are sessions newly known to be revoked.
	Revoked []Revocation
	// Keys is set when the key set changed (keys may have been removed).
	Keys bool
	// Stale is set when the source has just become stale (see ErrStale).
	Stale bool
	// Cutoff is set when a revocation list raised its cutoff (Source.Cutoff): tokens
	// issued before it are no longer accepted, and neither should be what they
	// authorized.
	Cutoff bool
}

// Source keeps the control plane's keys and revocations. Build it with NewSource,
// fetch once with Sync, then keep it current with Run. Safe for concurrent use.
type Source struct {
	cfg          SourceConfig
	algs         []jose.Algorithm
	leeway       int64
	jwksURL      string
	listURL      string
	edgeURL      string
	streamURL    string
	client       *http.Client
	streamClient *http.Client
	log          *slog.Logger

	snap   atomic.Pointer[state] // what request paths read
	mu     sync.Mutex            // serialises updates (never held across I/O)
	flight singleflight.Group

	lastRefetch atomic.Int64 // unix nanoseconds of the last unknown-kid refetch
	keyFetches  atomic.Int64 // key set fetches started (state.keysFetch orders them)

	notifyMu sync.Mutex // watchers see changes one at a time, in order
	watchMu  sync.Mutex
	watchers map[int]func(Change)
	nextW    int
	stale    bool // last staleness reported to watchers (notifyMu)

	streamLive atomic.Bool  // a stream is connected
	lastPush   atomic.Int64 // unix nanoseconds of the last list the stream delivered
	streamSeq  atomic.Int64 // id of the last stream event applied (-1: none): the resume point
}

// state is one immutable snapshot.
type state struct {
	edge     *verifier.EdgeConfig // fetched only when SourceConfig.Issuer is empty
	edgeETag string
	edgeAt   time.Time
	keys     *jose.KeySet
	jwks     []byte
	jwksETag string
	keysAt   time.Time // last time the key set was confirmed current
	list     []byte
	listETag string
	listIat  int64
	listExp  int64 // the list's exp: a 304 confirms it only before then
	// listBefore is the list's cutoff: access tokens issued earlier are refused as
	// expired (0: none).
	listBefore int64
	revAt      time.Time // same for the revocation list
	revoked    map[string]revocation
	// engineList: SourceConfig.Engine holds list. An engine drops a list that a new
	// key set does not verify (verifier/ABI.md, "Host state"), and until one loads
	// again the source is stale (Fresh), however recently the list was confirmed.
	engineList bool
	// keysFetch numbers the fetch that brought keys: an unknown-kid refetch and a
	// poll may overlap, and the set of a fetch started earlier must not replace it.
	keysFetch int64
}

type revocation struct {
	reason  string
	learned time.Time // when this source first heard of it
}

// NewSource checks the configuration. It fetches nothing: call Sync.
func NewSource(cfg SourceConfig) (*Source, error) {
	var errs []error
	base, err := url.Parse(cfg.ControlPlane)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		errs = append(errs, fmt.Errorf("sessionauth: ControlPlane %q must be an absolute http(s) URL", redact.URL(cfg.ControlPlane)))
	}
	if len(cfg.Algorithms) == 0 {
		cfg.Algorithms = []string{string(jose.EdDSA), string(jose.ES256), string(jose.RS256)}
	}
	algs, aerr := algorithms(cfg.Algorithms)
	if aerr != nil {
		errs = append(errs, aerr)
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = DefaultLeeway
	}
	if cfg.Leeway < 0 || cfg.Leeway > jose.MaxLeeway*time.Second {
		errs = append(errs, errors.New("sessionauth: Leeway must be between 0 and 5 min"))
	}
	cfg.PollEvery = orDefault(cfg.PollEvery, DefaultPollEvery)
	cfg.RefetchCooldown = orDefault(cfg.RefetchCooldown, DefaultRefetchCooldown)
	cfg.MaxStale = orDefault(cfg.MaxStale, DefaultMaxStale)
	if cfg.PollEvery < 0 || cfg.RefetchCooldown < 0 || cfg.MaxStale < 0 {
		errs = append(errs, errors.New("sessionauth: PollEvery, RefetchCooldown and MaxStale must not be negative"))
	}
	if cfg.MaxStale > 0 && cfg.MaxStale <= cfg.PollEvery {
		errs = append(errs, errors.New("sessionauth: MaxStale must exceed PollEvery, or one late poll makes the source stale"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Source{
		cfg:       cfg,
		algs:      algs,
		leeway:    int64(cfg.Leeway / time.Second),
		jwksURL:   base.JoinPath(JWKSPath).String(),
		listURL:   base.JoinPath(RevocationsPath).String(),
		edgeURL:   base.JoinPath(EdgeConfigPath).String(),
		streamURL: base.JoinPath(StreamPath).String(),
		client:    cfg.Client,
		log:       cfg.Logger,
		watchers:  map[int]func(Change){},
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: DefaultFetchTimeout, Transport: defaultTransport()}
	}
	s.streamClient = &http.Client{Transport: s.client.Transport, CheckRedirect: s.client.CheckRedirect}
	s.streamSeq.Store(-1)
	s.snap.Store(&state{revoked: map[string]revocation{}})
	return s, nil
}

// defaultTransport is http.DefaultTransport with a bound on the wait for response
// headers (a control plane that accepts connections but never answers must not hold a
// fetch for the whole client timeout).
func defaultTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = DefaultFetchTimeout
	t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return t
}

// algorithms parses names; the error names every one that is not an algorithm.
func algorithms(names []string) ([]jose.Algorithm, error) {
	out := make([]jose.Algorithm, 0, len(names))
	var errs []error
	for _, n := range names {
		switch a := jose.Algorithm(n); a {
		case jose.EdDSA, jose.ES256, jose.RS256:
			out = append(out, a)
		default:
			errs = append(errs, fmt.Errorf("sessionauth: algorithm %q is not one of EdDSA, ES256, RS256", n))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func (s *Source) now() time.Time { return s.cfg.Now() }

// Fresh returns nil when the key set and the revocation list (and the edge
// configuration, when the source uses it) were confirmed within MaxStale, and an error
// wrapping ErrStale otherwise.
func (s *Source) Fresh() error {
	st := s.snap.Load()
	now := s.now()
	switch {
	case s.cfg.Issuer == "" && st.edge == nil:
		return fmt.Errorf("%w: no edge configuration fetched yet", ErrStale)
	case s.cfg.Issuer == "" && now.Sub(st.edgeAt) > s.cfg.MaxStale:
		return fmt.Errorf("%w: edge configuration last confirmed %s ago", ErrStale, now.Sub(st.edgeAt).Round(time.Second))
	case st.keys == nil:
		return fmt.Errorf("%w: no key set fetched yet", ErrStale)
	case st.revAt.IsZero():
		return fmt.Errorf("%w: no revocation list fetched yet (since the issuer changed, if it did)", ErrStale)
	case now.Sub(st.keysAt) > s.cfg.MaxStale:
		return fmt.Errorf("%w: key set last confirmed %s ago", ErrStale, now.Sub(st.keysAt).Round(time.Second))
	case now.Sub(st.revAt) > s.cfg.MaxStale:
		return fmt.Errorf("%w: revocation list last confirmed %s ago", ErrStale, now.Sub(st.revAt).Round(time.Second))
	case s.engineLacksList(st):
		return fmt.Errorf("%w: the engine holds no revocation list (the key set changed and the list held does not verify under it)", ErrStale)
	}
	return nil
}

// engineLacksList reports whether the source feeds an engine that holds no current
// revocation list.
func (s *Source) engineLacksList(st *state) bool { return s.cfg.Engine != nil && !st.engineList }

// Streaming reports whether the revocation stream is connected.
func (s *Source) Streaming() bool { return s.streamLive.Load() }

// Revoked reports whether the session is known to be revoked, and how.
func (s *Source) Revoked(sessionID string) (Revocation, bool) {
	r, ok := s.snap.Load().revoked[sessionID]
	if !ok {
		return Revocation{}, false
	}
	return Revocation{SessionID: sessionID, Reason: r.reason}, true
}

// HasKey reports whether the current key set holds a key with this kid.
func (s *Source) HasKey(kid string) bool {
	ks := s.snap.Load().keys
	if ks == nil {
		return false
	}
	for _, k := range ks.Keys() {
		if k.KID == kid {
			return true
		}
	}
	return false
}

// EdgeConfig returns the control plane's edge configuration, when the source fetches it
// (SourceConfig.Issuer empty) and has.
func (s *Source) EdgeConfig() (verifier.EdgeConfig, bool) {
	if ec := s.snap.Load().edge; ec != nil {
		return *ec, true
	}
	return verifier.EdgeConfig{}, false
}

// issuer is the issuer lists must name: the configured one, else the edge
// configuration's ("" before it is fetched).
func (st *state) issuer(configured string) string {
	if configured != "" || st.edge == nil {
		return configured
	}
	return st.edge.Issuer
}

// Watch calls fn after every change (newly revoked sessions, a new key set, the
// source turning stale, a raised cutoff), one change at a time and in order, from the
// goroutine that made the change. fn must not block: hand long work to another
// goroutine. stop unregisters fn.
func (s *Source) Watch(fn func(Change)) (stop func()) {
	s.watchMu.Lock()
	id := s.nextW
	s.nextW++
	s.watchers[id] = fn
	s.watchMu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.watchMu.Lock()
			delete(s.watchers, id)
			s.watchMu.Unlock()
		})
	}
}

func (s *Source) notify(c Change) {
	if len(c.Revoked) == 0 && !c.Keys && !c.Stale && !c.Cutoff {
		return
	}
	s.watchMu.Lock()
	fns := make([]func(Change), 0, len(s.watchers))
	for _, fn := range s.watchers {
		fns = append(fns, fn)
	}
	s.watchMu.Unlock()
	for _, fn := range fns {
		fn(c)
	}
}

// Sync fetches the key set, then the revocation list (checked against those keys),
// and returns the first error; what succeeded stays applied. Concurrent calls share
// one fetch. The fetch is bounded by the client's timeouts, not by ctx, which only
// bounds the caller's wait.
func (s *Source) Sync(ctx context.Context) error {
	_, err := s.shared(ctx, "sync", s.sync)
	return err
}

func (s *Source) sync(ctx context.Context) (keysChanged bool, err error) {
	if s.cfg.Issuer == "" {
		if err := s.syncEdge(ctx); err != nil {
			return false, err
		}
	}
	changed, err := s.syncKeys(ctx)
	if err != nil {
		return false, err
	}
	return changed, s.syncList(ctx, changed)
}

// shared runs fn once for all concurrent callers with the same key, detached from any
// one caller's cancellation; each caller waits until fn ends or its own ctx does.
func (s *Source) shared(ctx context.Context, key string, fn func(context.Context) (bool, error)) (bool, error) {
	ch := s.flight.DoChan(key, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*DefaultFetchTimeout)
		defer cancel()
		return fn(fctx)
	})
	select {
	case r := <-ch:
		changed, _ := r.Val.(bool)
		return changed, r.Err
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// UnknownKey is called when a token names a key the source does not have (a rotation
// not yet fetched). Unless a refetch happened within RefetchCooldown it fetches the key
// set (shared with concurrent refetches) and reports whether it changed, so the caller
// knows whether checking again can help. It does not join a poll's fetch, which may
// have fetched its key set before the rotation and be waiting on a slow list, and it
// fetches the list only when the engine lost its list to the new keys (the source is
// stale until one loads); otherwise the list follows with the next poll or stream event.
func (s *Source) UnknownKey(ctx context.Context) bool {
	now := s.now().UnixNano()
	last := s.lastRefetch.Load()
	if now-last < int64(s.cfg.RefetchCooldown) || !s.lastRefetch.CompareAndSwap(last, now) {
		return false
	}
	changed, err := s.shared(ctx, "keys", func(ctx context.Context) (bool, error) {
		changed, err := s.syncKeys(ctx)
		if err == nil && s.engineLacksList(s.snap.Load()) {
			err = s.syncList(ctx, true)
		}
		return changed, err
	})
	if err != nil {
		s.log.Warn("sessionauth: unknown-kid refetch failed", "err", err)
	}
	return changed
}

// syncEdge fetches the edge configuration. Members this package does not read are
// ignored (it uses the issuer, audience, algorithms, leeway and access cookie name;
// an edge, which applies every member, refuses a document it does not fully know).
func (s *Source) syncEdge(ctx context.Context) error {
	body, etag, notModified, err := s.get(ctx, s.edgeURL, s.snap.Load().edgeETag)
	if err != nil {
		return fmt.Errorf("sessionauth: edge configuration: %w", err)
	}
	if notModified {
		s.update(func(st *state) { st.edgeAt = s.now() })
		return nil
	}
	var ec verifier.EdgeConfig
	if err := json.Unmarshal(body, &ec); err != nil || ec.Issuer == "" || ec.Audience == "" {
		return fmt.Errorf("sessionauth: edge configuration from %s: not a JSON object with issuer and audience (%v)", redact.URL(s.edgeURL), err)
	}
	if ec.LeewaySeconds < 0 || ec.LeewaySeconds > jose.MaxLeeway {
		// The gate refuses such a configuration too; the last good one stays.
		return fmt.Errorf("sessionauth: edge configuration from %s: leeway_seconds %d is outside 0..%d", redact.URL(s.edgeURL), ec.LeewaySeconds, jose.MaxLeeway)
	}
	s.update(func(st *state) {
		if st.edge != nil && st.edge.Issuer != ec.Issuer {
			// Lists of the new issuer start afresh, and the list held is the old
			// issuer's: it does not name the sessions the new issuer revokes, so the
			// source is stale (Fresh) until a list of the new issuer is applied.
			st.list, st.listIat, st.listETag, st.revAt, st.engineList = nil, 0, "", time.Time{}, false
		}
		st.edge, st.edgeETag, st.edgeAt = &ec, etag, s.now()
	})
	return nil
}

// ConfigureEngine configures SourceConfig.Engine (Engine.Configure) and keeps the
// source's freshness true to what the engine holds: an engine drops a revocation list
// that no longer verifies under a new configuration (another issuer), and one without
// a list must not be trusted (Fresh) while it decides. The source is stale while the
// engine is being configured; then the held list is loaded again, and when the engine
// does not take it the documents are fetched at once (Sync), the source staying stale
// until a list loads. Errors are Configure's (the engine keeps its configuration and
// list) or the fetch's; watchers hear when the source turns stale.
func (s *Source) ConfigureEngine(ctx context.Context, cfg verifier.Config) error {
	e := s.cfg.Engine
	if e == nil {
		return errors.New("sessionauth: ConfigureEngine needs SourceConfig.Engine")
	}
	s.mu.Lock()
	held := s.snap.Load()
	marked := *held
	marked.engineList = false
	s.snap.Store(&marked)
	err := e.Configure(ctx, cfg)
	next := *held
	if err == nil {
		next.engineList = next.list != nil && e.LoadRevocations(ctx, next.list, s.now().Unix()) == nil
	}
	s.snap.Store(&next)
	s.mu.Unlock()
	if err == nil && s.engineLacksList(&next) {
		err = s.Sync(ctx) // fetches the list unconditionally: the engine lacks one
	}
	s.checkStale()
	return err
}

// syncKeys fetches the JWKS and applies it when it changed.
func (s *Source) syncKeys(ctx context.Context) (bool, error) {
	fetch := s.keyFetches.Add(1)
	body, etag, notModified, err := s.get(ctx, s.jwksURL, s.snap.Load().jwksETag)
	if err != nil {
		return false, fmt.Errorf("sessionauth: keys: %w", err)
	}
	if notModified {
		s.update(func(st *state) { st.keysAt = s.now() })
		return false, nil
	}
	ks, err := jose.ParseJWKS(body)
	if err != nil {
		return false, fmt.Errorf("sessionauth: keys from %s: %w", redact.URL(s.jwksURL), err)
	}
	now := s.now()
	// The engine's loads and the snapshot change together under s.mu (as in
	// applyList), so that engineList says what the engine holds.
	s.mu.Lock()
	next := *s.snap.Load()
	if fetch < next.keysFetch {
		s.mu.Unlock()
		return false, nil // a fetch started later brought its set: this one may be older
	}
	if e := s.cfg.Engine; e != nil {
		if err := e.LoadKeys(ctx, body); err != nil {
			s.mu.Unlock()
			return false, fmt.Errorf("sessionauth: engine refused the key set: %w", err)
		}
		// The engine dropped the list if the new keys do not verify it. Loading the
		// held list again tells which: it loads (and the engine holds it) exactly when
		// the new keys verify it. When it does not, the source is stale until the list
		// fetched next (syncList, always after a key change) loads.
		next.engineList = next.list != nil && e.LoadRevocations(ctx, next.list, now.Unix()) == nil
	}
	next.keys, next.jwks, next.jwksETag, next.keysAt, next.keysFetch = ks, body, etag, now, fetch
	s.snap.Store(&next)
	s.mu.Unlock()
	s.notifyChange(Change{Keys: true})
	return true, nil
}

// syncList fetches the revocation list (unconditionally after a key change: the list
// may be signed by a new key, and an engine drops a list its new keys do not verify).
func (s *Source) syncList(ctx context.Context, keysChanged bool) error {
	cur := s.snap.Load()
	etag := cur.listETag
	if keysChanged || s.engineLacksList(cur) {
		etag = "" // a 304 would not put a list into the engine
	}
	body, etag, notModified, err := s.get(ctx, s.listURL, etag)
	if err != nil {
		return fmt.Errorf("sessionauth: revocations: %w", err)
	}
	if notModified {
		// A 304 says the list held is still the current one; it is a confirmation only
		// while that list is within its exp (a replica that cannot rebuild its list, or a
		// cache, may keep answering 304 after it). Past exp the source is not confirmed,
		// and turns stale MaxStale after the last confirmation, as with no answer at all.
		now := s.now()
		var expired int64
		confirmed := false
		s.update(func(st *state) {
			if confirmed = now.Unix() < st.listExp; confirmed {
				st.revAt = now
			}
			expired = st.listExp
		})
		if !confirmed {
			return fmt.Errorf("%w: the control plane answered 304 for the revocation list held, which expired at %s",
				ErrStale, time.Unix(expired, 0).UTC().Format(time.RFC3339))
		}
		return nil
	}
	return s.applyList(ctx, body, etag)
}

// applyList verifies a signed list and makes it current: its sessions become revoked,
// and revocations it no longer names (pushed, or named by an earlier list) are dropped
// once a list issued well after this source learned of them omits them (they aged out
// of the control plane's window). A list of about the same time may predate the
// revocation: another replica built it, in the same second, before it committed.
func (s *Source) applyList(ctx context.Context, body []byte, etag string) error {
	now := s.now()
	var fresh []Revocation
	var err error
	var cutoffRaised bool
	s.mu.Lock()
	cur := s.snap.Load()
	rl, verr := jose.VerifyRevocationList(body, cur.keys, s.algs, cur.issuer(s.cfg.Issuer), s.leeway, now.Unix())
	switch {
	case verr != nil:
		err = fmt.Errorf("sessionauth: revocation list refused: %w", verr)
	case rl.IssuedAt < cur.listIat:
		err = fmt.Errorf("sessionauth: revocation list refused: %w (iat %d, held %d)", errOlderList, rl.IssuedAt, cur.listIat)
	default:
		if e := s.cfg.Engine; e != nil {
			if lerr := e.LoadRevocations(ctx, body, now.Unix()); lerr != nil {
				err = fmt.Errorf("sessionauth: engine refused the revocation list: %w", lerr)
				break
			}
		}
		next := *cur
		next.revoked = make(map[string]revocation, len(rl.SessionIDs))
		for _, sid := range rl.SessionIDs {
			r, known := cur.revoked[sid]
			if !known {
				r.learned = now
				fresh = append(fresh, Revocation{SessionID: sid})
			}
			next.revoked[sid] = r
		}
		issued := time.Unix(rl.IssuedAt, 0)
		for sid, r := range cur.revoked {
			if _, in := next.revoked[sid]; in || issued.Sub(r.learned) > s.cfg.Leeway {
				continue
			}
			next.revoked[sid] = r // this list may predate it
		}
		next.list, next.listETag, next.listIat, next.listExp, next.revAt = body, etag, rl.IssuedAt, rl.ExpiresAt, now
		next.listBefore, cutoffRaised = rl.Before, rl.Before > cur.listBefore
		next.engineList = true // loaded above, when there is an engine
		s.snap.Store(&next)
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	s.notifyChange(Change{Revoked: fresh, Cutoff: cutoffRaised})
	return nil
}

// Cutoff returns the loaded revocation list's cutoff (zero when it has none): access
// tokens issued before it are refused as expired (verifier/ABI.md, "load_revocations").
func (s *Source) Cutoff() time.Time {
	if b := s.snap.Load().listBefore; b != 0 {
		return time.Unix(b, 0)
	}
	return time.Time{}
}

// revoke records pushed revocations (already verified) and tells watchers about the
// new ones.
func (s *Source) revoke(revs []Revocation) {
	now := s.now()
	var fresh []Revocation
	s.mu.Lock()
	cur := s.snap.Load()
	for _, r := range revs {
		if _, known := cur.revoked[r.SessionID]; !known {
			fresh = append(fresh, r)
		}
	}
	if len(fresh) > 0 {
		next := *cur
		next.revoked = make(map[string]revocation, len(cur.revoked)+len(fresh))
		for sid, r := range cur.revoked {
			next.revoked[sid] = r
		}
		for _, r := range fresh {
			next.revoked[r.SessionID] = revocation{reason: r.Reason, learned: now}
		}
		s.snap.Store(&next)
	}
	s.mu.Unlock()
	s.notifyChange(Change{Revoked: fresh})
}

// update applies fn to a copy of the current state and publishes it.
func (s *Source) update(fn func(*state)) {
	s.mu.Lock()
	next := *s.snap.Load()
	fn(&next)
	s.snap.Store(&next)
	s.mu.Unlock()
}

// notifyChange tells watchers, in order.
func (s *Source) notifyChange(c Change) {
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	s.notify(c)
}

// checkStale tells watchers once when the source turns stale, and notes when it is
// fresh again.
func (s *Source) checkStale() {
	err := s.Fresh()
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	switch {
	case err == nil:
		s.stale = false
	case !s.stale:
		s.stale = true
		s.log.Warn("sessionauth: failing closed", "err", err)
		s.notify(Change{Stale: true})
	}
}

// get fetches url with If-None-Match: etag when etag is not empty.
func (s *Source) get(ctx context.Context, u, etag string) (body []byte, newETag string, notModified bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", false, err
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, "", false, redact.Error(err) // it quotes u, query and all
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotModified:
		return nil, etag, true, nil
	case http.StatusOK:
	default:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, "", false, fmt.Errorf("GET %s: %s", redact.URL(u), resp.Status)
	}
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
	if err != nil {
		return nil, "", false, fmt.Errorf("GET %s: %w", redact.URL(u), err)
	}
	if len(body) > maxDocument {
		return nil, "", false, fmt.Errorf("GET %s: document larger than %d bytes", redact.URL(u), maxDocument)
	}
	return body, resp.Header.Get("ETag"), false, nil
}

// Run keeps the source current until ctx ends: it holds the revocation stream (unless
// NoStream), fetches the JWKS every PollEvery, the revocation list too unless the stream
// delivered one within PollEvery, and tells watchers when the source turns stale.
// Failures are logged; checks fail closed once the documents are older than MaxStale.
func (s *Source) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	if !s.cfg.NoStream {
		wg.Add(1)
		go func() { defer wg.Done(); s.runStream(ctx) }()
	}
	t := time.NewTicker(s.cfg.PollEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.poll(ctx)
		s.checkStale()
	}
}

// poll runs one polling round.
func (s *Source) poll(ctx context.Context) {
	pushed := time.Unix(0, s.lastPush.Load())
	// An engine without a list gets one from the poll rather than wait for the
	// stream's next list: the source is stale until it has one.
	listByStream := s.streamLive.Load() && s.now().Sub(pushed) < s.cfg.PollEvery && !s.engineLacksList(s.snap.Load())
	_, err := s.shared(ctx, "sync", func(ctx context.Context) (bool, error) {
		if !listByStream {
			return s.sync(ctx)
		}
		if s.cfg.Issuer == "" {
			if err := s.syncEdge(ctx); err != nil {
				return false, err
			}
		}
		changed, err := s.syncKeys(ctx)
		if err != nil || !changed {
			return false, err
		}
		return true, s.syncList(ctx, true)
	})
	if err != nil && ctx.Err() == nil {
		s.log.Warn("sessionauth: control plane poll failed; using the last good documents", "err", err)
	}
}

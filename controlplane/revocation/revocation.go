// Package revocation builds, signs and serves the revocation list: the ids of sessions
// revoked within the last access-token lifetime plus leeway, as a compact JWS (typ
// "edgeauth-revocations+jwt") that edges poll beside the JWKS. Payload:
//
//	{"iss": <issuer>, "iat": <unix>, "exp": <iat + CacheTTL>, "sids": ["<session id>", ...], "seq": <n>}
//
// seq is the highest revocation number drawn when the list was built (see below).
//
// The list is kept in memory and rebuilt when PostgreSQL announces a revocation
// (LISTEN on store.RevocationChannel, on a dedicated connection that reconnects with
// backoff; every replica hears every revocation) and periodically, so it is re-signed
// well before it expires.
//
// Subscribers (the revocation stream) receive every revocation as it is heard, as a
// signed event (typ "edgeauth-revocation+jwt", payload {"iss","iat","sid","seq",
// "reason"}), and every list as it is built. Every revocation draws a number from one
// database-wide sequence (migration 004), so a subscriber that reconnects, to this
// replica or another, resumes after the last number it saw (Replay).
package revocation

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/store"
	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Type is the typ header of a revocation list.
const Type = "edgeauth-revocations+jwt"

// EventType is the typ header of one signed revocation event.
const EventType = "edgeauth-revocation+jwt"

// Signer signs JWTs with the active key (keys.Manager satisfies it).
type Signer interface {
	Sign(ctx context.Context, claims jwt.Claims, typ string) (string, error)
}

// Config tunes the list. Zero values take the defaults noted.
type Config struct {
	Issuer string // iss; required (the same issuer as the access tokens)
	// Window: sessions revoked this long ago or less are listed; it must cover the
	// access-token lifetime plus the verifiers' leeway. Default 10 min + 1 min.
	Window time.Duration
	// CacheTTL is the list's lifetime (exp - iat), 60..300 s by the format; default 60 s.
	CacheTTL time.Duration
	// Refresh: the list is rebuilt at least this often; default CacheTTL/3.
	Refresh time.Duration
	// MaxListedBytes bounds what the named sessions take in the list's payload (each
	// id, its quotes and comma). Default DefaultMaxListedBytes.
	MaxListedBytes int
	Now            func() time.Time // default time.Now
	Logger         *slog.Logger     // default slog.Default()
}

// Defaults.
const (
	DefaultWindow   = 11 * time.Minute
	DefaultCacheTTL = 60 * time.Second
	// DefaultMaxListedBytes: 4,000 session ids of 32 characters (controlplane/auth's
	// 24 random bytes). Encoded, the signed list then stays under 192 KiB of the
	// 256 KiB a verifier accepts (jose.MaxJWSBytes).
	DefaultMaxListedBytes = 140_000
)

// Claims is the payload of the list.
type Claims struct {
	Issuer     string   `json:"iss"`
	IssuedAt   int64    `json:"iat"`
	ExpiresAt  int64    `json:"exp"`
	SessionIDs []string `json:"sids"`
	// Before is the cutoff: access tokens issued earlier are refused as expired, so
	// their holders refresh (verifier/ABI.md). Set when the sessions to name would
	// take more than MaxListedBytes.
	Before int64 `json:"before,omitempty"`
	// Seq is the highest revocation number drawn when the list was built: a stream
	// subscriber that starts from this list resumes after it.
	Seq int64 `json:"seq"`
}

func nd(v int64) *jwt.NumericDate                             { return jwt.NewNumericDate(time.Unix(v, 0)) }
func (c Claims) GetExpirationTime() (*jwt.NumericDate, error) { return nd(c.ExpiresAt), nil }
func (c Claims) GetIssuedAt() (*jwt.NumericDate, error)       { return nd(c.IssuedAt), nil }
func (c Claims) GetNotBefore() (*jwt.NumericDate, error)      { return nil, nil }
func (c Claims) GetIssuer() (string, error)                   { return c.Issuer, nil }
func (c Claims) GetSubject() (string, error)                  { return "", nil }
func (c Claims) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }

// EventClaims is the payload of one revocation event.
type EventClaims struct {
	Issuer    string `json:"iss"`
	IssuedAt  int64  `json:"iat"`
	SessionID string `json:"sid"`
	Seq       int64  `json:"seq"`
	Reason    string `json:"reason"`
}

func (c EventClaims) GetExpirationTime() (*jwt.NumericDate, error) { return nil, nil }
func (c EventClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return nd(c.IssuedAt), nil }
func (c EventClaims) GetNotBefore() (*jwt.NumericDate, error)      { return nil, nil }
func (c EventClaims) GetIssuer() (string, error)                   { return c.Issuer, nil }
func (c EventClaims) GetSubject() (string, error)                  { return "", nil }
func (c EventClaims) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }

// Kinds of Event.
const (
	KindList    = "revocations" // a new list (Data is the signed list)
	KindRevoked = "revoked"     // one revocation (Data is a signed event)
)

// Event is what a subscriber receives.
type Event struct {
	Kind      string
	Seq       int64  // the revocation's number; for a list, the highest number it covers
	Data      []byte // compact JWS: the list, or the event
	SessionID string // KindRevoked only
}

// Subscription is one subscriber's feed; see Subscribe.
type Subscription struct {
	// C receives events in the order they are heard.
	C      <-chan Event
	ch     chan Event
	lagged chan struct{}
	cancel func()
}

// Lagged is closed when the subscriber fell so far behind that an event could not be
// queued: the feed has stopped, and the subscriber must start again (a stream client
// reconnects and resumes from its last number).
func (s *Subscription) Lagged() <-chan struct{} { return s.lagged }

// Close ends the subscription.
func (s *Subscription) Close() { s.cancel() }

// List is the revocation list of one replica. Safe for concurrent use.
type List struct {
	pool   *pgxpool.Pool
	st     *store.Store
	signer Signer
	cfg    Config

	buildMu sync.Mutex // one build at a time

	mu      sync.RWMutex
	body    []byte
	etag    string
	exp     time.Time // the current list's exp
	seq     int64     // of the current list
	named   int       // sessions the current list names
	cutoff  int64     // the current list's before (0: none)
	subs    map[int]*Subscription
	nextSub int
	listed  map[string]bool // sessions in the current list: their events went out already
	heard   map[int64]bool  // revocations delivered since the last build

	signed  sync.Map // seq -> []byte: revocation events, signed once per replica
	nSigned atomic.Int64

	ending    chan struct{} // closed by EndStreams
	endingOne sync.Once

	running   atomic.Bool // Run is keeping the list current
	listening atomic.Bool // Run's LISTEN connection is up
	listened  atomic.Bool // it has been up since Run started
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.CacheTTL == 0 {
		c.CacheTTL = DefaultCacheTTL
	}
	if c.Refresh <= 0 {
		c.Refresh = c.CacheTTL / 3
	}
	if c.MaxListedBytes == 0 {
		c.MaxListedBytes = DefaultMaxListedBytes
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate reports every problem of the configuration (after defaults are applied),
// joined in one error, or nil. New calls it.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.Issuer == "" {
		errs = append(errs, errors.New("revocation: Config.Issuer is required"))
	}
	if c.CacheTTL < 60*time.Second || c.CacheTTL > 300*time.Second {
		errs = append(errs, errors.New("revocation: Config.CacheTTL must be between 60 s and 300 s"))
	}
	if c.Window <= 0 {
		errs = append(errs, errors.New("revocation: Config.Window must be positive"))
	}
	if c.MaxListedBytes < 0 || c.MaxListedBytes > DefaultMaxListedBytes {
		errs = append(errs, fmt.Errorf("revocation: Config.MaxListedBytes must be between 1 and %d", DefaultMaxListedBytes))
	}
	return errors.Join(errs...)
}

// New builds the first list (so Body is ready) and returns it. Call Run to keep it current.
func New(ctx context.Context, pool *pgxpool.Pool, signer Signer, cfg Config) (*List, error) {
	err := cfg.Validate()
	if pool == nil || signer == nil {
		err = errors.Join(err, errors.New("revocation: pool and signer are required"))
	}
	if err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	l := &List{pool: pool, st: store.New(pool), signer: signer, cfg: cfg,
		subs: map[int]*Subscription{}, listed: map[string]bool{}, heard: map[int64]bool{}, ending: make(chan struct{})}
	if err := l.Rebuild(ctx); err != nil {
		return nil, err
	}
	return l, nil
}

// Body returns the current signed list (a compact JWS) and its ETag (quoted).
func (l *List) Body() ([]byte, string) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.body, l.etag
}

// Stats returns how many sessions the current list names, and its cutoff (unix
// seconds; 0: none).
func (l *List) Stats() (named int, cutoff int64) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.named, l.cutoff
}

// Expires returns when the current list expires (its exp). A list that could not be
// rebuilt in time must not be served past it: a receiver revalidating its ETag would
// take it for current.
func (l *List) Expires() time.Time {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.exp
}

// Ready returns nil while the list is kept current, and otherwise why not: while Run's
// LISTEN connection is down (revocations made through other replicas are not heard and
// the list is not rebuilt), and once the list is within min(Refresh, CacheTTL/3) of its
// exp (several rebuilds in a row failed; past exp it is no longer served). A readiness
// check reports it so that a load balancer takes the replica out before its list
// answers 503. Before Run starts, and after it ends, only the list's exp counts.
func (l *List) Ready() error {
	if l.running.Load() && !l.listening.Load() {
		if !l.listened.Load() {
			return errors.New("revocation listener connecting: revocations are not heard yet")
		}
		return errors.New("revocation listener disconnected: revocations are not heard and the list is not rebuilt (reconnecting)")
	}
	now, exp := l.cfg.Now(), l.Expires()
	left := exp.Sub(now)
	switch {
	case left <= 0:
		return fmt.Errorf("revocation list expired %s ago and was not rebuilt", (-left).Truncate(time.Second))
	case left < min(l.cfg.Refresh, l.cfg.CacheTTL/3):
		return fmt.Errorf("revocation list expires in %s and is not being rebuilt", left.Truncate(time.Second))
	}
	return nil
}

// CurrentEvent returns the current list as an event.
func (l *List) CurrentEvent() Event {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return Event{Kind: KindList, Seq: l.seq, Data: l.body}
}

// Rebuild reads the revoked sessions, signs a new list, makes it current and hands it
// to subscribers, after the events of the revocations it lists for the first time that
// no notification has delivered yet (a notification may still be on its way, or was
// missed while the listener reconnected): a subscriber always hears of a revocation
// with its reason before it finds it in a list.
func (l *List) Rebuild(ctx context.Context) error {
	l.buildMu.Lock()
	defer l.buildMu.Unlock()
	now := l.cfg.Now()
	revoked, seq, err := l.st.RevocationListSince(ctx, now.Add(-l.cfg.Window))
	if err != nil {
		return err
	}
	listed := make(map[string]bool, len(revoked)) // named or covered by the cutoff
	var unheard []store.Revoked
	l.mu.RLock()
	for _, r := range revoked {
		listed[r.SessionID] = true
		if !l.listed[r.SessionID] && !l.heard[r.Seq] && r.Seq > 0 {
			unheard = append(unheard, r)
		}
	}
	l.mu.RUnlock()
	sids, before := l.name(revoked, now)
	if before != 0 {
		l.cfg.Logger.WarnContext(ctx, "revocation list: more revoked sessions than it can name; tokens issued before the cutoff must be refreshed",
			"revoked", len(revoked), "named", len(sids), "cutoff", time.Unix(before, 0).UTC())
	}
	c := Claims{Issuer: l.cfg.Issuer, IssuedAt: now.Unix(), ExpiresAt: now.Add(l.cfg.CacheTTL).Unix(), SessionIDs: sids, Before: before, Seq: seq}
	tok, err := l.signer.Sign(ctx, c, Type)
	if err != nil {
		return errors.Join(errors.New("revocation: sign list"), err)
	}
	sum := sha256.Sum256([]byte(tok))
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
	for _, r := range unheard {
		l.deliverRevoked(ctx, r)
	}

	l.mu.Lock()
	l.body, l.etag, l.seq, l.listed, l.heard = []byte(tok), etag, seq, listed, map[int64]bool{}
	l.named, l.cutoff = len(sids), before
	l.exp = time.Unix(c.ExpiresAt, 0)
	l.mu.Unlock()
	l.deliver(Event{Kind: KindList, Seq: seq, Data: []byte(tok)})
	return nil
}

// name picks the revoked sessions (in the order given: oldest revocation first) that
// the list built at now names, and its cutoff (0: none).
//
// Verifiers need a session named while one of its access tokens may still be accepted:
// while its latest was issued (LastUsed: iat is that time in whole seconds, earlier
// tokens are older) within the window. When those would take more than
// MaxListedBytes, the list names the most recently issued ones and sets the cutoff at
// the second after the newest of the rest got its token, so every token of theirs was
// issued before it (sessions that got theirs in that same second are left out too).
// The cutoff never passes the list's own iat (a later one would refuse the tokens
// issued next): should the budget be spent within the current second, the list names
// every session of that second.
//
// Sessions revoked within the window whose tokens have all expired are named too while
// there is room, most recent revocation first: a socket server that missed their
// events (it fell behind the stream) learns of them from the list, as it did before
// lists had a budget. Past the budget it learns of them from the cutoff instead, which
// ends every socket authorized before it (wsauth, 4013).
func (l *List) name(revoked []store.Revoked, now time.Time) (sids []string, before int64) {
	since := now.Add(-l.cfg.Window)
	var live, idle []store.Revoked
	for _, r := range revoked {
		if r.LastUsed.After(since) {
			live = append(live, r)
		} else {
			idle = append(idle, r)
		}
	}
	slices.SortStableFunc(live, func(a, b store.Revoked) int { return b.LastUsed.Compare(a.LastUsed) }) // newest first
	named := make(map[string]bool, len(revoked))
	size := 0
	for _, r := range live {
		if size += len(r.SessionID) + 3; size > l.cfg.MaxListedBytes {
			before = min(r.LastUsed.Unix()+1, now.Unix())
			break
		}
	}
	for _, r := range live {
		if r.LastUsed.Unix() >= before {
			named[r.SessionID] = true
		}
	}
	if before == 0 {
		for _, r := range slices.Backward(idle) {
			if size+len(r.SessionID)+3 > l.cfg.MaxListedBytes {
				break
			}
			size += len(r.SessionID) + 3
			named[r.SessionID] = true
		}
	}
	sids = make([]string, 0, len(named)) // [] in the JSON, never null
	for _, r := range revoked {
		if named[r.SessionID] {
			sids = append(sids, r.SessionID)
		}
	}
	return sids, before
}

// Subscribe returns a feed of every revocation heard from now on (from any replica) and
// every list built. An event is never dropped silently: a subscriber whose buffer of buf
// events is full is cut off (Lagged) and must start again.
func (l *List) Subscribe(buf int) *Subscription {
	ch := make(chan Event, max(buf, 1))
	sub := &Subscription{C: ch, ch: ch, lagged: make(chan struct{})}
	l.mu.Lock()
	id := l.nextSub
	l.nextSub++
	l.subs[id] = sub
	l.mu.Unlock()
	var once sync.Once
	sub.cancel = func() {
		once.Do(func() {
			l.mu.Lock()
			delete(l.subs, id)
			l.mu.Unlock()
		})
	}
	return sub
}

func (l *List) deliver(ev Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, sub := range l.subs {
		select {
		case sub.ch <- ev:
		default:
			l.cfg.Logger.Warn("revocation subscriber too slow; cut off (it resumes after reconnecting)")
			delete(l.subs, id)
			close(sub.lagged)
		}
	}
}

// heardNotify hands the revocation announced through NOTIFY to subscribers, unless a
// list built since has already delivered it. A notice without a number (from a replica
// of an older version) is left to the next list.
func (l *List) heardNotify(ctx context.Context, payload string) {
	n, ok := store.ParseRevocationNotice(payload)
	if !ok {
		l.cfg.Logger.Warn("revocation notification not understood; the next list covers it")
		return
	}
	if n.Seq == 0 {
		return
	}
	l.deliverRevoked(ctx, store.Revoked{Seq: n.Seq, SessionID: n.SessionID, Reason: n.Reason})
}

// deliverRevoked signs one revocation and hands it to subscribers, once per list
// (the list that names it, and the notification, may both bring it here). One that
// cannot be signed (no fresh key) is left to the list.
func (l *List) deliverRevoked(ctx context.Context, r store.Revoked) {
	l.mu.Lock()
	dup := l.listed[r.SessionID] || l.heard[r.Seq]
	l.heard[r.Seq] = true
	l.mu.Unlock()
	if dup {
		return
	}
	data, err := l.signEvent(ctx, r)
	if err != nil {
		l.cfg.Logger.Warn("revocation event not signed; the next list covers it", "err", err)
		return
	}
	l.deliver(Event{Kind: KindRevoked, Seq: r.Seq, Data: data, SessionID: r.SessionID})
}

// maxSigned bounds the cache of signed events (a few hundred bytes each).
const maxSigned = 8192

// signEvent returns the signed event of one revocation, signing it once per replica.
func (l *List) signEvent(ctx context.Context, r store.Revoked) ([]byte, error) {
	if b, ok := l.signed.Load(r.Seq); ok {
		return b.([]byte), nil
	}
	tok, err := l.signer.Sign(ctx, EventClaims{Issuer: l.cfg.Issuer, IssuedAt: l.cfg.Now().Unix(),
		SessionID: r.SessionID, Seq: r.Seq, Reason: r.Reason}, EventType)
	if err != nil {
		return nil, err
	}
	if l.nSigned.Add(1) > maxSigned {
		l.signed.Clear() // events are re-signed on demand; a full cache just starts over
		l.nSigned.Store(1)
	}
	l.signed.Store(r.Seq, []byte(tok))
	return []byte(tok), nil
}

// ReplayLookback covers revocations that commit after one with a higher number (see
// store.RevocationsAfter): far longer than a revocation's transaction takes.
const ReplayLookback = 30 * time.Second

// maxReplay bounds what Replay returns: a subscriber that missed more gets the newest
// (those the list the stream sends may not name yet: it was built before them) and
// learns the older ones from that list (their sessions, without their reasons).
// Without a bound, any caller could have one stream sign and hold every revocation of
// the last day (Last-Event-ID: 0) before its first byte.
var maxReplay = 1000 // a variable for the tests (export_test.go)

// Replay returns, signed and in number order, the revocations a subscriber that saw
// number after may have missed: those numbered after it, and those that happened up
// to ReplayLookback before it (repeats, which receivers ignore, are the price of
// never missing one that committed late); at most maxReplay of them, the newest.
func (l *List) Replay(ctx context.Context, after int64) ([]Event, error) {
	rows, err := l.st.RevocationsAfter(ctx, after, ReplayLookback, maxReplay)
	if err != nil {
		return nil, err
	}
	out := make([]Event, 0, len(rows))
	for _, r := range rows {
		data, err := l.signEvent(ctx, r)
		if err != nil {
			return nil, err
		}
		out = append(out, Event{Kind: KindRevoked, Seq: r.Seq, Data: data, SessionID: r.SessionID})
	}
	return out, nil
}

// EndStreams tells every stream to end (the server is shutting down: its clients
// reconnect to another replica). Run ending does the same.
func (l *List) EndStreams() { l.endingOne.Do(func() { close(l.ending) }) }

// Ending is closed when streams should end.
func (l *List) Ending() <-chan struct{} { return l.ending }

// Run keeps the list current until ctx ends: it LISTENs on a dedicated connection
// (reconnecting with exponential backoff, 100 ms up to 10 s, and rebuilding after every
// reconnect since notifications may have been missed), rebuilds shortly after each
// notification (bursts coalesce into one build) and at least every Config.Refresh.
//
// While the connection is down, Ready reports it.
func (l *List) Run(ctx context.Context) {
	defer l.EndStreams()
	l.listened.Store(false)
	l.running.Store(true)
	defer l.running.Store(false)
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := l.listen(ctx, func() { backoff = 100 * time.Millisecond; l.listening.Store(true); l.listened.Store(true) })
		l.listening.Store(false)
		if ctx.Err() != nil {
			return
		}
		l.cfg.Logger.Warn("revocation listener lost its connection; reconnecting", "err", err, "backoff", backoff)
		// While PostgreSQL is away no list can be built (it needs the revoked ids); the
		// last good list is served until it expires, then edges fail closed.
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

// ListenerApplicationName is the application_name of the listener's connection (in
// pg_stat_activity).
const ListenerApplicationName = "edgeauth revocation listener"

// How the listener tells a database that stopped answering from a quiet one. A failover
// can leave its connection (and the pool's) to the old primary open and silent: nothing
// is refused, no notification ever comes, and a query waits for good while the new
// primary answers new connections. So the connection is pinged whenever it has been
// quiet for listenerCheckEvery, and dropped (reconnected) if no answer comes within
// listenerCheckTimeout; a rebuild that takes longer than rebuildTimeout fails, and is
// retried, like any failed rebuild.
const (
	listenerCheckEvery   = 5 * time.Second
	listenerCheckTimeout = 5 * time.Second
	rebuildTimeout       = 10 * time.Second
)

// listen runs one connection's life. A failed rebuild (database hiccup, signer without a
// fresh key) is retried every second without dropping the listener; only a connection
// error, or a connection that no longer answers, ends it.
func (l *List) listen(ctx context.Context, connected func()) error {
	cc := l.pool.Config().ConnConfig.Copy()
	if cc.RuntimeParams == nil {
		cc.RuntimeParams = map[string]string{}
	}
	cc.RuntimeParams["application_name"] = ListenerApplicationName
	// Its waits end by their deadline all the time (they run no statement): a cancel
	// request each time, as the pool's connections send (config.PoolConfig), would be
	// a connection to the server for nothing.
	cc.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()}
	}
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+store.RevocationChannel); err != nil {
		return err
	}
	connected()
	var next time.Time // when to rebuild; zero: now (after connecting: notifications may have been missed)
	for {
		if !time.Now().Before(next) {
			rctx, cancel := context.WithTimeout(ctx, rebuildTimeout)
			err := l.Rebuild(rctx)
			cancel()
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				l.cfg.Logger.Warn("revocation list rebuild failed; keeping the last one", "err", err)
				next = time.Now().Add(time.Second)
			} else {
				next = time.Now().Add(l.cfg.Refresh)
			}
		}
		wait := time.Now().Add(listenerCheckEvery)
		if next.Before(wait) {
			wait = next
		}
		wctx, cancel := context.WithDeadline(ctx, wait)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if !errors.Is(err, context.DeadlineExceeded) || conn.IsClosed() {
				return err
			}
			if time.Now().Before(next) { // quiet: is the database still there?
				pctx, cancel := context.WithTimeout(ctx, listenerCheckTimeout)
				err := conn.Ping(pctx)
				cancel()
				if err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					return fmt.Errorf("revocation: listener connection does not answer: %w", err)
				}
			}
			continue // time to rebuild, or to wait again
		}
		l.heardNotify(ctx, n.Payload)
		// Coalesce a burst (logout-all revokes many sessions at once) into one rebuild.
		drain, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		for {
			n, err := conn.WaitForNotification(drain)
			if err != nil {
				break
			}
			l.heardNotify(ctx, n.Payload)
		}
		cancel()
		if conn.IsClosed() {
			return errors.New("revocation: listener connection closed")
		}
		next = time.Time{}
	}
}

// Package revocation builds, signs and serves the revocation list: the ids of sessions
// revoked within the last access-token lifetime plus leeway, as a compact JWS (typ
// "edgeauth-revocations+jwt") that edges poll beside the JWKS. Payload:
//
//	{"iss": <issuer>, "iat": <unix>, "exp": <iat + CacheTTL>, "sids": ["<session id>", ...]}
//
// The list is kept in memory and rebuilt when PostgreSQL announces a revocation
// (LISTEN on store.RevocationChannel, on a dedicated connection that reconnects with
// backoff; every replica hears every revocation) and periodically, so it is re-signed
// well before it expires. Subscribe delivers revoked session ids as they are heard (the
// WebSocket gateway closes sockets with them).
package revocation

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/edgeauth/edgeauth/controlplane/store"
	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Type is the typ header of a revocation list.
const Type = "edgeauth-revocations+jwt"

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
	Now     func() time.Time // default time.Now
	Logger  *slog.Logger     // default slog.Default()
}

// Defaults.
const (
	DefaultWindow   = 11 * time.Minute
	DefaultCacheTTL = 60 * time.Second
)

// Claims is the payload of the list.
type Claims struct {
	Issuer     string   `json:"iss"`
	IssuedAt   int64    `json:"iat"`
	ExpiresAt  int64    `json:"exp"`
	SessionIDs []string `json:"sids"`
}

func nd(v int64) *jwt.NumericDate                             { return jwt.NewNumericDate(time.Unix(v, 0)) }
func (c Claims) GetExpirationTime() (*jwt.NumericDate, error) { return nd(c.ExpiresAt), nil }
func (c Claims) GetIssuedAt() (*jwt.NumericDate, error)       { return nd(c.IssuedAt), nil }
func (c Claims) GetNotBefore() (*jwt.NumericDate, error)      { return nil, nil }
func (c Claims) GetIssuer() (string, error)                   { return c.Issuer, nil }
func (c Claims) GetSubject() (string, error)                  { return "", nil }
func (c Claims) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }

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
	claims  Claims
	listed  map[string]bool // sids in the current list
	heard   map[string]bool // sids delivered to subscribers since the last build
	subs    map[int]chan string
	nextSub int
}

// New builds the first list (so Body is ready) and returns it. Call Run to keep it current.
func New(ctx context.Context, pool *pgxpool.Pool, signer Signer, cfg Config) (*List, error) {
	var errs []error
	if cfg.Issuer == "" {
		errs = append(errs, errors.New("revocation: Config.Issuer is required"))
	}
	if cfg.Window == 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = DefaultCacheTTL
	}
	if cfg.CacheTTL < 60*time.Second || cfg.CacheTTL > 300*time.Second {
		errs = append(errs, errors.New("revocation: Config.CacheTTL must be between 60 s and 300 s"))
	}
	if cfg.Window <= 0 {
		errs = append(errs, errors.New("revocation: Config.Window must be positive"))
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = cfg.CacheTTL / 3
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if pool == nil || signer == nil {
		errs = append(errs, errors.New("revocation: pool and signer are required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	l := &List{pool: pool, st: store.New(pool), signer: signer, cfg: cfg,
		listed: map[string]bool{}, heard: map[string]bool{}, subs: map[int]chan string{}}
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

// Current returns the payload of the current list.
func (l *List) Current() Claims {
	l.mu.RLock()
	defer l.mu.RUnlock()
	c := l.claims
	c.SessionIDs = append([]string(nil), c.SessionIDs...)
	return c
}

// Rebuild reads the revoked sessions, signs a new list and makes it current. Sessions that
// appear for the first time and were not already heard through NOTIFY are delivered to
// subscribers (a reconnect may have missed their notification).
func (l *List) Rebuild(ctx context.Context) error {
	l.buildMu.Lock()
	defer l.buildMu.Unlock()
	now := l.cfg.Now()
	sids, err := l.st.RevokedSince(ctx, now.Add(-l.cfg.Window))
	if err != nil {
		return err
	}
	if sids == nil {
		sids = []string{}
	}
	c := Claims{Issuer: l.cfg.Issuer, IssuedAt: now.Unix(), ExpiresAt: now.Add(l.cfg.CacheTTL).Unix(), SessionIDs: sids}
	tok, err := l.signer.Sign(ctx, c, Type)
	if err != nil {
		return errors.Join(errors.New("revocation: sign list"), err)
	}
	sum := sha256.Sum256([]byte(tok))
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`

	l.mu.Lock()
	listed := make(map[string]bool, len(sids))
	var fresh []string
	for _, sid := range sids {
		listed[sid] = true
		if !l.listed[sid] && !l.heard[sid] {
			fresh = append(fresh, sid)
		}
	}
	l.body, l.etag, l.claims, l.listed, l.heard = []byte(tok), etag, c, listed, map[string]bool{}
	l.mu.Unlock()
	for _, sid := range fresh {
		l.deliver(sid)
	}
	return nil
}

// Subscribe returns a channel receiving the id of every session revoked from now on (from
// any replica), and a cancel function. Ids may repeat; a subscriber too slow to keep up
// with a buffer of buf misses ids (they stay on the list).
func (l *List) Subscribe(buf int) (<-chan string, func()) {
	ch := make(chan string, max(buf, 1))
	l.mu.Lock()
	id := l.nextSub
	l.nextSub++
	l.subs[id] = ch
	l.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			l.mu.Lock()
			delete(l.subs, id)
			l.mu.Unlock()
		})
	}
}

func (l *List) deliver(sid string) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	for _, ch := range l.subs {
		select {
		case ch <- sid:
		default:
			l.cfg.Logger.Warn("revocation subscriber too slow; id dropped", "session", sid)
		}
	}
}

// heardNotify records and delivers a sid announced through NOTIFY.
func (l *List) heardNotify(sid string) {
	l.mu.Lock()
	dup := l.listed[sid] || l.heard[sid]
	l.heard[sid] = true
	l.mu.Unlock()
	if !dup {
		l.deliver(sid)
	}
}

// Run keeps the list current until ctx ends: it LISTENs on a dedicated connection
// (reconnecting with exponential backoff, 100 ms up to 10 s, and rebuilding after every
// reconnect since notifications may have been missed), rebuilds shortly after each
// notification (bursts coalesce into one build) and at least every Config.Refresh.
func (l *List) Run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := l.listen(ctx, func() { backoff = 100 * time.Millisecond })
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

// listen runs one connection's life. A failed rebuild (database hiccup, signer without a
// fresh key) is retried every second without dropping the listener; only a connection
// error ends it.
func (l *List) listen(ctx context.Context, connected func()) error {
	conn, err := pgx.ConnectConfig(ctx, l.pool.Config().ConnConfig.Copy())
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
			if err := l.Rebuild(ctx); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				l.cfg.Logger.Warn("revocation list rebuild failed; keeping the last one", "err", err)
				next = time.Now().Add(time.Second)
			} else {
				next = time.Now().Add(l.cfg.Refresh)
			}
		}
		wctx, cancel := context.WithDeadline(ctx, next)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, context.DeadlineExceeded) && !conn.IsClosed() {
				continue // time to rebuild
			}
			return err
		}
		l.heardNotify(n.Payload)
		// Coalesce a burst (logout-all revokes many sessions at once) into one rebuild.
		drain, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		for {
			n, err := conn.WaitForNotification(drain)
			if err != nil {
				break
			}
			l.heardNotify(n.Payload)
		}
		cancel()
		if conn.IsClosed() {
			return errors.New("revocation: listener connection closed")
		}
		next = time.Time{}
	}
}

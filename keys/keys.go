// Package keys manages the control plane's signing keys: generation (Ed25519 by
// default, ES256, RS256-3072), encryption of private keys at rest under a
// key-encryption key, the lifecycle in PostgreSQL, signing, and the JWKS.
//
// Lifecycle (table signing_keys, migrations/002_signing_keys.sql):
//
//	pending  published in the JWKS, not signing, for at least PrePublish (> JWKSMaxAge
//	         + ReloadEvery) so every edge has cached it before the first token it signs
//	active   signs; exactly one
//	retired  stopped signing at retired_at, private key erased from the row; still
//	         published until retired_at + RetireAfter, when every token it signed has expired
//	removed  no longer published
//
// Every state change runs in one transaction holding a PostgreSQL advisory lock, so
// several replicas may advance the lifecycle or rotate at once and the result is the
// same as if one had (a partial unique index also forbids two active keys). Each
// replica keeps the published set, the active private key and the JWKS body in memory
// and refreshes them with Reload; Run does that twice per ReloadEvery and advances
// the lifecycle (activate due pending keys, retire the previous one, remove expired
// ones, create the next pending key RotateEvery after activation).
//
// Why the timings hold with replicas: a key created by one replica is published by
// the others at their next reload (within ReloadEvery), and an edge may keep a JWKS
// for JWKSMaxAge, hence PrePublish > JWKSMaxAge + ReloadEvery. A replica learns of an
// activation at its next reload and signs with the old key until then, hence
// RetireAfter >= MaxTokenLifetime + ReloadEvery. If reloads keep failing, Sign refuses
// with ErrStale once the in-memory set is older than MaxStale rather than sign tokens
// that could outlive their key. JWKSMaxAge must bound the total age an edge sees:
// caches between the control plane and the edges must honour max-age (and Age).
//
// The first key of an empty database is activated at once: nothing has been signed
// yet, and an edge meeting the unknown kid refetches the JWKS. Rotate with Immediate
// does the same on purpose (suspected compromise); see RotateOptions.
//
// Keys are identified by their RFC 7638 JWK thumbprint. Private keys are stored as
// PKCS #8 sealed with AES-256-GCM under the KEK, the ciphertext bound to kid and alg
// (see seal.go for the format and its version byte); nothing logged or returned
// (KeyInfo, JWKS, errors) contains private material.
package keys

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// State is a key's place in the lifecycle.
type State string

// Key states, as stored in signing_keys.state.
const (
	StatePending State = "pending"
	StateActive  State = "active"
	StateRetired State = "retired"
	StateRemoved State = "removed"
)

// KeyInfo describes a key without any private material. Times that have not happened
// (yet) are zero.
type KeyInfo struct {
	KID         string    `json:"kid"`
	Alg         string    `json:"alg"`
	State       State     `json:"state"`
	CreatedAt   time.Time `json:"created_at"`
	ActivateAt  time.Time `json:"activate_at"` // when a pending key is due to sign
	ActivatedAt time.Time `json:"activated_at,omitzero"`
	RetiredAt   time.Time `json:"retired_at,omitzero"`
	RemoveAt    time.Time `json:"remove_at,omitzero"` // when a retired key leaves the JWKS
	RemovedAt   time.Time `json:"removed_at,omitzero"`
}

// RotateOptions tune Rotate.
type RotateOptions struct {
	// Immediate makes the new key active at once, retires the current one and removes
	// any pending key. Use it when a key may be compromised: edges that have not
	// fetched the new key yet will refetch on the unknown kid (and may briefly refuse
	// tokens). Without it the new key is pending for PrePublish first, which no edge
	// notices.
	Immediate bool
}

// Manager signs with the active key and serves the JWKS from memory. It is safe for
// concurrent use; several Managers (replicas) may share one database.
type Manager struct {
	pool   *pgxpool.Pool
	cfg    Config
	log    *slog.Logger
	sealer *sealer

	snap atomic.Pointer[snapshot]

	mu      sync.Mutex         // serialises Reload; guards the caches
	signers map[string]*signer // decrypted private keys of pending and active keys, by kid
	jwks    map[string]jwk     // public JWKs, by kid
}

// signer is a decrypted key ready to sign.
type signer struct {
	kid    string
	alg    string
	method jwt.SigningMethod
	key    crypto.Signer
}

// snapshot is what one Reload saw: replaced as a whole, read without locks.
type snapshot struct {
	published []KeyInfo // not removed, oldest first
	loadedAt  time.Time // clock time of the Reload that made it
	active    *signer
	body      []byte
	etag      string
}

// NewManager checks cfg, opens the stored keys (a wrong or missing KEK fails here,
// with ErrWrongKEK, ErrNoKEK or ErrDecrypt), creates and activates a first key if the
// database has none, and returns a Manager ready to sign. Start Run to keep it current.
func NewManager(ctx context.Context, pool *pgxpool.Pool, cfg Config) (*Manager, error) {
	err := cfg.Validate()
	if pool == nil {
		err = errors.Join(err, errors.New("keys: a pool is required"))
	}
	if err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s, err := newSealer(cfg.KEK, cfg.PreviousKEKs, cfg.AllowPlaintext)
	if err != nil {
		return nil, err
	}
	cfg.KEK, cfg.PreviousKEKs = nil, nil // kept only inside the sealer
	m := &Manager{pool: pool, cfg: cfg, log: cfg.Logger, sealer: s,
		signers: map[string]*signer{}, jwks: map[string]jwk{}}
	body, _ := jwksBody(nil)
	m.snap.Store(&snapshot{body: body, etag: etag(body)})
	// Open what is stored before writing anything: a wrong KEK must not seal new keys.
	if err := m.Reload(ctx); err != nil {
		return nil, err
	}
	if err := m.Advance(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// Sign returns claims as a compact JWS signed by the active key, with header alg, kid
// and typ (e.g. "at+jwt"). It satisfies the auth and revocation packages' Signer.
//
// It returns ErrStale when this replica has not reloaded the key set for longer than
// MaxStale (its key may have been retired and soon removed elsewhere; its tokens
// could then outlive their key), and ErrNoActiveKey when there is no key.
func (m *Manager) Sign(ctx context.Context, claims jwt.Claims, typ string) (string, error) {
	snap := m.snap.Load()
	if err := m.fresh(snap); err != nil {
		return "", err
	}
	s := snap.active
	if s == nil {
		return "", ErrNoActiveKey
	}
	if typ == "" {
		return "", errors.New("keys: sign: empty typ")
	}
	t := jwt.NewWithClaims(s.method, claims)
	t.Header["kid"] = s.kid
	t.Header["typ"] = typ
	out, err := t.SignedString(s.key)
	if err != nil {
		return "", fmt.Errorf("keys: sign with %s: %w", s.kid, err)
	}
	return out, nil
}

// JWKS returns the published key set (pending, active and retired keys; public
// members only, oldest first) and its strong ETag, both computed once per change of
// the set. The body is shared: callers must not modify it.
func (m *Manager) JWKS() (body []byte, etag string) {
	s := m.snap.Load()
	return s.body, s.etag
}

// JWKSMaxAge is the max-age the HTTP layer should send with the JWKS
// (Cache-Control: public, max-age=<seconds>).
func (m *Manager) JWKSMaxAge() time.Duration { return m.cfg.JWKSMaxAge }

// MaxStale is how old the in-memory key set may grow (failed reloads) before Sign
// refuses and CheckFresh reports it: min(PrePublish - JWKSMaxAge, RetireAfter -
// MaxTokenLifetime), at least ReloadEvery by Validate. Within it, the JWKS this replica
// serves still lists every key that may sign, and every token it signs expires
// before its key leaves the JWKS.
func (m *Manager) MaxStale() time.Duration {
	return min(m.cfg.PrePublish-m.cfg.JWKSMaxAge, m.cfg.RetireAfter-m.cfg.MaxTokenLifetime)
}

// CheckFresh returns nil when the key set was reloaded within MaxStale, ErrStale
// otherwise: for readiness checks (a stale replica should leave the load balancer).
func (m *Manager) CheckFresh() error { return m.fresh(m.snap.Load()) }

func (m *Manager) fresh(s *snapshot) error {
	if age := m.cfg.Now().Sub(s.loadedAt); age > m.MaxStale() {
		return fmt.Errorf("%w: last reload %s ago (limit %s)", ErrStale, age.Truncate(time.Second), m.MaxStale())
	}
	return nil
}

// Active describes the key this replica signs with now; false if there is none.
func (m *Manager) Active() (KeyInfo, bool) {
	s := m.snap.Load()
	for _, k := range s.published {
		if s.active != nil && k.KID == s.active.kid {
			return k, true
		}
	}
	return KeyInfo{}, false
}

// Reload reads the key set from PostgreSQL and replaces the in-memory signing key and
// JWKS. It changes nothing in the database. On error the previous state stays in use.
//
// A pending key whose private key this replica cannot open (sealed under a KEK it does
// not have, see ErrWrongKEK) is published but not made ready to sign, and a warning
// names it: one misconfigured replica must not stop the others from reloading. The
// active key must open, or Reload fails (the replica keeps its last set and turns
// stale after MaxStale rather than sign with a key that no longer signs).
func (m *Manager) Reload(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	all, err := loadPublished(ctx, m.pool)
	if err != nil {
		return err
	}

	next := &snapshot{loadedAt: m.now()}
	var set []jwk
	signers := map[string]*signer{}
	jwks := map[string]jwk{}
	for _, l := range all {
		j, ok := m.jwks[l.info.KID]
		if !ok {
			pub, err := x509.ParsePKIXPublicKey(l.public)
			if err != nil {
				return fmt.Errorf("keys: reload: public key %s: %w", l.info.KID, err)
			}
			if j, err = publicJWK(l.info.Alg, pub); err != nil {
				return fmt.Errorf("keys: reload: key %s: %w", l.info.KID, err)
			}
			j.Kid = l.info.KID
		}
		jwks[l.info.KID] = j
		set = append(set, j)
		next.published = append(next.published, l.info)

		if l.info.State != StateActive && l.info.State != StatePending {
			continue
		}
		s, ok := m.signers[l.info.KID]
		if !ok {
			if s, err = m.openSigner(l.info.KID, l.info.Alg, l.sealed, j); err != nil {
				if l.info.State == StatePending {
					// Errors name the kid and KEK ids, never key material.
					m.log.Warn("signing keys: a pending key cannot be opened here; it is published, and this replica cannot sign once it is active: give every replica the KEK that sealed it (keys.kek or keys.previous_keks)",
						"kid", l.info.KID, "activate_at", l.info.ActivateAt, "err", err)
					continue
				}
				return fmt.Errorf("keys: reload: %w", err)
			}
		}
		signers[l.info.KID] = s
		if l.info.State == StateActive {
			if next.active != nil {
				return fmt.Errorf("keys: reload: two active keys (%s, %s)", next.active.kid, s.kid)
			}
			next.active = s
		}
	}
	if next.body, err = jwksBody(set); err != nil {
		return err
	}
	prev := m.snap.Load()
	if string(prev.body) == string(next.body) {
		next.body, next.etag = prev.body, prev.etag
	} else {
		next.etag = etag(next.body)
	}
	m.signers, m.jwks = signers, jwks
	m.snap.Store(next)
	return nil
}

// openSigner decrypts a stored private key and checks it matches the published key.
func (m *Manager) openSigner(kid, alg string, sealed []byte, pub jwk) (*signer, error) {
	der, err := m.sealer.open(kid, alg, sealed)
	if err != nil {
		return nil, err
	}
	key, err := parsePrivate(alg, der)
	if sealed[0] != sealPlain {
		clear(der)
	}
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", kid, err)
	}
	j, err := publicJWK(alg, key.Public())
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", kid, err)
	}
	j.Kid = kid
	if j != pub {
		return nil, fmt.Errorf("%w: key %s: private key does not match the published public key", ErrDecrypt, kid)
	}
	meth, err := method(alg)
	if err != nil {
		return nil, err
	}
	return &signer{kid: kid, alg: alg, method: meth, key: key}, nil
}

// Run advances the lifecycle and reloads twice per ReloadEvery until ctx ends. Errors
// are logged (never with key material) and retried at the next tick.
func (m *Manager) Run(ctx context.Context) {
	t := time.NewTicker(m.cfg.ReloadEvery / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := m.Advance(ctx); err != nil && ctx.Err() == nil {
				m.log.Warn("signing keys: advance failed", "err", err, "fresh", m.CheckFresh() == nil)
			}
		}
	}
}

// Advance moves the lifecycle forward to now (see the package comment), in one
// transaction under the advisory lock, then reloads. Run calls it on every tick;
// it is idempotent, and replicas calling it at once do each change only once.
//
// It reloads even when the lifecycle step fails (a row sealed under a KEK this replica
// does not have cannot be re-sealed, the lock timed out, ...): other replicas may have
// moved the lifecycle, and a replica that stopped reloading would turn stale. The
// error returned joins both failures.
func (m *Manager) Advance(ctx context.Context) error {
	err := m.locked(ctx, m.advance)
	if err != nil {
		err = fmt.Errorf("keys: advance: %w", err)
	}
	return errors.Join(err, m.Reload(ctx))
}

// Rotate starts a rotation now, for the `keys rotate` command.
//
// By default the new key is created pending and becomes active PrePublish later (the
// next Advance after that, on any replica); if a pending key of the configured
// algorithm already exists, no second key is made: its activation is brought forward
// to now + PrePublish if it was later, and it is returned. With opts.Immediate the new
// key signs at once (see RotateOptions). Returns the new (or pending) key.
func (m *Manager) Rotate(ctx context.Context, opts RotateOptions) (KeyInfo, error) {
	var out KeyInfo
	err := m.locked(ctx, func(ctx context.Context, tx txn, keys []KeyInfo, now time.Time) error {
		var err error
		if opts.Immediate {
			for _, k := range keys {
				switch k.State {
				case StatePending:
					err = setRemoved(ctx, tx, k.KID, now)
				case StateActive:
					err = setRetired(ctx, tx, k.KID, now, now.Add(m.cfg.RetireAfter))
				}
				if err != nil {
					return err
				}
			}
			out, err = m.create(ctx, tx, StateActive, now, now)
			if err == nil {
				m.log.Warn("signing keys: immediate rotation: new key active now", "kid", out.KID, "alg", out.Alg)
			}
			return err
		}
		due := now.Add(m.cfg.PrePublish)
		for _, k := range keys {
			if k.State == StatePending && k.Alg == m.cfg.Algorithm {
				if k.ActivateAt.After(due) {
					if err := setActivateAt(ctx, tx, k.KID, due); err != nil {
						return err
					}
					k.ActivateAt = due
				}
				out = k
				return nil
			}
		}
		out, err = m.create(ctx, tx, StatePending, now, due)
		if err == nil {
			m.log.Info("signing keys: rotation started", "kid", out.KID, "alg", out.Alg, "activate_at", out.ActivateAt)
		}
		return err
	})
	if err != nil {
		return KeyInfo{}, err
	}
	return out, m.Reload(ctx)
}

// List returns every key the database knows, removed ones included, oldest first.
func (m *Manager) List(ctx context.Context) ([]KeyInfo, error) {
	return listAll(ctx, m.pool)
}

// List returns every key stored in pool's database, removed ones included, oldest
// first, without a Manager: it needs no key-encryption key, opens no private key and
// changes nothing (no key is created, activated, retired or re-sealed), so a listing
// shows the keys as they are stored. For the `keys list` command.
func List(ctx context.Context, pool *pgxpool.Pool) ([]KeyInfo, error) {
	return listAll(ctx, pool)
}

func (m *Manager) now() time.Time { return m.cfg.Now().UTC().Truncate(time.Microsecond) }

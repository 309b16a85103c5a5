package keys

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Every SQL statement of the package is in this file; keys.go works on what these
// functions return.

// lockID is the transaction-scoped advisory lock every lifecycle change takes
// ("edgekeys" in ASCII), so replicas change the key set one at a time.
const lockID int64 = 0x656467656b657973

const infoColumns = `kid, alg, state, created_at, activate_at, activated_at, retired_at, remove_at, removed_at`

type txn = pgx.Tx

// scanInfo reads infoColumns (then extra columns) into k.
func scanInfo(row pgx.Row, k *KeyInfo, extra ...any) error {
	var activated, retired, removeAt, removed *time.Time
	dest := append([]any{&k.KID, &k.Alg, &k.State, &k.CreatedAt, &k.ActivateAt, &activated, &retired, &removeAt, &removed}, extra...)
	if err := row.Scan(dest...); err != nil {
		return err
	}
	set := func(dst *time.Time, src *time.Time) {
		if src != nil {
			*dst = src.UTC()
		}
	}
	k.CreatedAt, k.ActivateAt = k.CreatedAt.UTC(), k.ActivateAt.UTC()
	set(&k.ActivatedAt, activated)
	set(&k.RetiredAt, retired)
	set(&k.RemoveAt, removeAt)
	set(&k.RemovedAt, removed)
	return nil
}

// sqlstateUndefinedTable is PostgreSQL's undefined_table: the migrations did not run.
const sqlstateUndefinedTable = "42P01"

// storedKey is a published key as Reload reads it: its description, its public key
// (PKIX DER) and, for pending and active keys, its sealed private key.
type storedKey struct {
	info           KeyInfo
	public, sealed []byte
}

// loadPublished reads every key that is not removed, oldest first.
func loadPublished(ctx context.Context, pool *pgxpool.Pool) ([]storedKey, error) {
	rows, err := pool.Query(ctx, `SELECT `+infoColumns+`, public_key,
		CASE WHEN state IN ('pending', 'active') THEN private_key END
		FROM signing_keys WHERE state <> 'removed' ORDER BY created_at, kid`)
	if err != nil {
		if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == sqlstateUndefinedTable {
			return nil, fmt.Errorf("keys: reload: table signing_keys does not exist: apply the migrations first: %w", err)
		}
		return nil, fmt.Errorf("keys: reload: %w", err)
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (storedKey, error) {
		var k storedKey
		return k, scanInfo(r, &k.info, &k.public, &k.sealed)
	})
	if err != nil {
		return nil, fmt.Errorf("keys: reload: %w", err)
	}
	return all, nil
}

// listAll reads every key, removed ones included, oldest first.
func listAll(ctx context.Context, pool *pgxpool.Pool) ([]KeyInfo, error) {
	rows, err := pool.Query(ctx, `SELECT `+infoColumns+` FROM signing_keys ORDER BY created_at, kid`)
	if err != nil {
		if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == sqlstateUndefinedTable {
			return nil, fmt.Errorf("keys: list: table signing_keys does not exist: apply the migrations first: %w", err)
		}
		return nil, fmt.Errorf("keys: list: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (KeyInfo, error) {
		var k KeyInfo
		return k, scanInfo(r, &k)
	})
	if err != nil {
		return nil, fmt.Errorf("keys: list: %w", err)
	}
	return out, nil
}

// setActivateAt moves a pending key's activation.
func setActivateAt(ctx context.Context, tx txn, kid string, at time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE signing_keys SET activate_at = $2 WHERE kid = $1`, kid, at); err != nil {
		return fmt.Errorf("keys: rotate: %w", err)
	}
	return nil
}

// locked runs fn in a transaction holding the advisory lock, with the keys that are
// not removed (oldest first) and the current time read after the lock was granted.
func (m *Manager) locked(ctx context.Context, fn func(ctx context.Context, tx txn, keys []KeyInfo, now time.Time) error) error {
	return pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockID); err != nil {
			return fmt.Errorf("keys: lock: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT `+infoColumns+` FROM signing_keys
			WHERE state <> 'removed' ORDER BY created_at, kid FOR UPDATE`)
		if err != nil {
			return fmt.Errorf("keys: %w", err)
		}
		var keys []KeyInfo
		for rows.Next() {
			var k KeyInfo
			if err := scanInfo(rows, &k); err != nil {
				rows.Close()
				return fmt.Errorf("keys: %w", err)
			}
			keys = append(keys, k)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("keys: %w", err)
		}
		return fn(ctx, tx, keys, m.now())
	})
}

// advance applies the lifecycle rules at now:
//  1. retired keys whose remove_at has passed are removed;
//  2. pending keys whose activate_at has passed become active in turn, each retiring
//     the key active before it;
//  3. with no active key (a new database), a first key is created and activated at
//     once; nothing has been signed yet, so no verifier can miss it;
//  4. with no pending key, the successor of the active key is created pending when
//     RotateEvery - PrePublish has passed since activation, due RotateEvery after it;
//  5. private keys not sealed under the current KEK (one of PreviousKEKs, or
//     plaintext from development with AllowPlaintext) are re-sealed under it.
func (m *Manager) advance(ctx context.Context, tx txn, keys []KeyInfo, now time.Time) error {
	if err := m.advanceStates(ctx, tx, keys, now); err != nil {
		return err
	}
	return m.reseal(ctx, tx)
}

// reseal re-encrypts private keys sealed under anything but the current KEK.
func (m *Manager) reseal(ctx context.Context, tx txn) error {
	rows, err := tx.Query(ctx, `SELECT kid, alg, private_key FROM signing_keys WHERE state IN ('pending', 'active')`)
	if err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	type row struct {
		kid, alg string
		stored   []byte
	}
	var stale []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.kid, &r.alg, &r.stored); err != nil {
			rows.Close()
			return fmt.Errorf("keys: %w", err)
		}
		if !m.sealer.current(r.stored) {
			stale = append(stale, r)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	for _, r := range stale {
		der, err := m.sealer.open(r.kid, r.alg, r.stored)
		if err != nil {
			return err
		}
		sealed, err := m.sealer.seal(r.kid, r.alg, der)
		clear(der)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE signing_keys SET private_key = $2 WHERE kid = $1`, r.kid, sealed); err != nil {
			return fmt.Errorf("keys: re-seal %s: %w", r.kid, err)
		}
		m.log.Info("signing keys: private key re-sealed under the current key-encryption key", "kid", r.kid)
	}
	return nil
}

// advanceStates applies rules 1 to 4 of advance.
func (m *Manager) advanceStates(ctx context.Context, tx txn, keys []KeyInfo, now time.Time) error {
	var active *KeyInfo
	var pending []KeyInfo
	for i := range keys {
		k := keys[i]
		switch k.State {
		case StateActive:
			active = &keys[i]
		case StatePending:
			pending = append(pending, k)
		case StateRetired:
			if !now.Before(k.RemoveAt) {
				if err := setRemoved(ctx, tx, k.KID, now); err != nil {
					return err
				}
				m.log.Info("signing keys: key removed from the JWKS", "kid", k.KID, "alg", k.Alg)
			}
		}
	}
	slices.SortStableFunc(pending, func(a, b KeyInfo) int { return a.ActivateAt.Compare(b.ActivateAt) })
	for len(pending) > 0 && !now.Before(pending[0].ActivateAt) {
		p := pending[0]
		pending = pending[1:]
		if err := m.activate(ctx, tx, active, &p, now); err != nil {
			return err
		}
		active = &p
	}
	if active == nil {
		if len(pending) > 0 {
			// Should not happen (no active key but one is scheduled): signing matters more
			// than pre-publication, so the earliest pending key starts now.
			p := pending[0]
			pending = pending[1:]
			m.log.Warn("signing keys: no active key; activating a pending key early", "kid", p.KID)
			if err := m.activate(ctx, tx, nil, &p, now); err != nil {
				return err
			}
			active = &p
		} else {
			k, err := m.create(ctx, tx, StateActive, now, now)
			if err != nil {
				return err
			}
			m.log.Info("signing keys: first key created and active", "kid", k.KID, "alg", k.Alg, "issuer", m.cfg.Issuer)
			active = &k
		}
	}
	if len(pending) == 0 && !now.Before(active.ActivatedAt.Add(m.cfg.RotateEvery-m.cfg.PrePublish)) {
		due := active.ActivatedAt.Add(m.cfg.RotateEvery)
		if earliest := now.Add(m.cfg.PrePublish); due.Before(earliest) {
			due = earliest
		}
		k, err := m.create(ctx, tx, StatePending, now, due)
		if err != nil {
			return err
		}
		m.log.Info("signing keys: successor published", "kid", k.KID, "alg", k.Alg, "activate_at", k.ActivateAt)
	}
	return nil
}

// activate retires prev (if any) and makes p active at now, updating p in place.
func (m *Manager) activate(ctx context.Context, tx txn, prev, p *KeyInfo, now time.Time) error {
	if prev != nil {
		if err := setRetired(ctx, tx, prev.KID, now, now.Add(m.cfg.RetireAfter)); err != nil {
			return err
		}
		m.log.Info("signing keys: key retired", "kid", prev.KID, "remove_at", now.Add(m.cfg.RetireAfter))
	}
	tag, err := tx.Exec(ctx, `UPDATE signing_keys SET state = 'active', activated_at = $2
		WHERE kid = $1 AND state = 'pending'`, p.KID, now)
	if err != nil {
		return fmt.Errorf("keys: activate %s: %w", p.KID, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("keys: activate %s: not pending", p.KID)
	}
	p.State, p.ActivatedAt = StateActive, now
	m.log.Info("signing keys: key active", "kid", p.KID, "alg", p.Alg)
	return nil
}

func setRetired(ctx context.Context, tx txn, kid string, now, removeAt time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE signing_keys SET state = 'retired', retired_at = $2, remove_at = $3, private_key = NULL
		WHERE kid = $1 AND state = 'active'`, kid, now, removeAt); err != nil {
		return fmt.Errorf("keys: retire %s: %w", kid, err)
	}
	return nil
}

func setRemoved(ctx context.Context, tx txn, kid string, now time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE signing_keys SET state = 'removed', removed_at = $2, private_key = NULL
		WHERE kid = $1 AND state <> 'removed'`, kid, now); err != nil {
		return fmt.Errorf("keys: remove %s: %w", kid, err)
	}
	return nil
}

// create generates a key of the configured algorithm, seals its private part and
// inserts it in state (pending or active) due at activateAt.
func (m *Manager) create(ctx context.Context, tx txn, state State, now, activateAt time.Time) (KeyInfo, error) {
	alg := m.cfg.Algorithm
	priv, err := generate(alg)
	if err != nil {
		return KeyInfo{}, fmt.Errorf("keys: generate %s: %w", alg, err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return KeyInfo{}, fmt.Errorf("keys: encode public key: %w", err)
	}
	j, err := publicJWK(alg, priv.Public())
	if err != nil {
		return KeyInfo{}, err
	}
	kid := thumbprint(j)
	der, err := marshalPrivate(priv)
	if err != nil {
		return KeyInfo{}, err
	}
	sealed, err := m.sealer.seal(kid, alg, der)
	if m.sealer.aead != nil {
		clear(der)
	}
	if err != nil {
		return KeyInfo{}, err
	}
	k := KeyInfo{KID: kid, Alg: alg, State: state, CreatedAt: now, ActivateAt: activateAt}
	var activated *time.Time
	if state == StateActive {
		k.ActivatedAt = now
		activated = &now
	}
	if _, err := tx.Exec(ctx, `INSERT INTO signing_keys
		(kid, alg, state, public_key, private_key, created_at, activate_at, activated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		kid, alg, string(state), pubDER, sealed, now, activateAt, activated); err != nil {
		return KeyInfo{}, fmt.Errorf("keys: store new key %s: %w", kid, err)
	}
	return k, nil
}

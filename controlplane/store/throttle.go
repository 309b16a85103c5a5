package store

import (
	"context"
	"encoding/binary"
	"hash/fnv"
	"time"
)

// FailureCounts are the failed logins recorded in the throttling windows, each with the
// oldest counted failure (zero time when there is none).
type FailureCounts struct {
	// Pair: failures of this account from this client address (since FailureSince.Pair).
	Pair       int
	PairOldest time.Time
	// Client: failures from this client address, any account (since FailureSince.Client).
	Client       int
	ClientOldest time.Time
	// Account: failures of this account from any address (since FailureSince.Account).
	Account       int
	AccountOldest time.Time
}

// FailureSince are the starts of the three counting windows.
type FailureSince struct{ Pair, Client, Account time.Time }

// Advisory-lock namespaces (the first key of pg_advisory_xact_lock(int4, int4)) of the
// throttling buckets: "edga" and "edgc" in ASCII. Two-key advisory locks never collide
// with the one-key lock package keys takes.
const (
	lockAccountBucket int32 = 0x65646761
	lockClientBucket  int32 = 0x65646763
)

// LockThrottle takes the transaction-scoped locks of the account's and the client's
// throttling buckets (always in that order, so two attempts never deadlock), so that
// counting the failures and recording the next one happen as one step for concurrent
// attempts on either bucket. Meaningful only inside InTx. An empty clientKey locks the
// account bucket only.
func (q Queries) LockThrottle(ctx context.Context, accountKey []byte, clientKey string) error {
	var acct int32
	if len(accountKey) >= 4 {
		acct = int32(binary.BigEndian.Uint32(accountKey))
	}
	if _, err := q.db.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, lockAccountBucket, acct); err != nil {
		return translate("lock throttle", err)
	}
	if clientKey == "" {
		return nil
	}
	h := fnv.New32a()
	h.Write([]byte(clientKey))
	_, err := q.db.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, lockClientBucket, int32(h.Sum32()))
	return translate("lock throttle", err)
}

const failureCountsSQL = `
	SELECT count(*) FILTER (WHERE client_key = $2 AND at > $3), min(at) FILTER (WHERE client_key = $2 AND at > $3),
	       count(*), min(at),
	       (SELECT count(*) FROM login_failures WHERE client_key = $2 AND at > $4),
	       (SELECT min(at)   FROM login_failures WHERE client_key = $2 AND at > $4)
	FROM login_failures WHERE account_key = $1 AND at > $5`

// LoginFailures counts the failures of the account, of the client, and of the pair in
// their windows.
func (q Queries) LoginFailures(ctx context.Context, accountKey []byte, clientKey string, since FailureSince) (FailureCounts, error) {
	var c FailureCounts
	var po, ao, co *time.Time
	err := q.db.QueryRow(ctx, failureCountsSQL, accountKey, clientKey, since.Pair, since.Client, since.Account).
		Scan(&c.Pair, &po, &c.Account, &ao, &c.Client, &co)
	for _, t := range []struct{ dst, src *time.Time }{{&c.PairOldest, po}, {&c.AccountOldest, ao}, {&c.ClientOldest, co}} {
		if t.src != nil {
			*t.dst = *t.src
		}
	}
	return c, translate("login failures", err)
}

// RecordLoginFailure records one failed login for the account and the client and
// returns its id.
func (q Queries) RecordLoginFailure(ctx context.Context, accountKey []byte, clientKey string, at time.Time) (int64, error) {
	var id int64
	err := q.db.QueryRow(ctx, `INSERT INTO login_failures (account_key, client_key, at) VALUES ($1, $2, $3) RETURNING id`,
		accountKey, clientKey, at).Scan(&id)
	return id, translate("record login failure", err)
}

// DeleteLoginFailure forgets one failure record (RecordLoginFailure's id).
func (q Queries) DeleteLoginFailure(ctx context.Context, id int64) error {
	_, err := q.db.Exec(ctx, `DELETE FROM login_failures WHERE id = $1`, id)
	return translate("delete login failure", err)
}

// ClearPairFailures forgets the failures of the account from the client (after a
// successful login from there). Failures from other addresses stay: one good password
// does not lift a limit someone else ran into.
func (q Queries) ClearPairFailures(ctx context.Context, accountKey []byte, clientKey string) error {
	_, err := q.db.Exec(ctx, `DELETE FROM login_failures WHERE account_key = $1 AND client_key = $2`, accountKey, clientKey)
	return translate("clear login failures", err)
}

// RememberClient records that the account signed in from the client at `at`.
func (q Queries) RememberClient(ctx context.Context, accountKey []byte, clientKey string, at time.Time) error {
	_, err := q.db.Exec(ctx, `INSERT INTO login_clients (account_key, client_key, last_login_at) VALUES ($1, $2, $3)
		ON CONFLICT (account_key, client_key) DO UPDATE SET last_login_at = greatest(login_clients.last_login_at, excluded.last_login_at)`,
		accountKey, clientKey, at)
	return translate("remember login client", err)
}

// KnownClient reports whether the account signed in from the client after since.
func (q Queries) KnownClient(ctx context.Context, accountKey []byte, clientKey string, since time.Time) (bool, error) {
	var known bool
	err := q.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM login_clients
		WHERE account_key = $1 AND client_key = $2 AND last_login_at > $3)`, accountKey, clientKey, since).Scan(&known)
	return known, translate("known login client", err)
}

// DeleteLoginFailuresBefore forgets failures older than t, in batches
// (deleteInBatches).
func (q Queries) DeleteLoginFailuresBefore(ctx context.Context, t time.Time) (int64, error) {
	return q.deleteInBatches(ctx, "delete login failures", `DELETE FROM login_failures WHERE id IN (
		SELECT id FROM login_failures WHERE at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, t)
}

// DeleteLoginClientsBefore forgets sign-in addresses last used before t, in batches
// (deleteInBatches).
func (q Queries) DeleteLoginClientsBefore(ctx context.Context, t time.Time) (int64, error) {
	return q.deleteInBatches(ctx, "delete login clients", `DELETE FROM login_clients WHERE (account_key, client_key) IN (
		SELECT account_key, client_key FROM login_clients WHERE last_login_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, t)
}

package store

import (
	"context"
	"time"
)

// FailureCounts is the number of failed logins in a window for one account and one client,
// with the oldest failure of each in that window (zero time when there is none).
type FailureCounts struct {
	Account       int
	AccountOldest time.Time
	Client        int
	ClientOldest  time.Time
}

// LoginFailures counts failures since `since` for the account key and the client key.
func (q Queries) LoginFailures(ctx context.Context, accountKey []byte, clientKey string, since time.Time) (FailureCounts, error) {
	var c FailureCounts
	var ao, co *time.Time
	err := q.db.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM login_failures WHERE account_key = $1 AND at > $3),
		       (SELECT min(at)   FROM login_failures WHERE account_key = $1 AND at > $3),
		       (SELECT count(*) FROM login_failures WHERE client_key = $2 AND at > $3),
		       (SELECT min(at)   FROM login_failures WHERE client_key = $2 AND at > $3)`,
		accountKey, clientKey, since).Scan(&c.Account, &ao, &c.Client, &co)
	if ao != nil {
		c.AccountOldest = *ao
	}
	if co != nil {
		c.ClientOldest = *co
	}
	return c, translate("login failures", err)
}

// RecordLoginFailure records one failed login for the account and the client.
func (q Queries) RecordLoginFailure(ctx context.Context, accountKey []byte, clientKey string, at time.Time) error {
	_, err := q.db.Exec(ctx, `INSERT INTO login_failures (account_key, client_key, at) VALUES ($1, $2, $3)`, accountKey, clientKey, at)
	return translate("record login failure", err)
}

// ClearAccountFailures forgets the account's failures (after a successful login). The
// client's failures stay: one good password does not lift a per-address limit.
func (q Queries) ClearAccountFailures(ctx context.Context, accountKey []byte) error {
	_, err := q.db.Exec(ctx, `DELETE FROM login_failures WHERE account_key = $1`, accountKey)
	return translate("clear login failures", err)
}

// DeleteLoginFailuresBefore forgets failures older than t.
func (q Queries) DeleteLoginFailuresBefore(ctx context.Context, t time.Time) (int64, error) {
	tag, err := q.db.Exec(ctx, `DELETE FROM login_failures WHERE at < $1`, t)
	return tag.RowsAffected(), translate("delete login failures", err)
}

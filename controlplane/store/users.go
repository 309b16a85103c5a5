package store

import (
	"context"
	"fmt"
	"time"

	"github.com/edgeauth/edgeauth/internal/loginname"
	"github.com/jackc/pgx/v5"
)

// User is a stored account. PasswordHash is an argon2id PHC string.
type User struct {
	ID           string
	Email        string
	PasswordHash string
	Roles        []string
	Created      time.Time
	DisabledAt   *time.Time // when an operator disabled the account; nil: enabled
	// TOTPSecret is the sealed TOTP secret (migration 009); nil: no second factor.
	TOTPSecret []byte
	// TOTPPending is the sealed secret of an enrollment awaiting its first code.
	TOTPPending []byte
	// TOTPLastStep is the newest 30-second step whose code was accepted (0 without
	// a second factor).
	TOTPLastStep int64
}

const userColumns = `id::text, email, password_hash, roles, created_at, disabled_at, totp_secret, totp_pending, coalesce(totp_last_step, 0)`

func scanUser(row interface{ Scan(...any) error }, u *User) error {
	return row.Scan(&u.ID, &u.Email, &u.PasswordHash, &u.Roles, &u.Created, &u.DisabledAt, &u.TOTPSecret, &u.TOTPPending, &u.TOTPLastStep)
}

// isUUID reports whether s is a UUID in the canonical 8-4-4-4-12 hex form (as user ids
// are handed out). Ids of any other shape match nothing, without a query, and compared
// as uuid (not as text) so the primary-key and user_id indexes are used.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		default:
			return false
		}
	}
	return true
}

// CreateUser inserts u (ID and Created are assigned) and returns the stored row.
// ErrConflict when the login name is taken: another account's name has the same
// loginname.Key (case, surrounding spaces and Unicode forms do not tell names apart).
func (q Queries) CreateUser(ctx context.Context, u User) (User, error) {
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	var out User
	err := scanUser(q.db.QueryRow(ctx,
		`INSERT INTO users (email, email_key, password_hash, roles) VALUES ($1, $2, $3, $4) RETURNING `+userColumns,
		u.Email, loginname.Key(u.Email), u.PasswordHash, roles), &out)
	return out, translate("create user", err)
}

// UserByEmail finds the user whose login name has the same loginname.Key as email.
// ErrNotFound if none.
func (q Queries) UserByEmail(ctx context.Context, email string) (User, error) {
	var u User
	err := scanUser(q.db.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE email_key = $1`, loginname.Key(email)), &u)
	return u, translate("user by email", err)
}

// Users returns every account, oldest first.
func (q Queries) Users(ctx context.Context) ([]User, error) {
	rows, err := q.db.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY created_at, id`)
	if err != nil {
		return nil, translate("users", err)
	}
	users, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (User, error) {
		var u User
		err := scanUser(row, &u)
		return u, err
	})
	return users, translate("users", err)
}

// UserByID finds a user by id. ErrNotFound if none (or id is not a UUID).
func (q Queries) UserByID(ctx context.Context, id string) (User, error) {
	var u User
	if !isUUID(id) {
		return u, translate("user by id", errNoRows)
	}
	err := scanUser(q.db.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1::uuid`, id), &u)
	return u, translate("user by id", err)
}

// SetUserRoles replaces a user's roles. ErrNotFound if the user does not exist.
func (q Queries) SetUserRoles(ctx context.Context, id string, roles []string) error {
	if roles == nil {
		roles = []string{}
	}
	if !isUUID(id) {
		return translate("set user roles", errNoRows)
	}
	tag, err := q.db.Exec(ctx, `UPDATE users SET roles = $2 WHERE id = $1::uuid`, id, roles)
	if err != nil {
		return translate("set user roles", err)
	}
	if tag.RowsAffected() == 0 {
		return translate("set user roles", errNoRows)
	}
	return nil
}

// LockUser locks the user's row until the transaction ends (FOR SHARE, or FOR UPDATE
// when the caller will write the row) and returns it as it is now: a concurrent
// password change, or an operator's disabling, has either committed (the row shows it)
// or waits for the caller's transaction. Only meaningful inside InTx. ErrNotFound if
// there is no such user.
func (q Queries) LockUser(ctx context.Context, id string, forUpdate bool) (User, error) {
	var u User
	if !isUUID(id) {
		return u, translate("lock user", errNoRows)
	}
	lock := "SHARE"
	if forUpdate {
		lock = "UPDATE"
	}
	err := scanUser(q.db.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1::uuid FOR `+lock, id), &u)
	return u, translate("lock user", err)
}

// SetUserDisabledAt sets when the user was disabled (nil: enabled). ErrNotFound if the
// user does not exist.
func (q Queries) SetUserDisabledAt(ctx context.Context, id string, at *time.Time) error {
	if !isUUID(id) {
		return translate("set user disabled", errNoRows)
	}
	tag, err := q.db.Exec(ctx, `UPDATE users SET disabled_at = $2 WHERE id = $1::uuid`, id, at)
	if err != nil {
		return translate("set user disabled", err)
	}
	if tag.RowsAffected() == 0 {
		return translate("set user disabled", errNoRows)
	}
	return nil
}

// SetPasswordHash replaces a user's password hash. ErrNotFound if the user does not exist.
func (q Queries) SetPasswordHash(ctx context.Context, id, hash string) error {
	if !isUUID(id) {
		return translate("set password hash", errNoRows)
	}
	tag, err := q.db.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1::uuid`, id, hash)
	if err != nil {
		return translate("set password hash", err)
	}
	if tag.RowsAffected() == 0 {
		return translate("set password hash", errNoRows)
	}
	return nil
}

// DeleteUser deletes the user, with its sessions and the throttling records of
// accountKey (its login name's: the addresses it signed in from, its failed logins),
// if it was disabled, and none of its sessions is live or ended, after endedBefore: a
// session revoked later may still be named by the revocation list, which is built from
// the session rows. ErrNotFound if there is no such user; ErrConflict otherwise: then
// nothing is deleted, and lastEnded is the latest of the disabling and the sessions'
// ends (the list stops naming them its window later), or zero when the user is not
// disabled or a session is live. Run it in the transaction that locked the user's row
// (LockUser), so that no login opens a session between the check and the deletion.
func (q Queries) DeleteUser(ctx context.Context, id string, accountKey []byte, endedBefore time.Time) (lastEnded time.Time, err error) {
	if !isUUID(id) {
		return time.Time{}, translate("delete user", errNoRows)
	}
	var disabled, live bool
	var last *time.Time
	err = q.db.QueryRow(ctx, `
		SELECT u.disabled_at IS NOT NULL, coalesce(bool_or(s.id IS NOT NULL AND s.revoked_at IS NULL), false),
			greatest(u.disabled_at, max(s.revoked_at))
		FROM users u LEFT JOIN sessions s ON s.user_id = u.id
		WHERE u.id = $1::uuid GROUP BY u.id`, id).Scan(&disabled, &live, &last)
	switch {
	case err != nil:
		return time.Time{}, translate("delete user", err)
	case !disabled || live:
		return time.Time{}, fmt.Errorf("delete user: not disabled, or a session is live: %w", ErrConflict)
	case last.After(endedBefore): // as the revocation list reads it (revoked_at > its start)
		return *last, fmt.Errorf("delete user: disabled or a session ended recently: %w", ErrConflict)
	}
	tag, err := q.db.Exec(ctx, `DELETE FROM users WHERE id = $1::uuid`, id) // its sessions go with it (ON DELETE CASCADE)
	if err != nil {
		return time.Time{}, translate("delete user", err)
	}
	if tag.RowsAffected() == 0 {
		return time.Time{}, translate("delete user", errNoRows)
	}
	for _, sql := range []string{`DELETE FROM login_clients WHERE account_key = $1`, `DELETE FROM login_failures WHERE account_key = $1`} {
		if _, err := q.db.Exec(ctx, sql, accountKey); err != nil {
			return time.Time{}, translate("delete user", err)
		}
	}
	return time.Time{}, nil
}

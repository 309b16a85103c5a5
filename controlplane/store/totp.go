package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// SetTOTPPending stores the sealed secret of an enrollment (nil clears it). It refuses
// with ErrConflict when the user has a second factor already, and ErrNotFound when
// there is no such user.
func (q Queries) SetTOTPPending(ctx context.Context, userID string, sealed []byte) error {
	if !isUUID(userID) {
		return translate("set totp pending", errNoRows)
	}
	var active bool
	err := q.db.QueryRow(ctx, `
		UPDATE users SET totp_pending = CASE WHEN totp_secret IS NULL THEN $2::bytea ELSE totp_pending END
		WHERE id = $1::uuid RETURNING totp_secret IS NOT NULL`, userID, sealed).Scan(&active)
	if err == nil && active {
		return fmt.Errorf("set totp pending: the user has a second factor already: %w", ErrConflict)
	}
	return translate("set totp pending", err)
}

// EnableTOTP makes the pending secret the account's, as sealed (pending re-sealed, or
// the same bytes), its first accepted step step, and replaces the recovery codes by
// those hashes. pending is the pending secret as the caller read it and checked a code
// against. ErrConflict when it is no longer the pending one (confirmed, turned off,
// reset or replaced by another enrollment meanwhile), or a second factor is on already.
func (q Queries) EnableTOTP(ctx context.Context, userID string, pending, sealed []byte, step int64, recoveryHashes [][]byte) error {
	if !isUUID(userID) {
		return translate("enable totp", errNoRows)
	}
	tag, err := q.db.Exec(ctx, `
		UPDATE users SET totp_secret = $2, totp_pending = NULL, totp_last_step = $3
		WHERE id = $1::uuid AND totp_secret IS NULL AND totp_pending = $4`, userID, sealed, step, pending)
	if err != nil {
		return translate("enable totp", err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("enable totp: not the pending secret: %w", ErrConflict)
	}
	return q.ReplaceRecoveryCodes(ctx, userID, recoveryHashes)
}

// ReplaceRecoveryCodes replaces the user's recovery codes by those hashes.
func (q Queries) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes [][]byte) error {
	if _, err := q.db.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1::uuid`, userID); err != nil {
		return translate("replace recovery codes", err)
	}
	_, err := q.db.Exec(ctx, `INSERT INTO recovery_codes (user_id, hash) SELECT $1::uuid, unnest($2::bytea[])`, userID, hashes)
	return translate("replace recovery codes", err)
}

// DisableTOTP removes the account's second factor, its pending enrollment and its
// recovery codes, and reports whether there was any.
func (q Queries) DisableTOTP(ctx context.Context, userID string) (bool, error) {
	if !isUUID(userID) {
		return false, nil
	}
	tag, err := q.db.Exec(ctx, `
		UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL
		WHERE id = $1::uuid AND (totp_secret IS NOT NULL OR totp_pending IS NOT NULL)`, userID)
	if err != nil {
		return false, translate("disable totp", err)
	}
	if _, err := q.db.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1::uuid`, userID); err != nil {
		return false, translate("disable totp", err)
	}
	return tag.RowsAffected() == 1, nil
}

// UseTOTPStep records that a code of step was accepted, if step is newer than the
// last one accepted, and reports whether it was (false: the code was used already, or
// the second factor is gone). resealed, when not nil, replaces the sealed secret (the
// same secret under the current key).
func (q Queries) UseTOTPStep(ctx context.Context, userID string, step int64, resealed []byte) (bool, error) {
	if !isUUID(userID) {
		return false, nil
	}
	tag, err := q.db.Exec(ctx, `
		UPDATE users SET totp_last_step = $2, totp_secret = coalesce($3::bytea, totp_secret)
		WHERE id = $1::uuid AND totp_secret IS NOT NULL AND totp_last_step < $2`, userID, step, resealed)
	return err == nil && tag.RowsAffected() == 1, translate("use totp step", err)
}

// UseRecoveryCode deletes the account's recovery code with that hash, and reports
// whether there was one.
func (q Queries) UseRecoveryCode(ctx context.Context, userID string, hash []byte) (bool, error) {
	if !isUUID(userID) {
		return false, nil
	}
	tag, err := q.db.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1::uuid AND hash = $2`, userID, hash)
	return err == nil && tag.RowsAffected() == 1, translate("use recovery code", err)
}

// RecoveryCodesLeft counts the account's unused recovery codes.
func (q Queries) RecoveryCodesLeft(ctx context.Context, userID string) (int, error) {
	if !isUUID(userID) {
		return 0, nil
	}
	var n int
	err := q.db.QueryRow(ctx, `SELECT count(*) FROM recovery_codes WHERE user_id = $1::uuid`, userID).Scan(&n)
	return n, translate("recovery codes left", err)
}

// SealedSecret is one account's sealed TOTP secrets, as stored.
type SealedSecret struct {
	UserID          string
	Secret, Pending []byte // nil when absent
}

// SealedSecrets returns every account's sealed TOTP secrets (active or pending).
func (q Queries) SealedSecrets(ctx context.Context) ([]SealedSecret, error) {
	rows, err := q.db.Query(ctx, `SELECT id::text, totp_secret, totp_pending FROM users WHERE totp_secret IS NOT NULL OR totp_pending IS NOT NULL`)
	if err != nil {
		return nil, translate("sealed secrets", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SealedSecret, error) {
		var s SealedSecret
		return s, r.Scan(&s.UserID, &s.Secret, &s.Pending)
	})
	return out, translate("sealed secrets", err)
}

// ReplaceSealedSecrets stores the account's secrets sealed again (next), if they are
// still those of was, and reports whether they were.
func (q Queries) ReplaceSealedSecrets(ctx context.Context, was, next SealedSecret) (bool, error) {
	tag, err := q.db.Exec(ctx, `
		UPDATE users SET totp_secret = $4, totp_pending = $5
		WHERE id = $1::uuid AND totp_secret IS NOT DISTINCT FROM $2 AND totp_pending IS NOT DISTINCT FROM $3`,
		was.UserID, was.Secret, was.Pending, next.Secret, next.Pending)
	return err == nil && tag.RowsAffected() == 1, translate("replace sealed secrets", err)
}

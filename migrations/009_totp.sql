-- A second factor: time-based one-time passwords (RFC 6238; OWASP ASVS 5.0 6.3.2), and
-- recovery codes for a lost authenticator.
--
--   * totp_secret: the account's TOTP secret, sealed with AES-256-GCM under a key derived
--     from keys.kek (controlplane/auth, "sealed secrets"); NULL: no second factor. A
--     reader of the database cannot compute codes.
--   * totp_pending: the secret of an enrollment that has not shown its first code yet.
--   * totp_last_step: the newest 30-second step whose code signed in or confirmed the
--     enrollment; a code of that step or an older one is refused, so each code works once.
--   * recovery_codes: SHA-256 of each unused recovery code (80 random bits each); a
--     code is deleted when used.
--
-- Replicas of earlier versions do not read these columns: during a rolling upgrade they
-- would let an account with a second factor sign in with its password alone. Let users
-- turn the second factor on once every replica runs a release with this migration.
ALTER TABLE users
    ADD COLUMN totp_secret    bytea,
    ADD COLUMN totp_pending   bytea,
    ADD COLUMN totp_last_step bigint,
    ADD CHECK ((totp_secret IS NULL) = (totp_last_step IS NULL));

CREATE TABLE recovery_codes (
    user_id uuid  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash    bytea NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (user_id, hash)
);

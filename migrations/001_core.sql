-- Core control-plane schema: users, sessions (one per device login), refresh tokens
-- (stored only as hashes), audit events and failed-login records for throttling.
--
-- Invariants enforced here rather than trusted to the code:
--   * an e-mail/username is unique case-insensitively;
--   * a session's refresh tokens form one chain: generations 1, 2, 3, ... unique per
--     session, so one token never has two successors; the session row names the
--     generation of its single live token.

CREATE TABLE users (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text        NOT NULL CHECK (length(email) BETWEEN 1 AND 254),
    -- argon2id in PHC string format: $argon2id$v=19$m=..,t=..,p=..$salt$hash
    password_hash text        NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    roles         text[]      NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_lower ON users (lower(email));

CREATE TABLE sessions (
    -- >= 128 random bits, base64url; the same id is the access token's sid claim.
    id                  text        PRIMARY KEY CHECK (length(id) >= 22),
    user_id             uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_agent          text        NOT NULL DEFAULT '',
    ip                  text        NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL,
    last_used_at        timestamptz NOT NULL,
    idle_expires_at     timestamptz NOT NULL,
    absolute_expires_at timestamptz NOT NULL,
    revoked_at          timestamptz,
    revoke_reason       text,
    -- Refresh state, changed only under this row's lock (SELECT ... FOR UPDATE):
    -- the generation of the live refresh token, when it replaced its parent, and its
    -- tokens sealed for a grace replay of the parent (see refresh_tokens).
    generation          integer     NOT NULL DEFAULT 1 CHECK (generation >= 1),
    rotated_at          timestamptz,
    successor_box       bytea,
    CHECK ((revoked_at IS NULL) = (revoke_reason IS NULL)),
    CHECK (idle_expires_at <= absolute_expires_at),
    CHECK ((generation = 1) = (rotated_at IS NULL))
) WITH (fillfactor = 80); -- every refresh updates the row: room for HOT updates
-- A user's sessions (list, logout all).
CREATE INDEX sessions_user ON sessions (user_id);
-- The revocation list: sessions revoked within the last access-token lifetime.
CREATE INDEX sessions_revoked_at ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
-- Pruning of finished sessions.
CREATE INDEX sessions_absolute_expires_at ON sessions (absolute_expires_at);

-- Refresh tokens. The token itself (256 random bits) is never stored: only SHA-256 of its
-- bytes, which is useless to a reader of the database (the token cannot be recovered from
-- it and guessing 256 bits is hopeless). A rotation inserts the successor (generation + 1,
-- parent_id pointing back), marks the presented token used with its successor_id, and
-- moves the session's generation on, all under the session's row lock.
--
-- Grace replay without plaintext: when several tabs present the same token at once, every
-- one must receive the successor the first rotation minted. The session keeps the live
-- token's access and refresh tokens in successor_box: AES-256-GCM under a key derived with
-- HKDF-SHA256 from the PARENT token's bytes (which the database never sees), with the
-- parent's hash as additional data. Only a holder of the parent token can open it; a
-- database reader cannot. Each rotation overwrites it and a revocation clears it, so a
-- session holds at most one box, readable only with its previous token.
--
-- Decisions read only the locked session row and the token's immutable columns (id,
-- generation), so one statement can lock and read; used_at, successor_id and parent_id
-- are the record of the chain (no foreign keys on them: those would need indexes that
-- every rotation pays for; tokens only ever go with their session, by cascade). No
-- index covers a column a rotation changes, and pages keep free space: a rotation costs
-- one insert (three index entries) and two heap-only (HOT) updates.
CREATE TABLE refresh_tokens (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id   text        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    hash         bytea       NOT NULL UNIQUE CHECK (length(hash) = 32),
    generation   integer     NOT NULL CHECK (generation >= 1),
    parent_id    bigint,
    created_at   timestamptz NOT NULL,
    used_at      timestamptz,
    successor_id bigint,
    CHECK ((parent_id IS NULL) = (generation = 1)),
    CHECK ((used_at IS NULL) = (successor_id IS NULL))
) WITH (fillfactor = 70);
-- One chain per session; also serves lookups by session.
CREATE UNIQUE INDEX refresh_tokens_session_generation ON refresh_tokens (session_id, generation);

-- Security-relevant events. detail never holds secrets (no passwords, tokens, or the
-- login name typed for an unknown account).
CREATE TABLE audit_events (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       text        NOT NULL,
    user_id    uuid,
    session_id text,
    ip         text        NOT NULL DEFAULT '',
    at         timestamptz NOT NULL,
    detail     jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_user_at ON audit_events (user_id, at) WHERE user_id IS NOT NULL;
CREATE INDEX audit_events_session ON audit_events (session_id) WHERE session_id IS NOT NULL;
CREATE INDEX audit_events_kind_at ON audit_events (kind, at);

-- Failed logins, shared by every replica. account_key is SHA-256 of the normalized login
-- name (so a password typed into the name field is not kept readable); client_key is the
-- client address (an IPv6 address reduced to its /64).
CREATE TABLE login_failures (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_key bytea       NOT NULL,
    client_key  text        NOT NULL,
    at          timestamptz NOT NULL
);
CREATE INDEX login_failures_account_at ON login_failures (account_key, at);
CREATE INDEX login_failures_client_at ON login_failures (client_key, at);
CREATE INDEX login_failures_at ON login_failures (at);

-- Signing keys for access tokens and the revocation list (package keys).
--
-- Lifecycle: pending (published in the JWKS, not signing) -> active (signing; at most
-- one, enforced below) -> retired (published until remove_at, when every token it
-- signed has expired; its private key is erased, it never signs again) -> removed (no
-- longer published).
-- State changes happen in transactions under an advisory lock (see keys/store.go).
-- Times come from the application's clock, not now(), so tests can drive them.
CREATE TABLE signing_keys (
    kid          text PRIMARY KEY,                 -- RFC 7638 thumbprint of the public key
    alg          text NOT NULL CHECK (alg IN ('EdDSA', 'ES256', 'RS256')),
    state        text NOT NULL CHECK (state IN ('pending', 'active', 'retired', 'removed')),
    public_key   bytea NOT NULL,                   -- PKIX SubjectPublicKeyInfo, DER
    private_key  bytea,                            -- PKCS #8 sealed with AES-256-GCM under the KEK; NULL once retired
    created_at   timestamptz NOT NULL,
    activate_at  timestamptz NOT NULL,             -- when a pending key is due to become active
    activated_at timestamptz,
    retired_at   timestamptz,
    remove_at    timestamptz,                      -- retired_at + RetireAfter
    removed_at   timestamptz,
    CONSTRAINT signing_keys_private_until_retired CHECK ((state IN ('pending', 'active')) = (private_key IS NOT NULL)),
    CONSTRAINT signing_keys_active_has_time CHECK (state <> 'active' OR activated_at IS NOT NULL),
    CONSTRAINT signing_keys_retired_has_times CHECK (state <> 'retired' OR (retired_at IS NOT NULL AND remove_at IS NOT NULL))
);

-- At most one active key, whatever the replicas do.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys ((true)) WHERE state = 'active';

-- The published set (everything not removed) is read on every reload.
CREATE INDEX signing_keys_published ON signing_keys (created_at) WHERE state <> 'removed';

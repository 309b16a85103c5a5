-- A refresh writes one row: the session's (see controlplane/auth, "Refresh tokens", and
-- store.RefreshSQL). Until now a rotation also inserted the successor's refresh_tokens
-- row and marked the presented one used: three rows, and a table that grew by one row
-- per refresh until the session was pruned. The rows were read for two answers only:
--
--   * is the presented secret the live token's, or its parent's (the grace replay)?
--     The session row now holds both hashes: token_hash (the live token's) and
--     previous_hash (its parent's, NULL at generation 1);
--   * is a token of an older generation genuine (reuse: revoke the session) or made up
--     (refuse, change nothing)? A token's secret now carries its own proof: 16 random
--     bytes and an HMAC-SHA256 tag over the session, the generation and those bytes
--     under a key derived from keys.kek, which the database never holds. A reader of
--     the database can still neither present a token (the hashes are of 256-bit
--     secrets) nor forge an older one.
--
-- Live tokens issued before this migration keep working: their hash moves into the
-- session row, and so does their parent's. Older ones had no tag: presented, they are
-- refused (refresh_invalid) instead of revoking their session.
--
-- Replicas of earlier versions cannot log in or refresh once this has run (their
-- statements name the table dropped below); their /readyz answers 503 as soon as the
-- schema is newer than they know, so a load balancer moves traffic to upgraded ones.
--
-- The chain's record (used_at, successor_id, created_at per token) goes with the table.
-- What the audit needs stays: audit_events records logins, logouts and every reuse.
ALTER TABLE sessions
    ADD COLUMN token_hash    bytea CHECK (length(token_hash) = 32),
    ADD COLUMN previous_hash bytea CHECK (length(previous_hash) = 32);

UPDATE sessions s SET
    token_hash    = (SELECT t.hash FROM refresh_tokens t WHERE t.session_id = s.id AND t.generation = s.generation),
    previous_hash = (SELECT t.hash FROM refresh_tokens t WHERE t.session_id = s.id AND t.generation = s.generation - 1);

-- Every session was created with its first token and rotated by inserting the next, so
-- each has its live token's row and, past generation 1, its parent's. Should one be
-- missing, the hash becomes one that no secret has (SHA-256 is never 32 zero bytes in
-- practice) rather than failing the upgrade: such a token cannot be presented.
UPDATE sessions SET token_hash = '\x0000000000000000000000000000000000000000000000000000000000000000'
WHERE token_hash IS NULL;
UPDATE sessions SET previous_hash = '\x0000000000000000000000000000000000000000000000000000000000000000'
WHERE generation > 1 AND previous_hash IS NULL;

ALTER TABLE sessions
    ALTER COLUMN token_hash SET NOT NULL,
    ADD CHECK ((generation = 1) = (previous_hash IS NULL));

DROP TABLE refresh_tokens;

-- Refresh tokens name their session: <session id>.<generation>.<secret> (see
-- controlplane/auth, "Refresh tokens"). A refresh is then one statement keyed by the
-- session's primary key (store.RefreshSQL): the presented token's row is found by
-- (session_id, generation) through refresh_tokens_session_generation and its hash
-- compared, never looked up by hash. So:
--
--   * the unique index on refresh_tokens.hash goes: nothing searches by hash any more,
--     and every rotation paid for one more index entry. A token's hash stays stored
--     (SHA-256 of 256 random bits: useless to a database reader, never repeated in
--     practice); the chain stays one per session (session_id, generation unique);
--   * the revocation-numbering trigger gets a WHEN clause: the rotation statement names
--     revoked_at in its SET list (it revokes on reuse), and a trigger without one would
--     call its PL/pgSQL function on every rotation; the condition is checked without it.
--
-- Refresh tokens issued before this migration (43 characters, no session named) can
-- no longer be presented: a client holding one gets refresh_invalid and signs in again.
-- Their sessions would otherwise stay listed as devices until their idle expiry; they
-- end now instead (idle expiry set to the migration's time; not revoked, so the
-- revocation list does not grow by every session at once: their access tokens run out
-- within their own short lifetime).
ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_hash_key;

DROP TRIGGER sessions_number_revocation ON sessions;
CREATE TRIGGER sessions_number_revocation BEFORE UPDATE OF revoked_at ON sessions
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION sessions_number_revocation();

UPDATE sessions SET idle_expires_at = least(idle_expires_at, now())
WHERE revoked_at IS NULL AND idle_expires_at > now() AND absolute_expires_at > now();

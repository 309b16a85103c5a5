-- Every revocation gets a number from one database-wide sequence, so that a subscriber of
-- the revocation stream (GET /.well-known/edgeauth/revocations/stream) can resume after a
-- reconnect, on any replica and across replica restarts, from the last number it saw
-- (its Last-Event-ID). The number is drawn by a trigger, whatever statement revokes a
-- session (logout, logout-all, reuse detection, DELETE /auth/sessions/{id}), and only
-- when revoked_at goes from NULL to a time: a refresh (which never sets revoked_at)
-- pays nothing. Numbers are unique and increase, but a revocation may commit after one
-- with a higher number (concurrent transactions; see controlplane/revocation).
CREATE SEQUENCE session_revocation_seq;

ALTER TABLE sessions ADD COLUMN revocation_seq bigint;

-- Sessions revoked before this migration get numbers in revocation order.
UPDATE sessions s SET revocation_seq = n.seq
FROM (SELECT id, nextval('session_revocation_seq') AS seq
      FROM (SELECT id FROM sessions WHERE revoked_at IS NOT NULL ORDER BY revoked_at, id) o) n
WHERE s.id = n.id;

CREATE FUNCTION sessions_number_revocation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL THEN
        NEW.revocation_seq := nextval('session_revocation_seq');
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER sessions_number_revocation BEFORE UPDATE OF revoked_at ON sessions
    FOR EACH ROW EXECUTE FUNCTION sessions_number_revocation();

-- Resuming the stream: revocations after a number, in order.
CREATE UNIQUE INDEX sessions_revocation_seq ON sessions (revocation_seq) WHERE revocation_seq IS NOT NULL;

-- A session remembers how its sign-in was made, so that its access tokens can say it
-- (the amr claim, RFC 8176) and an edge can require a second factor per route:
--
--   * second_factor: the second factor the session proved: 'totp' (a code of the
--     account's authenticator), 'recovery_code', or NULL for the password alone. A
--     login sets it; a password change's new session keeps the one it replaces; a
--     confirmed TOTP enrollment sets 'totp' on the session that confirmed it. Turning
--     the factor off leaves it: those sessions did prove it.
--
-- Existing sessions stay NULL: nothing recorded how they signed in, so their tokens
-- claim the password only (["pwd"]) until their owners sign in again.
--
-- Replicas of earlier versions neither write nor read the column: during a rolling
-- upgrade the sessions they open carry no second factor, and their tokens no amr claim,
-- which an edge takes as no second factor. Nothing claims more than was proved.
ALTER TABLE sessions
    ADD COLUMN second_factor text CHECK (second_factor IN ('totp', 'recovery_code'));

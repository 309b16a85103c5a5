-- Throttling without lockout (see RATIONALE.md, "Login throttling"): the addresses an
-- account has signed in from. A client address listed here for an account (recently)
-- is exempt from that account's account-wide failure ceiling, so failures from other
-- addresses cannot lock the owner out where they usually sign in. account_key and
-- client_key are those of login_failures (SHA-256 of the login name; the address, an
-- IPv6 address reduced to its /64).
CREATE TABLE login_clients (
    account_key   bytea       NOT NULL,
    client_key    text        NOT NULL,
    last_login_at timestamptz NOT NULL,
    PRIMARY KEY (account_key, client_key)
);
-- Pruning of addresses not used for a long time.
CREATE INDEX login_clients_last_login_at ON login_clients (last_login_at);

-- Accounts can be disabled (`edgeauth users disable`; OWASP ASVS 5.0 7.4.2): disabled_at
-- is when an operator disabled the account, NULL while it is enabled. Disabling ends
-- every session of the account in the same transaction (reason account_disabled); a
-- disabled account's login is refused as a wrong password is. Existing accounts stay
-- enabled.
--
-- Replicas of earlier versions do not read the column: during a rolling upgrade they
-- would still let a disabled account sign in. Disable accounts once every replica runs
-- a release with this migration.
ALTER TABLE users ADD COLUMN disabled_at timestamptz;

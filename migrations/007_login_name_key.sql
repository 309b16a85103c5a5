-- One account per login name as a person reads it. Until now a name was unique by
-- PostgreSQL's lower(email), whose result depends on the database's ctype and which
-- knows nothing of Unicode forms: "ada@example.com" and "ａｄａ@example.com" (fullwidth),
-- or "josé" composed and decomposed, were different accounts. Names are now looked up
-- and kept unique by email_key, the key package internal/loginname defines (NFKC, case
-- folding), computed in Go so that every replica and this index agree on it.
--
-- SQL cannot compute that key, so this file adds the column and its unique index, and
-- migrations.Apply fills the key of every row that lacks one right after the files have
-- run (and at every start, so a row written by a replica of an earlier version during a
-- rolling upgrade gets its key too). Two existing accounts with one key stop Apply with
-- an error naming both: an operator decides which one keeps the name (this cannot be
-- done here without locking a user out). users_email_lower stays for replicas of
-- earlier versions during the rollout.
ALTER TABLE users ADD COLUMN email_key text;
CREATE UNIQUE INDEX users_email_key ON users (email_key);

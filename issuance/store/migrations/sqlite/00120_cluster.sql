-- +goose Up
-- State that several serve processes on one database share (issue 20).
-- rate_limits: one row per limited key (a route and a client address), the
-- generic cell rate algorithm's theoretical arrival time in microseconds
-- since the epoch; a row whose time has passed carries no debt and is swept.
CREATE TABLE rate_limits (
    limit_key TEXT   PRIMARY KEY,
    tat_us    BIGINT NOT NULL
);
-- scheduled_jobs: the last run of each scheduled job, whichever process ran
-- it, so that a job due once an interval runs once an interval across all
-- processes (the run itself is guarded by a lock; see internal/jobs).
CREATE TABLE scheduled_jobs (
    name             TEXT    PRIMARY KEY,
    last_started_ms  BIGINT  NOT NULL DEFAULT 0,
    last_finished_ms BIGINT  NOT NULL DEFAULT 0,
    last_owner       TEXT    NOT NULL DEFAULT '',
    last_error       TEXT    NOT NULL DEFAULT '',
    runs             BIGINT  NOT NULL DEFAULT 0
);
-- settings: facts every process must agree on; today the fingerprint of the
-- PII data key (a blind index under the key, never the key), recorded by
-- the first process, so that a process started with another key refuses to
-- run instead of sealing personal data the others cannot read.
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- idempotency_keys.owner: the cluster member that holds an in-flight claim,
-- so that a retry takes over the claim of a process that died at once.
ALTER TABLE idempotency_keys ADD COLUMN owner TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE idempotency_keys DROP COLUMN owner;
DROP TABLE settings;
DROP TABLE scheduled_jobs;
DROP TABLE rate_limits;

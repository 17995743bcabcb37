-- +goose Up
-- The insurer's daily files serve's job has written (or is writing): one
-- row per China date, claimed before the file is written so that several
-- serve processes write each day's file once. A claim never finished
-- (written_at_ms 0) is taken over after 10 minutes.
CREATE TABLE insurance_files (
    day            TEXT PRIMARY KEY,
    owner          TEXT NOT NULL,
    claimed_at_ms  BIGINT NOT NULL,
    written_at_ms  BIGINT NOT NULL DEFAULT 0,
    additions      INTEGER NOT NULL DEFAULT 0,
    terminations   INTEGER NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE insurance_files;

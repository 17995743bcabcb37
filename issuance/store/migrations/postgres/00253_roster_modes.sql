-- +goose Up
-- A second roster for a session (issue 19) says what it does: mode is
-- 'first' (the session's first roster), 'append' (adds its rows) or
-- 'replace' (its rows become the roster: earlier rows not in it are
-- removed, their applications cancelled); removed counts those rows.
ALTER TABLE roster_uploads ADD COLUMN mode TEXT NOT NULL DEFAULT 'first';
ALTER TABLE roster_uploads ADD COLUMN removed INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE roster_uploads DROP COLUMN removed;
ALTER TABLE roster_uploads DROP COLUMN mode;

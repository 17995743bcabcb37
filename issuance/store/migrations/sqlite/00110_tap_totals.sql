-- +goose Up
-- A tap's star levels and tier are decided in Go from the volunteer's totals
-- the tap left (issue 21), the same way for a fresh tap and its replay: the
-- tap row keeps those totals as numbers (the year's minutes after the tap,
-- the lifetime minutes before and after it) and result only the rest of the
-- decision (names, times, session minutes). Rows written before hold the
-- whole result of the time in result; their totals are copied out of it
-- here (the lifetime before is the lifetime after less the session's
-- minutes, which is what the tap added), so that they replay as answered.
ALTER TABLE taps ADD COLUMN year_minutes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE taps ADD COLUMN lifetime_minutes_before BIGINT NOT NULL DEFAULT 0;
ALTER TABLE taps ADD COLUMN lifetime_minutes BIGINT NOT NULL DEFAULT 0;
UPDATE taps SET
    year_minutes = COALESCE(json_extract(result, '$.year_minutes'), 0),
    lifetime_minutes_before = COALESCE(json_extract(result, '$.lifetime_minutes'), 0)
        - COALESCE(json_extract(result, '$.session_minutes'), 0),
    lifetime_minutes = COALESCE(json_extract(result, '$.lifetime_minutes'), 0);

-- +goose Down
-- The totals go back into result, where the code before this migration
-- reads them; taps written since carry no star levels or tier there.
UPDATE taps SET result = json_set(result, '$.year_minutes', year_minutes, '$.lifetime_minutes', lifetime_minutes);
ALTER TABLE taps DROP COLUMN lifetime_minutes;
ALTER TABLE taps DROP COLUMN lifetime_minutes_before;
ALTER TABLE taps DROP COLUMN year_minutes;

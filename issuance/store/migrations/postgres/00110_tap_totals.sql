-- +goose Up
-- A tap's star levels and tier are decided in Go from the volunteer's totals
-- the tap left (issue 21), the same way for a fresh tap and its replay: the
-- tap row keeps those totals as numbers (the year's minutes after the tap,
-- the lifetime minutes before and after it) and result only the rest of the
-- decision (names, times, session minutes). Rows written before hold the
-- whole result of the time in result; their totals are copied out of it
-- here (the lifetime before is the lifetime after less the session's
-- minutes, which is what the tap added), so that they replay as answered.
ALTER TABLE taps
    ADD COLUMN year_minutes            BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN lifetime_minutes_before BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN lifetime_minutes        BIGINT NOT NULL DEFAULT 0;
UPDATE taps SET
    year_minutes = COALESCE((result::jsonb ->> 'year_minutes')::bigint, 0),
    lifetime_minutes_before = COALESCE((result::jsonb ->> 'lifetime_minutes')::bigint, 0)
        - COALESCE((result::jsonb ->> 'session_minutes')::bigint, 0),
    lifetime_minutes = COALESCE((result::jsonb ->> 'lifetime_minutes')::bigint, 0);

-- +goose Down
-- The totals go back into result, where the code before this migration
-- reads them; taps written since carry no star levels or tier there.
UPDATE taps SET result = (result::jsonb || jsonb_build_object('year_minutes', year_minutes,
    'lifetime_minutes', lifetime_minutes))::text;
ALTER TABLE taps
    DROP COLUMN lifetime_minutes,
    DROP COLUMN lifetime_minutes_before,
    DROP COLUMN year_minutes;

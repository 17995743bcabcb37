-- +goose Up
-- The activity list (GET /v1/activities): newest start first with a
-- (starts_at, id) cursor, and each item's check-in count from attendances
-- by activity (also what the console's live view reads every 3 s).
CREATE INDEX activities_starts ON activities (starts_at DESC, id DESC);
CREATE INDEX attendances_activity ON attendances (activity_id, in_at);

-- +goose Down
DROP INDEX attendances_activity;
DROP INDEX activities_starts;

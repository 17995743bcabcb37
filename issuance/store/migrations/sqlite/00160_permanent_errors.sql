-- +goose Up
-- How many tries of a bank request got an answer that could not be applied
-- for a cause that repeats (a unique conflict, an illegal transition): the
-- row ends failed after PermanentTries of them, however many tries failed
-- for a passing cause (the bank down) before.
ALTER TABLE bank_requests ADD COLUMN permanent_errors INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE bank_requests DROP COLUMN permanent_errors;

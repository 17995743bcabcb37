-- +goose Up
-- Bank staff see a volunteer only when the person holds an application (and
-- so possibly a card) at their bank: volunteer reads by bank staff test
-- EXISTS (application of this volunteer at this bank) through this index.
CREATE INDEX applications_volunteer_bank ON applications (volunteer_id, bank_code);

-- +goose Down
DROP INDEX applications_volunteer_bank;

-- +goose Up
-- Instant issuance (issue 19): an organisation's policy that lets bank staff
-- approve a walk-in application they made at their branch, so the person
-- leaves with a card in one visit. Set by the province admin; it applies to
-- the organisation's subtree.
ALTER TABLE orgs ADD COLUMN instant_issuance BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE orgs DROP COLUMN instant_issuance;

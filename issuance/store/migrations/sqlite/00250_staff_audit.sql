-- +goose Up
-- Staff edits through the API (issue 19): every edit the console makes
-- (an organisation's contacts and figures, targets, branches, products,
-- tokens, volunteers) and every hotline look-up is one audit row: who
-- (token and role), when, what (kind), on which object (subject and id, and
-- the organisation path for scoped reads). detail says which fields changed,
-- never their personal values (no phone, no ID number, no PAN).
CREATE TABLE audit_events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    kind           TEXT NOT NULL,
    subject        TEXT NOT NULL,
    subject_id     TEXT NOT NULL DEFAULT '',
    org_path       TEXT NOT NULL DEFAULT '',
    actor_token_id BIGINT NOT NULL DEFAULT 0,
    actor_role     TEXT NOT NULL,
    detail         TEXT NOT NULL DEFAULT '',
    at             DATETIME NOT NULL
);
CREATE INDEX audit_events_subject ON audit_events (subject, subject_id, id);

-- Each contact has a position (职务) beside its name and phone.
ALTER TABLE orgs ADD COLUMN responsible_position TEXT NOT NULL DEFAULT '';
ALTER TABLE orgs ADD COLUMN liaison_position TEXT NOT NULL DEFAULT '';
ALTER TABLE branches ADD COLUMN contact_position TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE branches DROP COLUMN contact_position;
ALTER TABLE orgs DROP COLUMN liaison_position;
ALTER TABLE orgs DROP COLUMN responsible_position;
DROP TABLE audit_events;

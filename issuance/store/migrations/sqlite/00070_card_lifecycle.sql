-- +goose Up
-- Card lifecycle through the bank: see the PostgreSQL migration of the
-- same number for what each column means.
ALTER TABLE cards ADD COLUMN replace_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cards ADD COLUMN pending_change TEXT NOT NULL DEFAULT '';
ALTER TABLE cards ADD COLUMN block_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE cards ADD COLUMN replaced_by BIGINT REFERENCES cards (id);
ALTER TABLE cards ADD COLUMN updated_at DATETIME;
DROP INDEX cards_application;
CREATE UNIQUE INDEX cards_application_current ON cards (application_id) WHERE state <> 'replaced';
CREATE UNIQUE INDEX cards_application_seq ON cards (application_id, replace_seq);

CREATE UNIQUE INDEX bank_requests_change_open ON bank_requests (application_id)
    WHERE kind = 'status_change' AND state NOT IN ('done', 'failed');

CREATE TABLE card_events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    card_id        BIGINT NOT NULL REFERENCES cards (id),
    kind           TEXT NOT NULL,
    change         TEXT NOT NULL DEFAULT '',
    actor_token_id BIGINT NOT NULL DEFAULT 0,
    actor_role     TEXT NOT NULL,
    channel        TEXT NOT NULL DEFAULT '',
    reason         TEXT NOT NULL DEFAULT '',
    result_code    TEXT NOT NULL DEFAULT '',
    at             DATETIME NOT NULL
);
CREATE INDEX card_events_card ON card_events (card_id, id);

-- An application issued again after a replacement is not counted again.
DROP TRIGGER applications_count_update;
-- +goose StatementBegin
CREATE TRIGGER applications_count_update AFTER UPDATE OF status ON applications
WHEN NEW.status IN ('issued', 'activated') AND OLD.status NOT IN ('issued', 'activated')
 AND NOT EXISTS (SELECT 1 FROM cards c WHERE c.application_id = NEW.id AND c.replace_seq > 0)
BEGIN
    INSERT INTO org_year_counters (org_id, year, slot, holders)
    SELECT v.org_id, CAST(strftime('%Y', NEW.updated_at, '+8 hours') AS INTEGER), 0, 1
      FROM volunteers v
     WHERE v.id = NEW.volunteer_id
       AND NOT EXISTS (SELECT 1 FROM applications a WHERE a.volunteer_id = NEW.volunteer_id
                       AND a.id <> NEW.id AND a.status IN ('issued', 'activated'))
    ON CONFLICT (org_id, year, slot) DO UPDATE SET holders = holders + 1;
    INSERT INTO org_year_counters (org_id, year, slot, new_with_card)
    SELECT v.org_id, CAST(strftime('%Y', v.created_at, '+8 hours') AS INTEGER), 0, 1
      FROM volunteers v
     WHERE v.id = NEW.volunteer_id
       AND NOT EXISTS (SELECT 1 FROM applications a WHERE a.volunteer_id = NEW.volunteer_id
                       AND a.id <> NEW.id AND a.status IN ('issued', 'activated'))
    ON CONFLICT (org_id, year, slot) DO UPDATE SET new_with_card = new_with_card + 1;
    INSERT INTO org_year_counters (org_id, year, slot, city_card_holders)
    SELECT v.org_id, CAST(strftime('%Y', NEW.updated_at, '+8 hours') AS INTEGER), 0, 1
      FROM volunteers v
     WHERE v.id = NEW.volunteer_id
       AND EXISTS (SELECT 1 FROM products p JOIN orgs o ON o.id = p.org_id
                    WHERE p.code = NEW.product_code AND o.parent_id IS NOT NULL)
       AND NOT EXISTS (SELECT 1 FROM applications a JOIN products p ON p.code = a.product_code
                       JOIN orgs o ON o.id = p.org_id
                       WHERE a.volunteer_id = NEW.volunteer_id AND a.id <> NEW.id
                         AND a.status IN ('issued', 'activated') AND o.parent_id IS NOT NULL)
    ON CONFLICT (org_id, year, slot) DO UPDATE SET city_card_holders = city_card_holders + 1;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER applications_count_update;
-- +goose StatementBegin
CREATE TRIGGER applications_count_update AFTER UPDATE OF status ON applications
WHEN NEW.status IN ('issued', 'activated') AND OLD.status NOT IN ('issued', 'activated')
BEGIN
    INSERT INTO org_year_counters (org_id, year, slot, holders)
    SELECT v.org_id, CAST(strftime('%Y', NEW.updated_at, '+8 hours') AS INTEGER), 0, 1
      FROM volunteers v
     WHERE v.id = NEW.volunteer_id
       AND NOT EXISTS (SELECT 1 FROM applications a WHERE a.volunteer_id = NEW.volunteer_id
                       AND a.id <> NEW.id AND a.status IN ('issued', 'activated'))
    ON CONFLICT (org_id, year, slot) DO UPDATE SET holders = holders + 1;
    INSERT INTO org_year_counters (org_id, year, slot, new_with_card)
    SELECT v.org_id, CAST(strftime('%Y', v.created_at, '+8 hours') AS INTEGER), 0, 1
      FROM volunteers v
     WHERE v.id = NEW.volunteer_id
       AND NOT EXISTS (SELECT 1 FROM applications a WHERE a.volunteer_id = NEW.volunteer_id
                       AND a.id <> NEW.id AND a.status IN ('issued', 'activated'))
    ON CONFLICT (org_id, year, slot) DO UPDATE SET new_with_card = new_with_card + 1;
    INSERT INTO org_year_counters (org_id, year, slot, city_card_holders)
    SELECT v.org_id, CAST(strftime('%Y', NEW.updated_at, '+8 hours') AS INTEGER), 0, 1
      FROM volunteers v
     WHERE v.id = NEW.volunteer_id
       AND EXISTS (SELECT 1 FROM products p JOIN orgs o ON o.id = p.org_id
                    WHERE p.code = NEW.product_code AND o.parent_id IS NOT NULL)
       AND NOT EXISTS (SELECT 1 FROM applications a JOIN products p ON p.code = a.product_code
                       JOIN orgs o ON o.id = p.org_id
                       WHERE a.volunteer_id = NEW.volunteer_id AND a.id <> NEW.id
                         AND a.status IN ('issued', 'activated') AND o.parent_id IS NOT NULL)
    ON CONFLICT (org_id, year, slot) DO UPDATE SET city_card_holders = city_card_holders + 1;
END;
-- +goose StatementEnd
DROP TABLE card_events;
DROP INDEX bank_requests_change_open;
DROP INDEX cards_application_seq;
DROP INDEX cards_application_current;
CREATE UNIQUE INDEX cards_application ON cards (application_id);
ALTER TABLE cards DROP COLUMN updated_at;
ALTER TABLE cards DROP COLUMN replaced_by;
ALTER TABLE cards DROP COLUMN block_reason;
ALTER TABLE cards DROP COLUMN pending_change;
ALTER TABLE cards DROP COLUMN replace_seq;

-- +goose Up
-- Card lifecycle through the bank (issue 4, status changes): block, unblock
-- and replace go to the bank as outbox rows of kind status_change; the card
-- changes here only when the bank confirms. Meanwhile pending_change says
-- which change is on its way (check-in refuses a card with a block or a
-- replacement pending). A replacement adds a card row (replace_seq = the
-- bank's RS) and marks the old one replaced: an application has at most one
-- card that is not replaced.
ALTER TABLE cards ADD COLUMN replace_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cards ADD COLUMN pending_change TEXT NOT NULL DEFAULT '';
ALTER TABLE cards ADD COLUMN block_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE cards ADD COLUMN replaced_by BIGINT REFERENCES cards (id);
ALTER TABLE cards ADD COLUMN updated_at TIMESTAMPTZ;
DROP INDEX cards_application;
CREATE UNIQUE INDEX cards_application_current ON cards (application_id) WHERE state <> 'replaced';
CREATE UNIQUE INDEX cards_application_seq ON cards (application_id, replace_seq);

-- At most one status change on its way per application: changes reach the
-- bank in the order they were asked for.
CREATE UNIQUE INDEX bank_requests_change_open ON bank_requests (application_id)
    WHERE kind = 'status_change' AND state NOT IN ('done', 'failed');

-- Who asked for which change of a card, and what the bank answered.
CREATE TABLE card_events (
    id             BIGSERIAL PRIMARY KEY,
    card_id        BIGINT NOT NULL REFERENCES cards (id),
    kind           TEXT NOT NULL,
    change         TEXT NOT NULL DEFAULT '',
    actor_token_id BIGINT NOT NULL DEFAULT 0,
    actor_role     TEXT NOT NULL,
    channel        TEXT NOT NULL DEFAULT '',
    reason         TEXT NOT NULL DEFAULT '',
    result_code    TEXT NOT NULL DEFAULT '',
    at             TIMESTAMPTZ NOT NULL
);
CREATE INDEX card_events_card ON card_events (card_id, id);

-- A replacement moves the application back to bank_approved and then to
-- issued again: the holder was counted when the first card was issued, so
-- an application that has a replacement card is not counted again.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION volcard_count_card() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_org  BIGINT;
    v_reg  INTEGER;
    v_year INTEGER;
    v_slot SMALLINT;
    v_city BOOLEAN;
BEGIN
    IF current_setting('volcard.skip_counters', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF EXISTS (SELECT 1 FROM cards c WHERE c.application_id = NEW.id AND c.replace_seq > 0) THEN
        RETURN NULL;
    END IF;
    SELECT org_id, EXTRACT(YEAR FROM created_at AT TIME ZONE 'Asia/Shanghai')::int
      INTO v_org, v_reg FROM volunteers WHERE id = NEW.volunteer_id;
    v_year := EXTRACT(YEAR FROM NEW.updated_at AT TIME ZONE 'Asia/Shanghai')::int;
    v_slot := (txid_current() % 8)::smallint;
    IF NOT EXISTS (SELECT 1 FROM applications a WHERE a.volunteer_id = NEW.volunteer_id
                   AND a.id <> NEW.id AND a.status IN ('issued', 'activated')) THEN
        INSERT INTO org_year_counters AS c (org_id, year, slot, holders) VALUES (v_org, v_year, v_slot, 1)
        ON CONFLICT (org_id, year, slot) DO UPDATE SET holders = c.holders + 1;
        INSERT INTO org_year_counters AS c (org_id, year, slot, new_with_card) VALUES (v_org, v_reg, v_slot, 1)
        ON CONFLICT (org_id, year, slot) DO UPDATE SET new_with_card = c.new_with_card + 1;
    END IF;
    SELECT o.parent_id IS NOT NULL INTO v_city
      FROM products p JOIN orgs o ON o.id = p.org_id WHERE p.code = NEW.product_code;
    IF v_city AND NOT EXISTS (
        SELECT 1 FROM applications a JOIN products p ON p.code = a.product_code JOIN orgs o ON o.id = p.org_id
         WHERE a.volunteer_id = NEW.volunteer_id AND a.id <> NEW.id
           AND a.status IN ('issued', 'activated') AND o.parent_id IS NOT NULL) THEN
        INSERT INTO org_year_counters AS c (org_id, year, slot, city_card_holders) VALUES (v_org, v_year, v_slot, 1)
        ON CONFLICT (org_id, year, slot) DO UPDATE SET city_card_holders = c.city_card_holders + 1;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION volcard_count_card() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_org  BIGINT;
    v_reg  INTEGER;
    v_year INTEGER;
    v_slot SMALLINT;
    v_city BOOLEAN;
BEGIN
    IF current_setting('volcard.skip_counters', true) = 'on' THEN
        RETURN NULL;
    END IF;
    SELECT org_id, EXTRACT(YEAR FROM created_at AT TIME ZONE 'Asia/Shanghai')::int
      INTO v_org, v_reg FROM volunteers WHERE id = NEW.volunteer_id;
    v_year := EXTRACT(YEAR FROM NEW.updated_at AT TIME ZONE 'Asia/Shanghai')::int;
    v_slot := (txid_current() % 8)::smallint;
    IF NOT EXISTS (SELECT 1 FROM applications a WHERE a.volunteer_id = NEW.volunteer_id
                   AND a.id <> NEW.id AND a.status IN ('issued', 'activated')) THEN
        INSERT INTO org_year_counters AS c (org_id, year, slot, holders) VALUES (v_org, v_year, v_slot, 1)
        ON CONFLICT (org_id, year, slot) DO UPDATE SET holders = c.holders + 1;
        INSERT INTO org_year_counters AS c (org_id, year, slot, new_with_card) VALUES (v_org, v_reg, v_slot, 1)
        ON CONFLICT (org_id, year, slot) DO UPDATE SET new_with_card = c.new_with_card + 1;
    END IF;
    SELECT o.parent_id IS NOT NULL INTO v_city
      FROM products p JOIN orgs o ON o.id = p.org_id WHERE p.code = NEW.product_code;
    IF v_city AND NOT EXISTS (
        SELECT 1 FROM applications a JOIN products p ON p.code = a.product_code JOIN orgs o ON o.id = p.org_id
         WHERE a.volunteer_id = NEW.volunteer_id AND a.id <> NEW.id
           AND a.status IN ('issued', 'activated') AND o.parent_id IS NOT NULL) THEN
        INSERT INTO org_year_counters AS c (org_id, year, slot, city_card_holders) VALUES (v_org, v_year, v_slot, 1)
        ON CONFLICT (org_id, year, slot) DO UPDATE SET city_card_holders = c.city_card_holders + 1;
    END IF;
    RETURN NULL;
END
$$;
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

-- Targets and reports (issue 8).
--
-- targets holds the programme's targets as data: a rule applies to every
-- organisation of org_kind ('' = any reportable kind) inside the subtree of
-- scope_org_id for one year and one indicator; the most specific rule wins
-- (deepest scope, then a named kind over ''). target_bp is in basis points
-- (500 = 5 %).
--
-- org_year_counters keeps per-organisation, per-year counts so that a
-- province-wide targets report never scans volunteers. The triggers below
-- update it in the same transaction as the change, whoever writes the row
-- (the Service, on-site bulk enrollment, the bank gateway). Each (org, year)
-- is spread over 8 slots (transaction id mod 8) so that concurrent
-- registrations in one organisation do not queue on a single row, while
-- all rows of one transaction (a 500-person roster) land in the same slot,
-- so bulk transactions never lock slots in crossing orders; readers sum
-- the slots. Years are calendar years in China Standard Time.
--   volunteers        volunteers registered in the year
--   league_members    of which Youth League members
--   holders           volunteers whose first card (issued or activated)
--                     came in the year
--   city_card_holders volunteers whose first city card (a product of a
--                     city, e.g. the Meizhou card) came in the year
--   new_with_card     volunteers registered in the year who hold a card
--                     (counted when they get their first card)
-- A bulk loader may set the session setting volcard.skip_counters = 'on'
-- and rebuild the counters from the base tables afterwards.

-- +goose Up
CREATE TABLE targets (
    id           BIGSERIAL PRIMARY KEY,
    year         INTEGER NOT NULL,
    scope_org_id BIGINT NOT NULL REFERENCES orgs (id),
    org_kind     TEXT NOT NULL DEFAULT '',
    indicator    TEXT NOT NULL,
    target_bp    INTEGER NOT NULL CHECK (target_bp > 0),
    note         TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX targets_rule ON targets (year, scope_org_id, org_kind, indicator);

CREATE TABLE org_year_counters (
    org_id            BIGINT NOT NULL REFERENCES orgs (id),
    year              INTEGER NOT NULL,
    slot              SMALLINT NOT NULL,
    volunteers        BIGINT NOT NULL DEFAULT 0,
    league_members    BIGINT NOT NULL DEFAULT 0,
    holders           BIGINT NOT NULL DEFAULT 0,
    city_card_holders BIGINT NOT NULL DEFAULT 0,
    new_with_card     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, year, slot)
);

-- Finds a volunteer's other cards quickly.
CREATE INDEX applications_volunteer_held ON applications (volunteer_id)
    WHERE status IN ('issued', 'activated');

-- +goose StatementBegin
CREATE FUNCTION volcard_count_volunteer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('volcard.skip_counters', true) = 'on' THEN
        RETURN NULL;
    END IF;
    INSERT INTO org_year_counters AS c (org_id, year, slot, volunteers, league_members)
    VALUES (NEW.org_id, EXTRACT(YEAR FROM NEW.created_at AT TIME ZONE 'Asia/Shanghai')::int,
            (txid_current() % 8)::smallint, 1, CASE WHEN NEW.league_member THEN 1 ELSE 0 END)
    ON CONFLICT (org_id, year, slot) DO UPDATE
        SET volunteers = c.volunteers + 1, league_members = c.league_members + EXCLUDED.league_members;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION volcard_count_card() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER volunteers_count AFTER INSERT ON volunteers
    FOR EACH ROW EXECUTE FUNCTION volcard_count_volunteer();
CREATE TRIGGER applications_count_insert AFTER INSERT ON applications
    FOR EACH ROW WHEN (NEW.status IN ('issued', 'activated')) EXECUTE FUNCTION volcard_count_card();
CREATE TRIGGER applications_count_update AFTER UPDATE OF status ON applications
    FOR EACH ROW WHEN (NEW.status IN ('issued', 'activated') AND OLD.status NOT IN ('issued', 'activated'))
    EXECUTE FUNCTION volcard_count_card();

-- +goose Down
DROP TRIGGER applications_count_update ON applications;
DROP TRIGGER applications_count_insert ON applications;
DROP TRIGGER volunteers_count ON volunteers;
DROP FUNCTION volcard_count_card();
DROP FUNCTION volcard_count_volunteer();
DROP INDEX applications_volunteer_held;
DROP TABLE org_year_counters;
DROP TABLE targets;

-- Targets and reports (issue 8). See the PostgreSQL migration of the same
-- number for the meaning of the tables; here the counters are kept by
-- SQLite triggers, always on and always in slot 0 (SQLite has a single
-- writer, so spreading rows over slots would gain nothing).

-- +goose Up
CREATE TABLE targets (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
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
    slot              INTEGER NOT NULL,
    volunteers        BIGINT NOT NULL DEFAULT 0,
    league_members    BIGINT NOT NULL DEFAULT 0,
    holders           BIGINT NOT NULL DEFAULT 0,
    city_card_holders BIGINT NOT NULL DEFAULT 0,
    new_with_card     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, year, slot)
);

CREATE INDEX applications_volunteer_held ON applications (volunteer_id)
    WHERE status IN ('issued', 'activated');

-- +goose StatementBegin
CREATE TRIGGER volunteers_count AFTER INSERT ON volunteers
BEGIN
    INSERT INTO org_year_counters (org_id, year, slot, volunteers, league_members)
    VALUES (NEW.org_id, CAST(strftime('%Y', NEW.created_at, '+8 hours') AS INTEGER), 0, 1,
            CASE WHEN NEW.league_member THEN 1 ELSE 0 END)
    ON CONFLICT (org_id, year, slot) DO UPDATE
        SET volunteers = volunteers + 1, league_members = league_members + excluded.league_members;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER applications_count_insert AFTER INSERT ON applications
WHEN NEW.status IN ('issued', 'activated')
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

-- +goose Down
DROP TRIGGER applications_count_update;
DROP TRIGGER applications_count_insert;
DROP TRIGGER volunteers_count;
DROP INDEX applications_volunteer_held;
DROP TABLE org_year_counters;
DROP TABLE targets;

-- +goose Up
-- Basic volunteer insurance (issue 18, docs/insurance-and-rebates.md): the
-- policies as data, one enrolment per holder started by the activation of
-- the holder's card and ended at expiry or closing, and an audit row per
-- policy change. Dates a person reads (file dates) are China civil dates,
-- 'YYYY-MM-DD' text, in both dialects.
CREATE TABLE insurance_policies (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    insurer        TEXT NOT NULL,
    policy_number  TEXT NOT NULL,
    cover_fen      BIGINT NOT NULL CHECK (cover_fen > 0),
    effective_from TEXT NOT NULL,          -- YYYY-MM-DD, China date, inclusive
    effective_to   TEXT NOT NULL DEFAULT '', -- YYYY-MM-DD exclusive, '' open-ended
    created_at     DATETIME NOT NULL
);
CREATE UNIQUE INDEX insurance_policies_number ON insurance_policies (policy_number);
CREATE UNIQUE INDEX insurance_policies_from ON insurance_policies (effective_from);

CREATE TABLE insurance_policy_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    policy_id  BIGINT NOT NULL REFERENCES insurance_policies (id),
    action     TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    token_id   BIGINT NOT NULL DEFAULT 0,
    detail     TEXT NOT NULL DEFAULT '',
    at         DATETIME NOT NULL
);

CREATE TABLE insurance_enrolments (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    volunteer_id   BIGINT NOT NULL REFERENCES volunteers (id),
    application_id BIGINT NOT NULL REFERENCES applications (id),
    card_id        BIGINT REFERENCES cards (id),
    org_id         BIGINT NOT NULL REFERENCES orgs (id), -- the application's organisation
    policy_id      BIGINT NOT NULL REFERENCES insurance_policies (id),
    org_path       TEXT NOT NULL,
    cover_fen      BIGINT NOT NULL,
    starts_at      DATETIME NOT NULL,
    start_day      TEXT NOT NULL,            -- China date of starts_at (the file of that day adds it)
    ends_at        DATETIME,              -- when the cover stops
    end_day        TEXT NOT NULL DEFAULT '', -- China date the end was recorded (the file of that day terminates it)
    end_reason     TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX insurance_enrolments_open ON insurance_enrolments (volunteer_id) WHERE ends_at IS NULL;
CREATE INDEX insurance_enrolments_start_day ON insurance_enrolments (start_day);
CREATE INDEX insurance_enrolments_end_day ON insurance_enrolments (end_day) WHERE end_day <> '';
CREATE INDEX insurance_enrolments_card ON insurance_enrolments (card_id);
CREATE INDEX insurance_enrolments_org ON insurance_enrolments (org_path);

-- The default policy: a plausible provincial group policy until the
-- province admin sets the real one (PUT /v1/admin/insurance/policies).
INSERT INTO insurance_policies (insurer, policy_number, cover_fen, effective_from, effective_to, created_at)
VALUES ('中国人民财产保险股份有限公司广东省分公司', 'PICC-GD-ZYZ-DEFAULT', 10000000, '2017-01-01', '', CURRENT_TIMESTAMP);

-- Holders whose card was active (or blocked) before this migration are
-- enrolled under the default policy from their card's activation; the
-- start is recorded today (start_day), so that the next daily file sends
-- them to the insurer. One enrolment per holder: their first such card.
INSERT INTO insurance_enrolments (volunteer_id, application_id, card_id, org_id, policy_id, org_path, cover_fen,
                                  starts_at, start_day)
SELECT a.volunteer_id, a.id, c.id, a.org_id, p.id, a.org_path, p.cover_fen, COALESCE(c.activated_at, c.created_at),
       date('now', '+8 hours')
FROM cards c
JOIN applications a ON a.id = c.application_id
CROSS JOIN (SELECT id, cover_fen FROM insurance_policies WHERE policy_number = 'PICC-GD-ZYZ-DEFAULT') p
WHERE c.state IN ('active', 'blocked')
  AND c.id = (SELECT MIN(c2.id) FROM cards c2 JOIN applications a2 ON a2.id = c2.application_id
              WHERE a2.volunteer_id = a.volunteer_id AND c2.state IN ('active', 'blocked'));

-- +goose Down
DROP TABLE insurance_enrolments;
DROP TABLE insurance_policy_events;
DROP TABLE insurance_policies;

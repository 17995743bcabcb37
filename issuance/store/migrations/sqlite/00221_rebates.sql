-- +goose Up
-- Donation rebates (issue 18, docs/insurance-and-rebates.md): the rates as
-- data, and the monthly statements per city and university computed from
-- card_spending. Money is integer fen throughout.

-- The China civil date of each advice (received_at in UTC+8), so that a
-- month is a range of this indexed text column on both dialects.
ALTER TABLE card_spending ADD COLUMN china_date TEXT NOT NULL DEFAULT '';
UPDATE card_spending SET china_date = date(substr(received_at, 1, 19), '+8 hours');
CREATE INDEX card_spending_china_date ON card_spending (china_date);

CREATE TABLE rebate_rates (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    bank_code      TEXT NOT NULL REFERENCES banks (code),
    product_code   TEXT NOT NULL REFERENCES products (code),
    rate_bp        INTEGER NOT NULL CHECK (rate_bp >= 0 AND rate_bp <= 10000),
    foundation_bp  INTEGER NOT NULL CHECK (foundation_bp >= 0 AND foundation_bp <= 10000),
    effective_from TEXT NOT NULL,            -- YYYY-MM-DD inclusive
    effective_to   TEXT NOT NULL DEFAULT '', -- YYYY-MM-DD exclusive, '' open-ended
    actor_role     TEXT NOT NULL,
    token_id       BIGINT NOT NULL DEFAULT 0,
    created_at     DATETIME NOT NULL
);
CREATE UNIQUE INDEX rebate_rates_from ON rebate_rates (bank_code, product_code, effective_from);

-- One row per generated month: a month is generated once; its statements
-- never change after.
CREATE TABLE rebate_months (
    month        TEXT PRIMARY KEY, -- YYYY-MM
    advices      BIGINT NOT NULL,
    net_fen      BIGINT NOT NULL,
    statements   INTEGER NOT NULL,
    unattributed BIGINT NOT NULL, -- advices of cards that are not ours (no beneficiary)
    generated_at DATETIME NOT NULL
);

CREATE TABLE rebate_statements (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    month          TEXT NOT NULL REFERENCES rebate_months (month),
    org_id         BIGINT NOT NULL REFERENCES orgs (id),
    org_path       TEXT NOT NULL,
    org_kind       TEXT NOT NULL,
    org_name       TEXT NOT NULL,
    advices        BIGINT NOT NULL,
    spending_fen   BIGINT NOT NULL,
    refund_fen     BIGINT NOT NULL,
    reversal_fen   BIGINT NOT NULL,
    net_fen        BIGINT NOT NULL,
    donation_fen   BIGINT NOT NULL,
    foundation_fen BIGINT NOT NULL,
    returned_fen   BIGINT NOT NULL,
    generated_at   DATETIME NOT NULL
);
CREATE UNIQUE INDEX rebate_statements_month_org ON rebate_statements (month, org_id);
CREATE INDEX rebate_statements_org ON rebate_statements (org_path);

CREATE TABLE rebate_statement_lines (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    statement_id   BIGINT NOT NULL REFERENCES rebate_statements (id),
    bank_code      TEXT NOT NULL,
    product_code   TEXT NOT NULL,
    rate_id        BIGINT NOT NULL REFERENCES rebate_rates (id),
    rate_bp        INTEGER NOT NULL,
    foundation_bp  INTEGER NOT NULL,
    advices        BIGINT NOT NULL,
    spending_fen   BIGINT NOT NULL,
    refund_fen     BIGINT NOT NULL,
    reversal_fen   BIGINT NOT NULL,
    net_fen        BIGINT NOT NULL,
    donation_fen   BIGINT NOT NULL,
    foundation_fen BIGINT NOT NULL,
    returned_fen   BIGINT NOT NULL
);
CREATE INDEX rebate_statement_lines_statement ON rebate_statement_lines (statement_id);

-- +goose Down
DROP TABLE rebate_statement_lines;
DROP TABLE rebate_statements;
DROP TABLE rebate_months;
DROP TABLE rebate_rates;
DROP INDEX card_spending_china_date;
ALTER TABLE card_spending DROP COLUMN china_date;

-- +goose Up
-- Daily reconciliation with each partner bank (issue 16): one row per run
-- (a bank's business date compared with volcard's cards of that bank), and
-- its differences. Nothing here changes a card: differences are reported.
-- No PAN is stored, only the last four digits.
CREATE TABLE reconciliations (
    id            BIGSERIAL PRIMARY KEY,
    bank_code     TEXT    NOT NULL REFERENCES banks(code),
    business_date TEXT    NOT NULL, -- YYYY-MM-DD
    source        TEXT    NOT NULL DEFAULT '',
    bank_cards    INTEGER NOT NULL DEFAULT 0,
    our_cards     INTEGER NOT NULL DEFAULT 0,
    matched       INTEGER NOT NULL DEFAULT 0,
    differences   INTEGER NOT NULL DEFAULT 0,
    by_kind       TEXT    NOT NULL DEFAULT '{}', -- JSON: kind -> count
    started_at    TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX reconciliations_bank_date ON reconciliations (bank_code, business_date);
CREATE TABLE reconciliation_differences (
    id                 BIGSERIAL PRIMARY KEY,
    reconciliation_id  BIGINT  NOT NULL REFERENCES reconciliations(id) ON DELETE CASCADE,
    kind               TEXT    NOT NULL,
    application_number TEXT    NOT NULL,
    replace_seq        INTEGER NOT NULL DEFAULT 0,
    last_four          TEXT    NOT NULL DEFAULT '',
    our_state          TEXT    NOT NULL DEFAULT '',
    bank_state         TEXT    NOT NULL DEFAULT '',
    application_status TEXT    NOT NULL DEFAULT '',
    bank_activated     TEXT    NOT NULL DEFAULT '', -- YYYY-MM-DD or empty
    line               INTEGER NOT NULL DEFAULT 0,
    detail             TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX reconciliation_differences_report ON reconciliation_differences (reconciliation_id, id);

-- +goose Down
DROP TABLE reconciliation_differences;
DROP TABLE reconciliations;

-- +goose Up
-- The bank outbox (issue 4): one row per request to the partner bank,
-- written in the transaction that moves an application to bank_pending and
-- drained by bankgw/outbox workers. No personal data: the worker decrypts the
-- volunteer when it sends. Scheduling times are Unix milliseconds so that
-- both dialects compare them as integers.
CREATE TABLE bank_requests (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id     BIGINT NOT NULL REFERENCES applications (id),
    application_number TEXT NOT NULL,
    parent_id          BIGINT REFERENCES bank_requests (id),
    kind               TEXT NOT NULL,
    payload            TEXT NOT NULL DEFAULT '{}',
    state              TEXT NOT NULL,
    attempts           INTEGER NOT NULL DEFAULT 0,
    repeats            INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms    BIGINT NOT NULL,
    trace_mti          TEXT NOT NULL DEFAULT '',
    stan               TEXT NOT NULL DEFAULT '',
    transmitted_unix   BIGINT NOT NULL DEFAULT 0,
    rrn                TEXT NOT NULL DEFAULT '',
    maybe_sent         BOOLEAN NOT NULL DEFAULT FALSE,
    result_code        TEXT NOT NULL DEFAULT '',
    last_error         TEXT NOT NULL DEFAULT '',
    lease_owner        TEXT NOT NULL DEFAULT '',
    lease_until_ms     BIGINT NOT NULL DEFAULT 0,
    created_at         DATETIME NOT NULL,
    updated_at         DATETIME NOT NULL
);
-- One card application request per application: the bank-side dedupe by
-- application number is the second line of defence.
CREATE UNIQUE INDEX bank_requests_apply_once ON bank_requests (application_id) WHERE kind = 'apply';
CREATE INDEX bank_requests_due ON bank_requests (next_attempt_ms, id) WHERE state IN ('pending', 'sent');
CREATE INDEX bank_requests_leased ON bank_requests (lease_until_ms) WHERE state = 'in_flight';
CREATE INDEX bank_requests_number ON bank_requests (application_number, kind);
CREATE INDEX bank_requests_rrn ON bank_requests (rrn);

-- Cards issued by the bank. Never the clear PAN: pan_token is
-- HMAC-SHA256(index key, PAN), pan_enc the AES-GCM sealed PAN.
CREATE TABLE cards (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id BIGINT NOT NULL REFERENCES applications (id),
    pan_token      BLOB NOT NULL,
    pan_enc        BLOB NOT NULL,
    last_four      TEXT NOT NULL,
    expiry         TEXT NOT NULL,
    psn            TEXT NOT NULL,
    bank_reference TEXT NOT NULL DEFAULT '',
    state          TEXT NOT NULL,
    created_at     DATETIME NOT NULL,
    activated_at   DATETIME
);
CREATE UNIQUE INDEX cards_application ON cards (application_id);
CREATE UNIQUE INDEX cards_pan_token ON cards (pan_token);

-- Spending advices for the donation-rebate report, once per RRN and kind.
CREATE TABLE card_spending (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    rrn            TEXT NOT NULL,
    kind           TEXT NOT NULL,
    card_id        BIGINT REFERENCES cards (id),
    application_id BIGINT REFERENCES applications (id),
    org_path       TEXT NOT NULL DEFAULT '',
    amount         BIGINT NOT NULL,
    currency       TEXT NOT NULL,
    mcc            TEXT NOT NULL DEFAULT '',
    merchant_name  TEXT NOT NULL DEFAULT '',
    local_date     TEXT NOT NULL DEFAULT '',
    local_time     TEXT NOT NULL DEFAULT '',
    received_at    DATETIME NOT NULL
);
CREATE UNIQUE INDEX card_spending_rrn ON card_spending (rrn, kind);
CREATE INDEX card_spending_org ON card_spending (org_path);

-- STAN counters (field 11): one row per sender (terminal id) per UTC day.
CREATE TABLE bank_stan (
    sender TEXT NOT NULL,
    day    TEXT NOT NULL,
    last   INTEGER NOT NULL,
    PRIMARY KEY (sender, day)
);

-- +goose Down
DROP TABLE bank_stan;
DROP TABLE card_spending;
DROP TABLE cards;
DROP TABLE bank_requests;

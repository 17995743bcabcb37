-- +goose Up
-- Advices from the bank (docs/bank-interface.md section 7.2), once per RRN
-- and kind. An activation advice for a card we do not know yet is parked
-- here and applied in the transaction that records the card. Never the
-- clear PAN: pan_token is HMAC-SHA256(index key, PAN), as in cards.
CREATE TABLE bank_advices (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    rrn                TEXT NOT NULL,
    kind               TEXT NOT NULL,
    pan_token          BLOB,
    last_four          TEXT NOT NULL DEFAULT '',
    application_number TEXT NOT NULL DEFAULT '',
    state              TEXT NOT NULL,
    card_id            BIGINT REFERENCES cards (id),
    received_at        DATETIME NOT NULL,
    applied_at         DATETIME
);
CREATE UNIQUE INDEX bank_advices_rrn ON bank_advices (rrn, kind);
CREATE INDEX bank_advices_parked_token ON bank_advices (pan_token) WHERE state = 'parked';
CREATE INDEX bank_advices_parked_number ON bank_advices (application_number) WHERE state = 'parked';
CREATE INDEX bank_advices_parked_age ON bank_advices (received_at) WHERE state = 'parked';

-- The outbox gauges (rows by kind and state, oldest open row) count only
-- rows that are not done, through this small partial index.
CREATE INDEX bank_requests_open ON bank_requests (state, kind, created_at) WHERE state NOT IN ('done', 'cancelled');

-- +goose Down
DROP INDEX bank_requests_open;
DROP TABLE bank_advices;

-- Idempotency-Key records for POST endpoints (owned by the API helper).
-- Times are Unix milliseconds so that PostgreSQL and SQLite compare them alike.

-- +goose Up
CREATE TABLE idempotency_keys (
    scope           TEXT    NOT NULL,
    idem_key        TEXT    NOT NULL,
    request_hash    TEXT    NOT NULL,
    status_code     INTEGER NOT NULL DEFAULT 0,
    content_type    TEXT    NOT NULL DEFAULT '',
    location        TEXT    NOT NULL DEFAULT '',
    response_body   BLOB,
    locked_until_ms BIGINT  NOT NULL DEFAULT 0,
    created_at_ms   BIGINT  NOT NULL,
    expires_at_ms   BIGINT  NOT NULL,
    PRIMARY KEY (scope, idem_key)
);
CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at_ms);

-- +goose Down
DROP TABLE idempotency_keys;

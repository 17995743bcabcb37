-- +goose Up
-- The event feed (issue #17): see the PostgreSQL migration. SQLite has one
-- writer at a time, so ids are in commit order and tx is not needed.
CREATE TABLE feed_events (
    id           INTEGER PRIMARY KEY,
    type         TEXT NOT NULL,
    subject_type TEXT NOT NULL,
    subject_id   INTEGER NOT NULL,
    order_key    TEXT NOT NULL,
    org_path     TEXT NOT NULL DEFAULT '',
    bank_code    TEXT NOT NULL DEFAULT '',
    payload      TEXT NOT NULL,
    at           DATETIME NOT NULL
);

CREATE TABLE webhook_endpoints (
    id              INTEGER PRIMARY KEY,
    url             TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    secret_enc      BLOB NOT NULL,
    types           TEXT NOT NULL DEFAULT '',
    scope_path      TEXT NOT NULL DEFAULT '',
    bank_code       TEXT NOT NULL DEFAULT '',
    created_by      INTEGER NOT NULL DEFAULT 0,
    enabled         BOOLEAN NOT NULL DEFAULT TRUE,
    disabled_reason TEXT NOT NULL DEFAULT '',
    failures        INTEGER NOT NULL DEFAULT 0,
    failing_since   DATETIME,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);

CREATE TABLE webhook_deliveries (
    id             INTEGER PRIMARY KEY,
    endpoint_id    INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id       INTEGER NOT NULL REFERENCES feed_events (id),
    order_key      TEXT NOT NULL,
    state          TEXT NOT NULL DEFAULT 'pending',
    attempts       INTEGER NOT NULL DEFAULT 0,
    next_at_ms     INTEGER NOT NULL DEFAULT 0,
    lease_owner    TEXT NOT NULL DEFAULT '',
    lease_until_ms INTEGER NOT NULL DEFAULT 0,
    last_status    INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT NOT NULL DEFAULT '',
    created_at     DATETIME NOT NULL,
    delivered_at   DATETIME,
    redelivery_of  INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at_ms, id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_head ON webhook_deliveries (endpoint_id, order_key, id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
DROP TABLE feed_events;

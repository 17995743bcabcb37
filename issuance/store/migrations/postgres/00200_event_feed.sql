-- +goose Up
-- The event feed (issue #17): one row per change of an application, card,
-- volunteer, check-in or on-site session, written in the transaction of the
-- change. tx is the writing transaction's id: readers page by (tx, id) and
-- read only below the oldest transaction still running
-- (pg_snapshot_xmin), so an event whose transaction commits late is never
-- skipped (a BIGSERIAL id alone is not in commit order).
CREATE TABLE feed_events (
    id           BIGSERIAL PRIMARY KEY,
    tx           xid8 NOT NULL DEFAULT pg_current_xact_id(),
    type         TEXT NOT NULL,
    subject_type TEXT NOT NULL,
    subject_id   BIGINT NOT NULL,
    order_key    TEXT NOT NULL,
    org_path     TEXT NOT NULL DEFAULT '',
    bank_code    TEXT NOT NULL DEFAULT '',
    payload      TEXT NOT NULL,
    at           TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX feed_events_order ON feed_events (tx, id);

-- Webhook endpoints: the scope (org path prefix, bank) is the creating
-- token's; types is empty (every type) or ",a,b,".
CREATE TABLE webhook_endpoints (
    id              BIGSERIAL PRIMARY KEY,
    url             TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    secret_enc      BYTEA NOT NULL,
    types           TEXT NOT NULL DEFAULT '',
    scope_path      TEXT NOT NULL DEFAULT '',
    bank_code       TEXT NOT NULL DEFAULT '',
    created_by      BIGINT NOT NULL DEFAULT 0,
    enabled         BOOLEAN NOT NULL DEFAULT TRUE,
    disabled_reason TEXT NOT NULL DEFAULT '',
    failures        INTEGER NOT NULL DEFAULT 0,
    failing_since   TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

-- One delivery per (endpoint, event), queued with the event; a manual
-- redelivery adds a row. pending rows are due at next_at_ms; a claimed row
-- stays pending with a lease (lease_owner, lease_until_ms).
CREATE TABLE webhook_deliveries (
    id             BIGSERIAL PRIMARY KEY,
    endpoint_id    BIGINT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id       BIGINT NOT NULL REFERENCES feed_events (id),
    order_key      TEXT NOT NULL,
    state          TEXT NOT NULL DEFAULT 'pending',
    attempts       INTEGER NOT NULL DEFAULT 0,
    next_at_ms     BIGINT NOT NULL DEFAULT 0,
    lease_owner    TEXT NOT NULL DEFAULT '',
    lease_until_ms BIGINT NOT NULL DEFAULT 0,
    last_status    INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMPTZ NOT NULL,
    delivered_at   TIMESTAMPTZ,
    redelivery_of  BIGINT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at_ms, id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_head ON webhook_deliveries (endpoint_id, order_key, id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
DROP TABLE feed_events;

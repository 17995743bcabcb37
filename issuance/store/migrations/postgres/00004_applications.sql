-- +goose Up
-- org_path and bank_code are copied from the volunteer and product so that
-- scoped queries need no join.
CREATE TABLE applications (
    id           BIGSERIAL PRIMARY KEY,
    number       TEXT NOT NULL,
    volunteer_id BIGINT NOT NULL REFERENCES volunteers (id),
    org_id       BIGINT NOT NULL REFERENCES orgs (id),
    org_path     TEXT NOT NULL,
    product_code TEXT NOT NULL REFERENCES products (code),
    bank_code    TEXT NOT NULL,
    channel      TEXT NOT NULL,
    status       TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    version      BIGINT NOT NULL DEFAULT 1,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX applications_number ON applications (number);
-- One live application per volunteer and product.
CREATE UNIQUE INDEX applications_live ON applications (volunteer_id, product_code)
    WHERE status NOT IN ('rejected', 'bank_declined', 'cancelled');
CREATE INDEX applications_org_path ON applications (org_path text_pattern_ops, id);
CREATE INDEX applications_status ON applications (status, id);

CREATE TABLE application_events (
    id             BIGSERIAL PRIMARY KEY,
    application_id BIGINT NOT NULL REFERENCES applications (id),
    from_status    TEXT NOT NULL DEFAULT '',
    to_status      TEXT NOT NULL,
    actor_token_id BIGINT NOT NULL DEFAULT 0,
    actor_role     TEXT NOT NULL,
    channel        TEXT NOT NULL,
    reason         TEXT NOT NULL DEFAULT '',
    at             TIMESTAMPTZ NOT NULL
);
CREATE INDEX application_events_app ON application_events (application_id, id);

-- +goose Down
DROP TABLE application_events;
DROP TABLE applications;

-- +goose Up
-- id_number_enc and phone_enc are AES-256-GCM ciphertexts (issuance/pii);
-- id_number_idx is the HMAC-SHA256 blind index used for exact lookup and
-- deduplication.
CREATE TABLE volunteers (
    id               BIGSERIAL PRIMARY KEY,
    org_id           BIGINT NOT NULL REFERENCES orgs (id),
    org_path         TEXT NOT NULL,
    name             TEXT NOT NULL,
    emboss_name      TEXT NOT NULL,
    id_type          TEXT NOT NULL,
    id_number_enc    BYTEA NOT NULL,
    id_number_idx    BYTEA NOT NULL,
    gender           TEXT NOT NULL DEFAULT '',
    birth_date       DATE,
    phone_enc        BYTEA,
    league_member    BOOLEAN NOT NULL DEFAULT FALSE,
    party_member     BOOLEAN NOT NULL DEFAULT FALSE,
    clothing_size    TEXT NOT NULL,
    source           TEXT NOT NULL,
    volunteer_number TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX volunteers_id_number_idx ON volunteers (id_number_idx);
CREATE INDEX volunteers_org_path ON volunteers (org_path text_pattern_ops);

-- +goose Down
DROP TABLE volunteers;

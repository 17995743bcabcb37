-- +goose Up
-- Personalization sessions (issue 5). secret is the server-side session
-- state (host challenge, prepared card data with its keys, the batch handed
-- out) sealed with AES-GCM under a key derived from the data key
-- (issuance/pii, purpose bound to the session id): never in clear at rest.
-- Several serve processes can continue one session.
CREATE TABLE perso_sessions (
    id             TEXT PRIMARY KEY,
    application_id BIGINT NOT NULL REFERENCES applications (id),
    actor_token_id BIGINT NOT NULL DEFAULT 0,
    bank_code      TEXT NOT NULL,
    reader         TEXT NOT NULL DEFAULT '',
    branch         TEXT NOT NULL DEFAULT '',
    state          TEXT NOT NULL,
    step           INTEGER NOT NULL DEFAULT 1,
    secret         BYTEA,
    chip_serial    TEXT NOT NULL DEFAULT '',
    failure        TEXT NOT NULL DEFAULT '',
    expires_at     TIMESTAMPTZ NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX perso_sessions_application ON perso_sessions (application_id, created_at);

-- Personalized cards: which bank card (PAN token + last four, PSN, expiry)
-- went onto which chip, by whom, on which reader, at which branch.
CREATE TABLE perso_records (
    id              BIGSERIAL PRIMARY KEY,
    application_id  BIGINT NOT NULL REFERENCES applications (id),
    card_id         BIGINT NOT NULL REFERENCES cards (id),
    session_id      TEXT NOT NULL REFERENCES perso_sessions (id),
    chip_serial     TEXT NOT NULL,
    pan_token       BYTEA NOT NULL,
    last_four       TEXT NOT NULL,
    psn             TEXT NOT NULL,
    expiry          TEXT NOT NULL,
    actor_token_id  BIGINT NOT NULL DEFAULT 0,
    reader          TEXT NOT NULL DEFAULT '',
    branch          TEXT NOT NULL DEFAULT '',
    personalized_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX perso_records_application ON perso_records (application_id);
CREATE UNIQUE INDEX perso_records_chip ON perso_records (chip_serial);

-- +goose Down
DROP TABLE perso_records;
DROP TABLE perso_sessions;

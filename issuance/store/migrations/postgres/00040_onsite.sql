-- +goose Up
-- On-site batch enrollment (issue 7): sessions requested by an organisation
-- and served by a bank branch, roster uploads, accepted rows (the batch
-- queue, one per session and ID number) and rejected rows (sealed).
CREATE TABLE onsite_sessions (
    id             BIGSERIAL PRIMARY KEY,
    org_id         BIGINT NOT NULL REFERENCES orgs (id),
    org_path       TEXT NOT NULL,
    city_id        BIGINT NOT NULL REFERENCES orgs (id),
    product_code   TEXT NOT NULL REFERENCES products (code),
    bank_code      TEXT NOT NULL,
    branch_id      BIGINT NOT NULL REFERENCES branches (id),
    site           TEXT NOT NULL,
    session_date   DATE NOT NULL,
    expected_count INTEGER NOT NULL,
    status         TEXT NOT NULL,
    reason         TEXT NOT NULL DEFAULT '',
    version        BIGINT NOT NULL DEFAULT 1,
    requested_by   BIGINT NOT NULL DEFAULT 0,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX onsite_sessions_org_path ON onsite_sessions (org_path text_pattern_ops, id);

CREATE TABLE onsite_session_events (
    id             BIGSERIAL PRIMARY KEY,
    session_id     BIGINT NOT NULL REFERENCES onsite_sessions (id),
    from_status    TEXT NOT NULL DEFAULT '',
    to_status      TEXT NOT NULL,
    actor_token_id BIGINT NOT NULL DEFAULT 0,
    actor_role     TEXT NOT NULL,
    reason         TEXT NOT NULL DEFAULT '',
    at             TIMESTAMPTZ NOT NULL
);
CREATE INDEX onsite_session_events_session ON onsite_session_events (session_id, id);

-- One row per distinct file (SHA-256) per session: the same file uploaded
-- again is the same upload.
CREATE TABLE roster_uploads (
    id             BIGSERIAL PRIMARY KEY,
    session_id     BIGINT NOT NULL REFERENCES onsite_sessions (id),
    sha256         TEXT NOT NULL,
    filename       TEXT NOT NULL DEFAULT '',
    format         TEXT NOT NULL,
    encoding       TEXT NOT NULL DEFAULT '',
    row_count      INTEGER NOT NULL DEFAULT 0,
    accepted       INTEGER NOT NULL DEFAULT 0,
    rejected       INTEGER NOT NULL DEFAULT 0,
    actor_token_id BIGINT NOT NULL DEFAULT 0,
    actor_role     TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    last_seen_at   TIMESTAMPTZ NOT NULL,
    finished_at    TIMESTAMPTZ
);
CREATE UNIQUE INDEX roster_uploads_session_sha ON roster_uploads (session_id, sha256);

-- Accepted rows. The unique (session, blind index) makes uploads idempotent
-- and crash-safe; the queue is in (upload, line) order.
CREATE TABLE onsite_entries (
    id             BIGSERIAL PRIMARY KEY,
    session_id     BIGINT NOT NULL REFERENCES onsite_sessions (id),
    upload_id      BIGINT NOT NULL REFERENCES roster_uploads (id),
    line           INTEGER NOT NULL,
    id_number_idx  BYTEA NOT NULL,
    volunteer_id   BIGINT NOT NULL REFERENCES volunteers (id),
    application_id BIGINT NOT NULL REFERENCES applications (id),
    name           TEXT NOT NULL,
    new_volunteer  BOOLEAN NOT NULL DEFAULT FALSE,
    verified_by    BIGINT NOT NULL DEFAULT 0,
    verified_role  TEXT NOT NULL,
    personalize    TEXT NOT NULL DEFAULT 'pending',
    attempts       INTEGER NOT NULL DEFAULT 0,
    note           TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
-- Blind index first: lookups are "these indexes in this session".
CREATE UNIQUE INDEX onsite_entries_idx_session ON onsite_entries (id_number_idx, session_id);
CREATE UNIQUE INDEX onsite_entries_application ON onsite_entries (application_id);
CREATE INDEX onsite_entries_queue ON onsite_entries (session_id, upload_id, line);

-- Rejected rows, ID number and phone sealed (AES-GCM), reasons as JSON.
CREATE TABLE roster_rejects (
    id            BIGSERIAL PRIMARY KEY,
    upload_id     BIGINT NOT NULL REFERENCES roster_uploads (id),
    session_id    BIGINT NOT NULL REFERENCES onsite_sessions (id),
    line          INTEGER NOT NULL,
    name          TEXT NOT NULL DEFAULT '',
    id_number_enc BYTEA,
    phone_enc     BYTEA,
    league        TEXT NOT NULL DEFAULT '',
    size          TEXT NOT NULL DEFAULT '',
    emboss        TEXT NOT NULL DEFAULT '',
    reasons       TEXT NOT NULL
);
CREATE UNIQUE INDEX roster_rejects_upload_line ON roster_rejects (upload_id, line);

-- +goose Down
DROP TABLE roster_rejects;
DROP TABLE onsite_entries;
DROP TABLE roster_uploads;
DROP TABLE onsite_session_events;
DROP TABLE onsite_sessions;

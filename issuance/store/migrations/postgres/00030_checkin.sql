-- Check-in at service sites (issue 6): activities, attendances (tap in /
-- tap out), taps (idempotent by terminal + sequence), per-volunteer-per-year
-- service-hour totals (year 0 is the lifetime total and carries the star
-- level), terminal challenges for DDA, card bindings by PAN token (the clear
-- PAN is never stored), benefit offers, and the check-in audit events.

-- +goose Up
CREATE TABLE activities (
    id         BIGSERIAL PRIMARY KEY,
    org_id     BIGINT NOT NULL REFERENCES orgs (id),
    org_path   TEXT NOT NULL,
    title      TEXT NOT NULL,
    site       TEXT NOT NULL DEFAULT '',
    starts_at  TIMESTAMPTZ NOT NULL,
    ends_at    TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX activities_org_path ON activities (org_path text_pattern_ops);

CREATE TABLE attendances (
    id           BIGSERIAL PRIMARY KEY,
    activity_id  BIGINT NOT NULL REFERENCES activities (id),
    volunteer_id BIGINT NOT NULL REFERENCES volunteers (id),
    org_path     TEXT NOT NULL,
    in_at        TIMESTAMPTZ NOT NULL,
    out_at       TIMESTAMPTZ,
    minutes      INTEGER NOT NULL DEFAULT 0,
    year         INTEGER NOT NULL,
    corrected    BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE UNIQUE INDEX attendances_open ON attendances (activity_id, volunteer_id) WHERE out_at IS NULL;
CREATE INDEX attendances_volunteer ON attendances (volunteer_id, in_at);

CREATE TABLE taps (
    id               BIGSERIAL PRIMARY KEY,
    terminal_id      TEXT NOT NULL,
    seq              BIGINT NOT NULL,
    activity_id      BIGINT NOT NULL REFERENCES activities (id),
    volunteer_id     BIGINT NOT NULL REFERENCES volunteers (id),
    attendance_id    BIGINT NOT NULL,
    kind             TEXT NOT NULL,
    at               TIMESTAMPTZ NOT NULL,
    offline_evidence BOOLEAN NOT NULL DEFAULT FALSE,
    pan_token        BYTEA NOT NULL,
    fingerprint      BYTEA NOT NULL,
    evidence_hash    BYTEA NOT NULL,
    result           TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX taps_terminal_seq ON taps (terminal_id, seq);
CREATE UNIQUE INDEX taps_evidence ON taps (evidence_hash);

CREATE TABLE volunteer_hours (
    volunteer_id BIGINT NOT NULL REFERENCES volunteers (id),
    year         INTEGER NOT NULL,
    minutes      BIGINT NOT NULL DEFAULT 0,
    stars        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (volunteer_id, year)
);

CREATE TABLE terminal_challenges (
    id            TEXT PRIMARY KEY,
    token_id      BIGINT NOT NULL,
    un            BYTEA NOT NULL,
    issued_at_ms  BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    used_at_ms    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX terminal_challenges_expires ON terminal_challenges (expires_at_ms);

CREATE TABLE checkin_cards (
    pan_token    BYTEA PRIMARY KEY,
    volunteer_id BIGINT REFERENCES volunteers (id),
    pan_last4    TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX checkin_cards_volunteer ON checkin_cards (volunteer_id);

CREATE TABLE benefit_offers (
    id          BIGSERIAL PRIMARY KEY,
    org_id      BIGINT NOT NULL REFERENCES orgs (id),
    org_path    TEXT NOT NULL,
    tier        TEXT NOT NULL,
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE checkin_events (
    id             BIGSERIAL PRIMARY KEY,
    kind           TEXT NOT NULL,
    volunteer_id   BIGINT NOT NULL DEFAULT 0,
    attendance_id  BIGINT NOT NULL DEFAULT 0,
    actor_token_id BIGINT NOT NULL DEFAULT 0,
    actor_role     TEXT NOT NULL,
    reason         TEXT NOT NULL DEFAULT '',
    detail         TEXT NOT NULL DEFAULT '',
    at             TIMESTAMPTZ NOT NULL
);
CREATE INDEX checkin_events_volunteer ON checkin_events (volunteer_id);

-- +goose Down
DROP TABLE checkin_events;
DROP TABLE benefit_offers;
DROP TABLE checkin_cards;
DROP TABLE terminal_challenges;
DROP TABLE volunteer_hours;
DROP TABLE taps;
DROP TABLE attendances;
DROP TABLE activities;

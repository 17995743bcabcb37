-- +goose Up
-- The platform link (issue 17). A volunteer's platform number ("i志愿"
-- number, volunteers.volunteer_number) is unique once set.
CREATE UNIQUE INDEX volunteers_platform_number ON volunteers (volunteer_number) WHERE volunteer_number <> '';

-- One registration request per volunteer registered at a branch or on site,
-- written in the transaction that registers the volunteer and drained by the
-- platform worker (platform.Worker) with leases as the bank outbox. No
-- personal data: the worker decrypts the volunteer when it sends. Times in
-- Unix milliseconds, compared as integers in both dialects.
CREATE TABLE platform_requests (
    id              BIGSERIAL PRIMARY KEY,
    volunteer_id    BIGINT NOT NULL REFERENCES volunteers (id),
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms BIGINT NOT NULL,
    number          TEXT NOT NULL DEFAULT '',
    matched         BOOLEAN NOT NULL DEFAULT FALSE,
    last_error      TEXT NOT NULL DEFAULT '',
    lease_owner     TEXT NOT NULL DEFAULT '',
    lease_until_ms  BIGINT NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX platform_requests_volunteer ON platform_requests (volunteer_id);
CREATE INDEX platform_requests_due ON platform_requests (next_attempt_ms, id) WHERE state = 'pending';
CREATE INDEX platform_requests_leased ON platform_requests (lease_until_ms) WHERE state = 'in_flight';

-- Who set a volunteer's platform number, when and why: the platform's
-- answer to a registration request, or staff later (the audit trail).
CREATE TABLE volunteer_number_changes (
    id             BIGSERIAL PRIMARY KEY,
    volunteer_id   BIGINT NOT NULL REFERENCES volunteers (id),
    from_number    TEXT NOT NULL,
    to_number      TEXT NOT NULL,
    source         TEXT NOT NULL,
    actor_token_id BIGINT NOT NULL DEFAULT 0,
    actor_role     TEXT NOT NULL DEFAULT '',
    reason         TEXT NOT NULL DEFAULT '',
    at             TIMESTAMPTZ NOT NULL
);
CREATE INDEX volunteer_number_changes_volunteer ON volunteer_number_changes (volunteer_id);

-- Bulk import of the platform's volunteers: one row per batch committed,
-- written in the batch's transaction, so that a batch sent again after a
-- lost answer or a killed serve is answered from here and not applied
-- twice. rejects is the batch's rejected rows as JSON (line, field,
-- reason; never the row's data).
CREATE TABLE import_batches (
    import_id  TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    rows_in    INTEGER NOT NULL,
    created    INTEGER NOT NULL,
    updated    INTEGER NOT NULL,
    rejects    TEXT NOT NULL DEFAULT '[]',
    done_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (import_id, seq)
);

-- Platform service hours per volunteer, as last imported (replaced, not
-- added, by a later import).
ALTER TABLE volunteers ADD COLUMN platform_minutes BIGINT NOT NULL DEFAULT 0;

-- The volunteers counter trigger (00050) is skipped, as before, while
-- volcard.skip_counters is on, but now in its WHEN clause: a bulk COPY
-- (the platform import, seed) then queues no after-trigger event per row.
DROP TRIGGER volunteers_count ON volunteers;
CREATE TRIGGER volunteers_count AFTER INSERT ON volunteers
    FOR EACH ROW WHEN (current_setting('volcard.skip_counters', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION volcard_count_volunteer();

-- +goose Down
DROP TRIGGER volunteers_count ON volunteers;
CREATE TRIGGER volunteers_count AFTER INSERT ON volunteers
    FOR EACH ROW EXECUTE FUNCTION volcard_count_volunteer();
ALTER TABLE volunteers DROP COLUMN platform_minutes;
DROP TABLE import_batches;
DROP TABLE volunteer_number_changes;
DROP TABLE platform_requests;
DROP INDEX volunteers_platform_number;

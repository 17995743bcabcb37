-- +goose Up
-- Card renewal and closing (issue 18, part 2).
--
-- The card state 'cancelled', which nothing set, is renamed 'closed': a card
-- closed at the bank (ST C) for good.
UPDATE cards SET state = 'closed' WHERE state = 'cancelled';

-- A renewed or replaced card is personalized again: an application may
-- have several personalization records, one per card and expiry (a card
-- renewed with the same PAN keeps its row and takes a new expiry).
DROP INDEX perso_records_application;
CREATE UNIQUE INDEX perso_records_card_expiry ON perso_records (card_id, expiry);
CREATE INDEX perso_records_application ON perso_records (application_id, id);

-- Renewal batches: the cards selected (organisation subtree, expiry at most
-- through, or only the expired ones), one item per card with its result.
CREATE TABLE renewal_batches (
    id             BIGSERIAL PRIMARY KEY,
    org_id         BIGINT NOT NULL REFERENCES orgs (id),
    through        TEXT NOT NULL,
    expired_only   BOOLEAN NOT NULL DEFAULT FALSE,
    actor_token_id BIGINT NOT NULL DEFAULT 0,
    actor_role     TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE TABLE renewal_items (
    batch_id    BIGINT NOT NULL REFERENCES renewal_batches (id),
    card_id     BIGINT NOT NULL REFERENCES cards (id),
    last_four   TEXT NOT NULL,
    expiry      TEXT NOT NULL,
    state       TEXT NOT NULL,
    result_code TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT '',
    new_card_id BIGINT REFERENCES cards (id),
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (batch_id, card_id)
);

-- The renewable cards of an organisation: current cards by expiry (the
-- index of 00150 leaves out expired cards).
CREATE INDEX cards_renewable ON cards (expiry, id) WHERE state IN ('issued', 'active', 'expired');

-- Spending advices carry their kind (field 48 SK): 'spending' (a purchase,
-- as before), 'refund' or 'reversal'. card_spending.kind holds it; no new
-- column.

-- +goose Down
DROP INDEX cards_renewable;
DROP TABLE renewal_items;
DROP TABLE renewal_batches;
DROP INDEX perso_records_application;
DROP INDEX perso_records_card_expiry;
CREATE UNIQUE INDEX perso_records_application ON perso_records (application_id);
UPDATE cards SET state = 'cancelled' WHERE state = 'closed';

-- +goose Up
-- Benefit checks and redemptions (issue 18). Every benefit check is
-- recorded under an opaque reference the terminal quotes to redeem an offer
-- it granted: one redemption per check and offer, with the cardholder
-- verification the terminal reports (offline_pin: the card verified the
-- PIN; none). No card data is stored: the holder is the volunteer.
CREATE TABLE benefit_checks (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    ref               TEXT NOT NULL UNIQUE,
    actor_token_id    BIGINT NOT NULL DEFAULT 0,
    volunteer_id      BIGINT NOT NULL REFERENCES volunteers (id),
    tier              TEXT NOT NULL,
    at                DATETIME NOT NULL
);

CREATE TABLE benefit_redemptions (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    check_id          BIGINT NOT NULL REFERENCES benefit_checks (id),
    offer_id          BIGINT NOT NULL REFERENCES benefit_offers (id),
    org_path          TEXT NOT NULL,
    volunteer_id      BIGINT NOT NULL REFERENCES volunteers (id),
    actor_token_id    BIGINT NOT NULL DEFAULT 0,
    cvm               TEXT NOT NULL,
    at                DATETIME NOT NULL
);
CREATE UNIQUE INDEX benefit_redemptions_check_offer ON benefit_redemptions (check_id, offer_id);
CREATE INDEX benefit_redemptions_offer ON benefit_redemptions (offer_id);

-- +goose Down
DROP TABLE benefit_redemptions;
DROP TABLE benefit_checks;

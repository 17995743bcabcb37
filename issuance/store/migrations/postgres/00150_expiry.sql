-- +goose Up
-- Card expiry (issue 18): a card is good through the last day of its expiry
-- month (cards.expiry, YYMM), China time; the daily job expire-cards sets
-- state 'expired' (with a card_events row of kind 'expired') on the cards
-- whose month has ended, and the expiring-soon list reads the current cards
-- by expiry. This index serves both; state needs no new column.
CREATE INDEX cards_expiry ON cards (expiry, id) WHERE state IN ('issued', 'active', 'blocked');

-- +goose Down
DROP INDEX cards_expiry;

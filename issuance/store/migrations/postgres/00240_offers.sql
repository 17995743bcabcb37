-- +goose Up
-- Offers listed, changed and withdrawn by their organisation (issue 18):
-- whether an offer needs the holder's offline PIN at the merchant, its
-- validity (either end open when NULL), its withdrawal (kept for history:
-- a withdrawn offer is no longer offered) and its last change. Check-in
-- events name the offer they are about (0: none).
ALTER TABLE benefit_offers ADD COLUMN requires_pin BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE benefit_offers ADD COLUMN valid_from TIMESTAMPTZ;
ALTER TABLE benefit_offers ADD COLUMN valid_until TIMESTAMPTZ;
ALTER TABLE benefit_offers ADD COLUMN withdrawn_at TIMESTAMPTZ;
ALTER TABLE benefit_offers ADD COLUMN withdraw_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE benefit_offers ADD COLUMN updated_at TIMESTAMPTZ;
UPDATE benefit_offers SET updated_at = created_at;
CREATE INDEX benefit_offers_org_path ON benefit_offers (org_path);
ALTER TABLE checkin_events ADD COLUMN offer_id BIGINT NOT NULL DEFAULT 0;
CREATE INDEX checkin_events_offer ON checkin_events (offer_id) WHERE offer_id <> 0;

-- +goose Down
DROP INDEX checkin_events_offer;
ALTER TABLE checkin_events DROP COLUMN offer_id;
DROP INDEX benefit_offers_org_path;
ALTER TABLE benefit_offers DROP COLUMN updated_at;
ALTER TABLE benefit_offers DROP COLUMN withdraw_reason;
ALTER TABLE benefit_offers DROP COLUMN withdrawn_at;
ALTER TABLE benefit_offers DROP COLUMN valid_until;
ALTER TABLE benefit_offers DROP COLUMN valid_from;
ALTER TABLE benefit_offers DROP COLUMN requires_pin;

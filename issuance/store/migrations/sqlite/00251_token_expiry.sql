-- +goose Up
-- A token may expire (issue 19: tokens through the API with an expiry):
-- NULL never; a token past expires_at authenticates no more, as if revoked.
ALTER TABLE api_tokens ADD COLUMN expires_at DATETIME;

-- +goose Down
ALTER TABLE api_tokens DROP COLUMN expires_at;

-- +goose Up
-- API tokens; only the SHA-256 hash of the plaintext is stored.
CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL DEFAULT '',
    role       TEXT NOT NULL,
    org_id     BIGINT NOT NULL DEFAULT 0,
    bank_code  TEXT NOT NULL DEFAULT '',
    branch_id  BIGINT NOT NULL DEFAULT 0,
    scope_path TEXT NOT NULL DEFAULT '',
    hash       BLOB NOT NULL,
    hint       TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    revoked_at DATETIME
);
CREATE UNIQUE INDEX api_tokens_hash ON api_tokens (hash);

-- +goose Down
DROP TABLE api_tokens;

-- +goose Up
CREATE TABLE banks (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE products (
    code      TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    bank_code TEXT NOT NULL REFERENCES banks (code),
    bin       TEXT NOT NULL,
    aid       TEXT NOT NULL,
    kind      TEXT NOT NULL,
    org_id    BIGINT NOT NULL REFERENCES orgs (id),
    org_path  TEXT NOT NULL
);

CREATE TABLE branches (
    id            BIGSERIAL PRIMARY KEY,
    bank_code     TEXT NOT NULL REFERENCES banks (code),
    org_id        BIGINT NOT NULL REFERENCES orgs (id),
    org_path      TEXT NOT NULL,
    name          TEXT NOT NULL,
    contact_name  TEXT NOT NULL DEFAULT '',
    contact_phone BYTEA
);
CREATE UNIQUE INDEX branches_bank_org_name ON branches (bank_code, org_id, name);

-- +goose Down
DROP TABLE branches;
DROP TABLE products;
DROP TABLE banks;

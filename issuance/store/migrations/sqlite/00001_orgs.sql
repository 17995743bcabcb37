-- +goose Up
-- Organisation tree. path is the materialised path of ids ("/1/5/12/");
-- scoped queries filter with path LIKE prefix || '%'.
CREATE TABLE orgs (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    parent_id           BIGINT REFERENCES orgs (id),
    kind                TEXT NOT NULL,
    name                TEXT NOT NULL,
    region_code         TEXT NOT NULL DEFAULT '',
    path                TEXT NOT NULL DEFAULT '',
    resident_population BIGINT NOT NULL DEFAULT 0,
    population_year     INTEGER NOT NULL DEFAULT 0,
    league_members      BIGINT NOT NULL DEFAULT 0,
    responsible_name    TEXT NOT NULL DEFAULT '',
    responsible_phone   BLOB,
    liaison_name        TEXT NOT NULL DEFAULT '',
    liaison_phone       BLOB,
    created_at          DATETIME NOT NULL
);
CREATE UNIQUE INDEX orgs_parent_name ON orgs (COALESCE(parent_id, 0), name);
CREATE INDEX orgs_path ON orgs (path);
CREATE INDEX orgs_region_code ON orgs (region_code) WHERE region_code <> '';

-- +goose Down
DROP TABLE orgs;

// Package storetest gives tests a fresh, migrated issuance store: an
// isolated PostgreSQL database per test (peterldowns/pgtestdb, cloned from a
// template migrated once per migration hash) or a SQLite file in the test's
// temp dir, and Each to run one test on both.
//
// PostgreSQL needs VOLCARD_TEST_DATABASE_URL (an admin URL such as
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable). Without it
// PostgreSQL tests are skipped, except when CI=true, where they fail.
package storetest

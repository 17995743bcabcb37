// Package store is the storage adapter of issuance: it implements
// issuance.Store with GORM on PostgreSQL (gorm.io/driver/postgres) or on an
// embedded SQLite file (github.com/ncruces/go-sqlite3, pure Go), and carries
// the goose migrations for both dialects, embedded. It also implements the
// ports that bankgw/outbox declares for its rows (outbox.Rows,
// outbox.AdminRows, outbox.StatsSource) on the same database, so that a
// row is written in the transaction of the domain change that asks for it.
//
// Scoping is applied in the SQL: every scoped query filters on the
// materialised org path (path LIKE prefix%) and, for applications, the bank
// code. A transaction started by InTx travels in the context; repository
// methods and other adapters (DB) called with that context join it.
package store

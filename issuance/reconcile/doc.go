// Package reconcile is the daily reconciliation of volcard's cards with a
// partner bank's (issue 16): it compares the cards the bank says it holds
// for volcard on a business date (rows of the bank's settlement file, read
// by the caller) with volcard's applications and cards of that bank, and
// stores a report of the differences: a state that differs, a card or an
// application one side does not know, a PAN or product that does not
// match. Differences are reported, never acted on: no card or application
// changes here.
//
// Service runs it over the core issuance.Service (actors, the PAN vault)
// and its own storage port, Store, which issuance/store implements. No
// file format, HTTP or ISO 8583 types appear here.
package reconcile

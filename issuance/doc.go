// Package issuance is the core of the volcard domain: organisations,
// volunteers, banks, card products and branches, card applications and their
// state machine, audit events, cards and their lifecycle (block, unblock,
// replace in cards.go; expiry, renewal and closing in expiry.go, renewal.go
// and closing.go; the embedded bank's test helpers in testbank.go), API
// tokens, actors and the scoping rules that decide what an actor may see.
//
// Features live in their own packages over this core, each declaring the
// store port it needs: issuance/checkin (activities, taps, hours, stars and
// benefits), issuance/onsite (on-site sessions and rosters) and
// issuance/reports (targets, counters, organisation reports). The core
// exports the few operations they build on (Scope, VolunteerScope,
// ValidateVolunteer, SealVolunteer, BulkApply, RunHooks, Product, Branch,
// Seal/Open); the bank gateway's rows live in bankgw/outbox, the core only
// enqueues requests and records their outcomes.
//
// The Service is the entry point; every command takes ctx and the acting
// Actor first and runs in one storage transaction. Storage, clock and number
// generation are ports (see ports.go) implemented by adapters such as
// issuance/store. Personal data (ID numbers, phones) is encrypted by the
// Service with pii before it reaches storage.
//
// No HTTP, card or ISO 8583 types appear here (internal/archtest checks).
package issuance

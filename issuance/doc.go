// Package issuance is the volcard domain: organisations, volunteers, banks,
// card products and branches, card applications and their state machine,
// audit events, API tokens, actors and the scoping rules that decide what an
// actor may see.
//
// The Service is the entry point; every command takes ctx and the acting
// Actor first and runs in one storage transaction. Storage, clock and number
// generation are ports (see ports.go) implemented by adapters such as
// issuance/store. Personal data (ID numbers, phones) is encrypted by the
// Service with pii before it reaches storage.
//
// No HTTP, card or ISO 8583 types appear here.
package issuance

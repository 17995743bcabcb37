// Package banksim is a partner-bank host for tests and for "volcard serve"
// without a configured bank: it speaks docs/bank-interface.md over TCP
// (moov-io/iso8583-connection's server), keeps its own ledger of
// applications and cards (PANs from the product BIN, Luhn-valid), never
// issues a second card for one application number, applies status changes
// (activate, block, unblock, replace with a new PAN, renew by its
// Config.Renewal rule — the same PAN with a new expiry and PSN, or a new
// PAN — and close) and answers a repeat of
// a change from its record of the original without acting twice, declines
// applicants on a deny list or under 16, answers chip authorizations (0100:
// checks the ARQC with the card key derived from Config.MasterKeyAC by PAN
// and PSN, answers with an ARPC; auth.go), can push 0220 advices
// (activation, spending with field 48 SK for refunds and reversals), and injects
// faults that can
// be switched at run time (latency, dropped connection, no answer, garbage
// frame, late answer, duplicate answer).
package banksim

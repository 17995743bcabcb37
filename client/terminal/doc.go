// Package terminal is the check-in terminal: it waits for a card in a
// reader, asks the server for a challenge (or uses its own unpredictable
// number when the server cannot be reached), reads the card with emv in
// fast mode and runs DDA over that number (8 APDUs on a standard card),
// posts the tap, and shows the result (name, check-in time or hours, star
// level). Taps that cannot be sent go into a durable local queue (a SQLite
// file, pure Go) with persisted sequence numbers, and are sent in order
// when the server comes back; the server's idempotency by terminal and
// sequence number makes each count exactly once. Start checks the token and
// the activity before the first card and moves the numbering past numbers
// another terminal on the same token used; a tap or queued tap that still
// meets a used number recovers (Terminal.Start, docs/checkin.md).
//
// Merchant is the same terminal in benefits mode, at a caring merchant:
// the card is read and authenticated the same way, the server answers the
// holder's tier and offers, the holder's offline PIN is verified on the
// card when an offer requires it (the PIN goes from the PIN pad to the card
// only), and the terminal's own offer, when granted, is redeemed on the
// server. Benefit checks are online only.
//
// It talks to the server through package client and to cards through the
// cardio ports, so it runs the same on pcscd readers and on the in-process
// simulator.
package terminal

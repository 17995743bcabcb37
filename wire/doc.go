// Package wire holds the JSON bodies of the volcard HTTP API that both sides
// use: the server (package api) decodes requests into them and encodes
// answers from them, and the client side (package client and the client
// programs under client/) sends and reads the same types. It also names
// the problem types (the last segment of a problem's type URI) that a
// client may meet. A body is declared once, here; neither side keeps its
// own copy.
//
// wire holds types only: no HTTP, no validation, no domain rules. It
// imports nothing of volcard's but evidence, whose card evidence types it
// re-exports (the terminal sends them, the check-in domain and the card
// verifier read them).
package wire

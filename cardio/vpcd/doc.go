// Package vpcd is a vpcd client: it puts a software card into the real
// pcscd through the vsmartcard "vpcd" virtual reader driver, so that any
// PC/SC application (and cardio/pcsc) sees it as a card in the reader
// "Virtual PCD 00 00" (port 35963) or "Virtual PCD 00 01" (port 35964).
//
// The driver listens on TCP; the card side (this package) connects to it.
// Every message is a frame: a 2-byte big-endian length, then the payload.
// A 1-byte payload from the driver is a control message (0 power off,
// 1 power on, 2 reset, 4 send the ATR, answered with the ATR as a frame);
// any longer payload is a command APDU, answered with the response APDU.
// Closing the connection removes the card.
//
// The card itself is anything with the three methods of [Responder]
// (cardio/cardsim's Card has them). vpcd sets TCP_NODELAY and re-arms
// TCP_QUICKACK after every read: without it every APDU waits ~40 ms for a
// delayed ACK.
//
// The package owns the frame format ([ReadFrame], [WriteFrame]), [Serve]
// for long-running use (volcard card-sim) and [Slot] for tests that insert
// and remove the card at will.
package vpcd

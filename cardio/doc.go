// Package cardio is volcard's smart-card I/O layer.
//
// It owns the Card and Readers ports (ports.go) and everything that does not
// depend on a particular reader stack: command and response APDUs (short and
// extended length), status words as typed errors, the Transmit helper that
// handles 61xx (GET RESPONSE) and 6Cxx (wrong Le) transparently, a thin BER-TLV
// layer over github.com/moov-io/bertlv, data object lists (PDOL, CDOL, DDOL),
// application file locators (AFL) and an APDU Transcript that masks card data
// when printed.
//
// Implementations of the ports live in sub-packages: cardio/pcsc (PC/SC via
// ebfe/scard) and cardio/cardsim (a software PBOC card). The PBOC/EMV read
// flow lives in cardio/emv.
package cardio

// Package pcsc is the PC/SC adapter: it implements cardio.Readers and
// cardio.Card over pcsc-lite. It is the only package of volcard that uses
// cgo or imports github.com/ebfe/scard, which does the contexts, the
// reader list and the waits; a connected card talks to pcsc-lite directly
// (conn_pcsclite.go) so that each connection reuses one answer buffer
// instead of scard.Card.Transmit's fresh 64 KiB per APDU.
//
// What it adds to the bare binding: every call takes a context and returns
// when it ends (waits poll GetStatusChange with a short timeout and are
// cancelled with SCardCancel; a Transmit the card does not answer is
// abandoned at the deadline); PC/SC return codes become comparable *Error
// values that wrap the cardio sentinels (cardio.ErrCardRemoved,
// cardio.ErrNoCard, cardio.ErrNoReader, cardio.ErrServiceUnavailable), so
// callers never look at PC/SC codes; and readers that come and go are
// followed through the "\\?PnP?\Notification" pseudo reader.
//
// A *Readers holds one PC/SC context for listing and waiting; every
// connected *Card gets its own, so a long wait on the readers never blocks
// a transmit on a card.
package pcsc

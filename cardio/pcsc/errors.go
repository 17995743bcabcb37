package pcsc

import (
	"errors"
	"fmt"

	"github.com/ebfe/scard"

	"github.com/volcard/volcard/cardio"
)

// Errors of this package, besides the cardio sentinels.
var (
	// ErrCardInUse means another application holds the card exclusively
	// (or we asked for exclusive access while others hold it).
	ErrCardInUse = errors.New("pcsc: card in use by another application")
	// ErrClosed means the Readers or Card was closed.
	ErrClosed = errors.New("pcsc: closed")
	// ErrCardBroken means an earlier Transmit was abandoned when its
	// context ended and the card has not answered since; disconnect and
	// connect again.
	ErrCardBroken = errors.New("pcsc: card connection abandoned after a timeout")
)

// Error is a failed PC/SC call. Op is the call ("connect", "transmit", …),
// Reader the reader name, Code the PC/SC return code (SCARD_E_*, shown in
// hex). It unwraps to the matching cardio sentinel (if any) and to Code, so
// errors.Is(err, cardio.ErrCardRemoved) works. Error values are comparable.
type Error struct {
	Op     string
	Reader string
	Code   scard.Error
	kind   error
}

// Error describes the failure without card data.
func (e *Error) Error() string {
	if e.Reader != "" {
		return fmt.Sprintf("pcsc: %s %q: %s (0x%08X)", e.Op, e.Reader, e.Code.Error(), uint32(e.Code))
	}
	return fmt.Sprintf("pcsc: %s: %s (0x%08X)", e.Op, e.Code.Error(), uint32(e.Code))
}

// Unwrap returns the cardio sentinel this code means (when there is one)
// and the raw code.
func (e *Error) Unwrap() []error {
	if e.kind != nil {
		return []error{e.kind, e.Code}
	}
	return []error{e.Code}
}

// kindOf maps a PC/SC code to a cardio sentinel, or nil.
func kindOf(op string, code scard.Error) error {
	switch code {
	case scard.ErrNoService, scard.ErrServiceStopped, scard.ErrNoReadersAvailable:
		if code == scard.ErrNoReadersAvailable {
			return cardio.ErrNoReader
		}
		return cardio.ErrServiceUnavailable
	case scard.ErrUnknownReader, scard.ErrReaderUnavailable:
		return cardio.ErrNoReader
	case scard.ErrSharingViolation:
		return ErrCardInUse
	case scard.ErrNotTransacted, scard.ErrCommError:
		// A transport failure in the middle of an exchange: with vpcd
		// (and many USB readers) this is how a card pulled mid-APDU shows.
		if op == "transmit" {
			return cardio.ErrCardRemoved
		}
		return nil
	case scard.ErrRemovedCard, scard.ErrResetCard, scard.ErrNoSmartcard, scard.ErrUnpoweredCard:
		if op == "connect" {
			return cardio.ErrNoCard
		}
		return cardio.ErrCardRemoved
	case scard.ErrUnresponsiveCard, scard.ErrUnsupportedCard, scard.ErrInvalidAtr:
		if op == "connect" {
			return cardio.ErrNoCard
		}
		return nil
	case scard.ErrInvalidHandle:
		return ErrClosed
	}
	return nil
}

// wrap turns a scard error into *Error; other errors pass through.
func wrap(op, reader string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, errNoStatusWord) {
		return fmt.Errorf("pcsc: %s %q: %w: %w", op, reader, err, cardio.ErrCardRemoved)
	}
	var code scard.Error
	if !errors.As(err, &code) {
		return fmt.Errorf("pcsc: %s %q: %w", op, reader, err)
	}
	return &Error{Op: op, Reader: reader, Code: code, kind: kindOf(op, code)}
}

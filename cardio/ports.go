package cardio

import (
	"context"
	"errors"
)

// Card is a card connected in a reader. Transmit sends one raw command APDU
// and returns the raw response APDU, status word included. Implementations:
// cardio/pcsc (a real PC/SC reader) and cardio/cardsim (in process).
type Card interface {
	Transmit(ctx context.Context, command []byte) ([]byte, error)
	ATR() []byte
	Disconnect(ctx context.Context) error
}

// ShareMode says whether other applications may use the card while we hold it.
type ShareMode int

// Share modes.
const (
	ShareExclusive ShareMode = iota
	ShareShared
)

// Readers is a set of card readers (a PC/SC context, or the in-process
// simulator's reader named "sim").
type Readers interface {
	// List returns the names of the readers present now.
	List(ctx context.Context) ([]string, error)
	// WaitForCard blocks until a card is present in reader or ctx ends.
	WaitForCard(ctx context.Context, reader string) error
	// WaitForRemoval blocks until reader is empty or ctx ends.
	WaitForRemoval(ctx context.Context, reader string) error
	// Connect opens a connection to the card in reader.
	Connect(ctx context.Context, reader string, mode ShareMode) (Card, error)
}

// Errors shared by every Readers/Card implementation.
var (
	// ErrCardRemoved means the card left the reader (or was reset) while in use.
	ErrCardRemoved = errors.New("cardio: card removed")
	// ErrNoCard means no card is present in the reader.
	ErrNoCard = errors.New("cardio: no card in reader")
	// ErrNoReader means the named reader does not exist (or no reader at all).
	ErrNoReader = errors.New("cardio: reader not found")
	// ErrServiceUnavailable means the smart-card service (pcscd) is not running.
	ErrServiceUnavailable = errors.New("cardio: smart-card service unavailable")
)

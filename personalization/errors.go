package personalization

import (
	"errors"
	"fmt"
)

// Sentinel errors.
var (
	// ErrCardRefused means the card answered a personalization command with
	// an error status; the concrete error is a *CardError.
	ErrCardRefused = errors.New("personalization: card refused a command")
	// ErrCardCheck means the personalized card's read-back or DDA does not
	// match what was prepared.
	ErrCardCheck = errors.New("personalization: card check failed")
	// ErrNotBlank means the card is already personalized, and not by an
	// earlier session of this application.
	ErrNotBlank = errors.New("personalization: card is not blank")
	// ErrResponses means the responses posted do not fit the batch (too
	// many, malformed).
	ErrResponses = errors.New("personalization: responses do not fit the batch")
)

// CardError names the command a card refused and its status word.
type CardError struct {
	// Index is the command's position in its batch, Command its name.
	Index   int
	Command string
	SW      uint16
}

// Error shows the command and status word (no data).
func (e *CardError) Error() string {
	return fmt.Sprintf("personalization: %s (command %d) answered %04X", e.Command, e.Index, e.SW)
}

// Unwrap returns ErrCardRefused.
func (e *CardError) Unwrap() error { return ErrCardRefused }

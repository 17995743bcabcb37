package personalize

import (
	"errors"
	"fmt"

	"github.com/volcard/volcard/cardio"
)

// ErrCardRemoved is cardio.ErrCardRemoved: the card left the reader (or the
// reader lost it) during the session. The application is not issued; put a
// blank card back in and run again.
var ErrCardRemoved = cardio.ErrCardRemoved

// ErrQuit means the operator chose to stop a batch.
var ErrQuit = errors.New("personalize: stopped by the operator")

// CardLostError reports a card lost after some APDUs of a session.
type CardLostError struct {
	// APDUs is how many commands the card answered before it was lost.
	APDUs int
	Err   error
}

// Error implements error.
func (e *CardLostError) Error() string {
	return fmt.Sprintf("card removed after %d APDUs — put a blank card back in and press Enter / rerun: %v", e.APDUs, e.Err)
}

// Unwrap returns ErrCardRemoved and the transport error.
func (e *CardLostError) Unwrap() []error { return []error{ErrCardRemoved, e.Err} }

package vpcd

import "errors"

// Errors returned by this package.
var (
	// ErrEmptyFrame means the driver sent a frame with a zero length.
	ErrEmptyFrame = errors.New("vpcd: empty frame")
	// ErrFrameTooLong means a payload to send does not fit a 2-byte length.
	ErrFrameTooLong = errors.New("vpcd: frame longer than 65535 bytes")
	// ErrSlotBusy means Insert was called while the card is already inserted.
	ErrSlotBusy = errors.New("vpcd: card already inserted")
)

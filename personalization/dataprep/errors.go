package dataprep

import (
	"errors"
	"fmt"
)

// Sentinel errors.
var (
	// ErrInvalidInput means the cardholder or bank data cannot go on a card;
	// the concrete error is an *InputError naming the field.
	ErrInvalidInput = errors.New("dataprep: invalid input")
	// ErrKeyNotFound means the key store has no key for the bank, product,
	// key ID or key version asked for.
	ErrKeyNotFound = errors.New("dataprep: key not found")
	// ErrIssuerMismatch means the issuer certificate does not cover the PAN
	// (its issuer identifier is not a prefix of the PAN).
	ErrIssuerMismatch = errors.New("dataprep: issuer certificate does not cover the PAN")
	// ErrReadBack means the personalized card's answers do not match what
	// was prepared (wrong PAN, name, ID, failed DDA...).
	ErrReadBack = errors.New("dataprep: read-back mismatch")
)

// InputError names the input field that is invalid and why, without its value.
type InputError struct {
	Field  string
	Reason string
}

// Error describes the field and reason, never the value.
func (e *InputError) Error() string {
	return fmt.Sprintf("dataprep: %s: %s", e.Field, e.Reason)
}

// Unwrap returns ErrInvalidInput.
func (e *InputError) Unwrap() error { return ErrInvalidInput }

func invalid(field, reason string) error { return &InputError{Field: field, Reason: reason} }

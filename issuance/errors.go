package issuance

import (
	"errors"
	"fmt"
)

// Sentinel errors. Match them with errors.Is.
var (
	// ErrNotFound means the object does not exist or lies outside the
	// actor's scope; the two are deliberately indistinguishable.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the command clashes with existing data: a duplicate
	// volunteer (same ID number), a second live application for the same
	// volunteer and product, or a concurrent change.
	ErrConflict = errors.New("conflict")
	// ErrIllegalTransition means an application cannot move from its
	// current status to the requested one. The error is a *TransitionError.
	ErrIllegalTransition = errors.New("illegal status transition")
	// ErrInvalid means input failed validation. The error is a *ValidationError.
	ErrInvalid = errors.New("invalid input")
	// ErrForbidden means the actor's role may not run this command at all.
	ErrForbidden = errors.New("forbidden")
	// ErrUnauthenticated means a token is unknown, malformed or revoked.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrBankCardRefused means the card a bank answered with does not fit
	// the application's product (a PAN outside the product's BIN): nothing
	// of it is stored and the request needs an operator.
	ErrBankCardRefused = errors.New("bank card refused")
)

// TransitionError reports a refused status change.
type TransitionError struct {
	From Status
	To   Status
}

// Error implements error.
func (e *TransitionError) Error() string {
	return fmt.Sprintf("illegal status transition %s → %s", e.From, e.To)
}

// Unwrap makes errors.Is(err, ErrIllegalTransition) true.
func (e *TransitionError) Unwrap() error { return ErrIllegalTransition }

// ValidationError reports one invalid input field. Reason is safe to show to
// the caller: it never contains the submitted value.
type ValidationError struct {
	Field  string // input field name, e.g. "id_number"
	Reason string // e.g. "bad check character"
}

// Error implements error.
func (e *ValidationError) Error() string {
	return fmt.Sprintf("invalid %s: %s", e.Field, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

func Invalid(field, reason string) error { return &ValidationError{Field: field, Reason: reason} }

// ConflictError reports which uniqueness rule a command broke.
type ConflictError struct {
	What string // "id_number", "live_application", "application_number", "org_name", ...
}

// Error implements error.
func (e *ConflictError) Error() string { return "conflict: duplicate " + e.What }

// Unwrap makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Unwrap() error { return ErrConflict }

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

package api

import (
	"errors"
	"fmt"
	"time"

	"github.com/volcard/volcard/wire"
)

// Error is an API error on its way to the central error handler. Detail and
// Fields are shown to the client; Internal is logged and never serialised.
type Error struct {
	Kind       Kind
	Detail     string
	Fields     []wire.FieldError
	RetryAfter time.Duration // sets Retry-After when positive
	Internal   error
}

// Error implements error. It carries no personal data.
func (e *Error) Error() string {
	if e.Internal != nil {
		return fmt.Sprintf("%s: %s: %v", e.Kind, e.Detail, e.Internal)
	}
	return fmt.Sprintf("%s: %s", e.Kind, e.Detail)
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Internal }

// newError returns an *Error of kind k with a formatted detail.
func newError(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Detail: fmt.Sprintf(format, args...)}
}

// invalidField returns a validation error for one field.
func invalidField(field, message string) *Error {
	return &Error{Kind: KindValidation, Detail: field + ": " + message,
		Fields: []wire.FieldError{{Field: field, Message: message}}}
}

// ErrNilService is returned by New when Options has no Service.
var ErrNilService = errors.New("api: Options.Service is nil")

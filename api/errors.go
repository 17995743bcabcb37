package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/volcard/volcard/wire"
)

// Kind is a stable class of API error. Each kind has one problem type URI
// (wire.ProblemBase + the kind), one title and one HTTP status.
type Kind string

// Problem kinds.
const (
	KindValidation          Kind = wire.ProblemValidation
	KindMalformedJSON       Kind = wire.ProblemMalformedJSON
	KindPayloadTooLarge     Kind = wire.ProblemPayloadTooLarge
	KindUnsupportedMedia    Kind = wire.ProblemUnsupportedMedia
	KindUnauthorized        Kind = wire.ProblemUnauthorized
	KindForbidden           Kind = wire.ProblemForbidden
	KindNotFound            Kind = wire.ProblemNotFound
	KindMethodNotAllowed    Kind = wire.ProblemMethodNotAllowed
	KindConflict            Kind = wire.ProblemConflict
	KindIllegalTransition   Kind = wire.ProblemIllegalTransition
	KindIdempotencyMismatch Kind = wire.ProblemIdempotencyMismatch
	KindIdempotencyInFlight Kind = wire.ProblemIdempotencyInFlight
	KindRateLimited         Kind = wire.ProblemRateLimited
	KindUnavailable         Kind = wire.ProblemUnavailable
	KindInternal            Kind = wire.ProblemInternal
)

type kindInfo struct {
	status int
	title  string
}

var kinds = map[Kind]kindInfo{
	KindValidation:          {http.StatusBadRequest, "Invalid request"},
	KindMalformedJSON:       {http.StatusBadRequest, "Malformed JSON body"},
	KindPayloadTooLarge:     {http.StatusRequestEntityTooLarge, "Request body too large"},
	KindUnsupportedMedia:    {http.StatusUnsupportedMediaType, "Unsupported media type"},
	KindUnauthorized:        {http.StatusUnauthorized, "Authentication required"},
	KindForbidden:           {http.StatusForbidden, "Forbidden"},
	KindNotFound:            {http.StatusNotFound, "Not found"},
	KindMethodNotAllowed:    {http.StatusMethodNotAllowed, "Method not allowed"},
	KindConflict:            {http.StatusConflict, "Conflict"},
	KindIllegalTransition:   {http.StatusConflict, "Illegal status transition"},
	KindIdempotencyMismatch: {http.StatusUnprocessableEntity, "Idempotency-Key reused with a different request"},
	KindIdempotencyInFlight: {http.StatusConflict, "A request with this Idempotency-Key is in progress"},
	KindRateLimited:         {http.StatusTooManyRequests, "Too many requests"},
	KindUnavailable:         {http.StatusServiceUnavailable, "Service unavailable"},
	KindInternal:            {http.StatusInternalServerError, "Internal server error"},
}

// TypeURI returns the problem type URI of k.
func (k Kind) TypeURI() string { return wire.ProblemBase + string(k) }

// Status returns the HTTP status of k.
func (k Kind) Status() int {
	if i, ok := kinds[k]; ok {
		return i.status
	}
	return http.StatusInternalServerError
}

// Title returns the short human-readable summary of k.
func (k Kind) Title() string {
	if i, ok := kinds[k]; ok {
		return i.title
	}
	return kinds[KindInternal].title
}

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

package bankgw

import (
	"errors"
	"fmt"
)

// Errors returned by this package.
var (
	// ErrTimeout means no response arrived within the request timeout; the
	// bank may or may not have acted: repeat or reverse.
	ErrTimeout = errors.New("bankgw: no response from bank (timeout)")
	// ErrConnectionLost means the connection closed while the request was
	// outstanding; like ErrTimeout, the outcome is unknown.
	ErrConnectionLost = errors.New("bankgw: connection lost with request outstanding")
	// ErrUnavailable means no signed-on connection was available; the
	// request was not sent.
	ErrUnavailable = errors.New("bankgw: no bank connection available")
	// ErrClosed means the client was closed.
	ErrClosed = errors.New("bankgw: client closed")
	// ErrBadFrame means a frame could not be read as a message of Spec.
	ErrBadFrame = errors.New("bankgw: unreadable frame")
	// ErrBadMAC means field 128 was missing or did not verify.
	ErrBadMAC = errors.New("bankgw: MAC missing or wrong")
	// ErrUnknownMTI means an MTI is not part of the specification.
	ErrUnknownMTI = errors.New("bankgw: unknown MTI")
	// ErrMissingSTAN means a message has no STAN (field 11).
	ErrMissingSTAN = errors.New("bankgw: STAN missing")
	// ErrFormat means a field or field 48 subfield is malformed or missing.
	ErrFormat = errors.New("bankgw: format error")
	// ErrUnexpectedResponse means a response does not fit its request
	// (wrong MTI or echoed fields).
	ErrUnexpectedResponse = errors.New("bankgw: unexpected response")
	// ErrSTANExhausted means all 999999 STANs of the day are used.
	ErrSTANExhausted = errors.New("bankgw: STANs of the day exhausted")
	// ErrInvalidConfig means a Config or argument failed validation.
	ErrInvalidConfig = errors.New("bankgw: invalid configuration")
)

// DeclinedError is a response with a code other than 00.
type DeclinedError struct {
	// Code is field 39 of the response.
	Code string
	// Reason is the meaning of Code from the response code table, or the
	// bank's decline text (field 48 RT) when it sent one.
	Reason string
}

// Error implements error.
func (e *DeclinedError) Error() string {
	return fmt.Sprintf("bankgw: declined by bank: %s (%s)", e.Code, e.Reason)
}

// Temporary reports whether the code means "try again later" (91, 96).
func (e *DeclinedError) Temporary() bool {
	return e.Code == CodeIssuerUnavailable || e.Code == CodeSystemMalfunction
}

// FrameError describes a frame that could not be read. It holds no field
// values, only the length, the MTI when it was digits, and a reason.
type FrameError struct {
	Length int
	MTI    string
	Reason string
	// Err is ErrBadFrame or ErrBadMAC.
	Err error
}

// Error implements error.
func (e *FrameError) Error() string {
	return fmt.Sprintf("bankgw: unreadable frame (%d bytes, mti %s): %s", e.Length, e.MTI, e.Reason)
}

// Unwrap returns ErrBadFrame or ErrBadMAC (never the library's
// UnpackError, which holds the raw frame and would make the connection
// skip the frame instead of resetting).
func (e *FrameError) Unwrap() error {
	if e.Err == nil {
		return ErrBadFrame
	}
	return e.Err
}

// ExchangeError wraps a failed request with the trace it was sent under,
// so that the caller can repeat it or reverse it.
type ExchangeError struct {
	// Op is the operation ("apply", "inquire", ...).
	Op string
	// Trace identifies the request sent (MTI, STAN, field 7, RRN).
	Trace Trace
	// Err is ErrTimeout, ErrConnectionLost, ErrUnavailable, a
	// *DeclinedError, or another error.
	Err error
}

// Error implements error.
func (e *ExchangeError) Error() string {
	return fmt.Sprintf("bankgw: %s %s stan=%s: %v", e.Op, e.Trace.MTI, e.Trace.STAN, e.Err)
}

// Unwrap returns the cause.
func (e *ExchangeError) Unwrap() error { return e.Err }

package cardio

import (
	"errors"
	"fmt"
)

// Errors about malformed APDUs and data objects.
var (
	// ErrMalformedAPDU means a command or response APDU could not be encoded or parsed.
	ErrMalformedAPDU = errors.New("cardio: malformed APDU")
	// ErrMalformedTLV means BER-TLV data could not be parsed or built.
	ErrMalformedTLV = errors.New("cardio: malformed BER-TLV")
	// ErrMalformedDOL means a data object list (PDOL, CDOL, DDOL) is malformed.
	ErrMalformedDOL = errors.New("cardio: malformed data object list")
	// ErrMalformedAFL means an application file locator is malformed.
	ErrMalformedAFL = errors.New("cardio: malformed AFL")
	// ErrTooManyResponses means a card kept answering 61xx/6Cxx beyond the
	// limit Transmit allows.
	ErrTooManyResponses = errors.New("cardio: too many chained responses")
)

// Status-word sentinels. Compare with errors.Is: any *StatusError with the
// same SW matches.
var (
	// ErrWrongLength is 6700: wrong length (Lc or Le).
	ErrWrongLength = &StatusError{SW: 0x6700}
	// ErrSecurityNotSatisfied is 6982: security status not satisfied.
	ErrSecurityNotSatisfied = &StatusError{SW: 0x6982}
	// ErrBlocked is 6983: authentication method (PIN) blocked.
	ErrBlocked = &StatusError{SW: 0x6983}
	// ErrDataInvalid is 6984: referenced data invalidated.
	ErrDataInvalid = &StatusError{SW: 0x6984}
	// ErrConditionsNotSatisfied is 6985: conditions of use not satisfied.
	ErrConditionsNotSatisfied = &StatusError{SW: 0x6985}
	// ErrWrongData is 6A80: incorrect data in the command.
	ErrWrongData = &StatusError{SW: 0x6A80}
	// ErrFunctionNotSupported is 6A81: function not supported.
	ErrFunctionNotSupported = &StatusError{SW: 0x6A81}
	// ErrFileNotFound is 6A82: file or application not found.
	ErrFileNotFound = &StatusError{SW: 0x6A82}
	// ErrRecordNotFound is 6A83: record not found.
	ErrRecordNotFound = &StatusError{SW: 0x6A83}
	// ErrIncorrectP1P2 is 6A86: incorrect parameters P1-P2.
	ErrIncorrectP1P2 = &StatusError{SW: 0x6A86}
	// ErrDataNotFound is 6A88: referenced data (GET DATA object) not found.
	ErrDataNotFound = &StatusError{SW: 0x6A88}
	// ErrWrongP1P2 is 6B00: wrong parameters P1-P2.
	ErrWrongP1P2 = &StatusError{SW: 0x6B00}
	// ErrINSNotSupported is 6D00: instruction code not supported.
	ErrINSNotSupported = &StatusError{SW: 0x6D00}
	// ErrCLANotSupported is 6E00: class not supported.
	ErrCLANotSupported = &StatusError{SW: 0x6E00}
	// ErrUnknown is 6F00: no precise diagnosis.
	ErrUnknown = &StatusError{SW: 0x6F00}
	// ErrSelectedFileInvalidated is 6283: selected file (application) blocked.
	ErrSelectedFileInvalidated = &StatusError{SW: 0x6283}
)

// ErrWrongPIN matches every 63Cx status word (PIN verification failed, x
// tries left); the concrete error is a *PINError.
var ErrWrongPIN = errors.New("cardio: wrong PIN")

// StatusError is a status word other than 9000 returned by the card.
type StatusError struct {
	// SW is SW1<<8 | SW2.
	SW uint16
}

// Error describes the status word; it never contains card data.
func (e *StatusError) Error() string {
	if d := describeSW(e.SW); d != "" {
		return fmt.Sprintf("cardio: status %04X (%s)", e.SW, d)
	}
	return fmt.Sprintf("cardio: status %04X", e.SW)
}

// Is reports whether target is a *StatusError with the same SW, or
// ErrWrongPIN for a 63Cx status.
func (e *StatusError) Is(target error) bool {
	if t, ok := target.(*StatusError); ok {
		return t.SW == e.SW
	}
	return target == ErrWrongPIN && e.SW&0xFFF0 == 0x63C0
}

// PINError is a failed PIN verification (63Cx): TriesLeft attempts remain.
// It matches ErrWrongPIN and unwraps to the *StatusError.
type PINError struct {
	// TriesLeft is the number of PIN tries remaining (x in 63Cx).
	TriesLeft int
}

// Error describes the failure without the PIN.
func (e *PINError) Error() string {
	return fmt.Sprintf("cardio: wrong PIN, %d tries left", e.TriesLeft)
}

// Is matches ErrWrongPIN.
func (e *PINError) Is(target error) bool { return target == ErrWrongPIN }

// Unwrap returns the underlying 63Cx status error.
func (e *PINError) Unwrap() error { return &StatusError{SW: 0x63C0 | uint16(e.TriesLeft&0x0F)} }

// SWError returns nil for 9000 and otherwise the error for a status word:
// a *PINError for 63Cx, a *StatusError for everything else.
func SWError(sw uint16) error {
	switch {
	case sw == SWOK:
		return nil
	case sw&0xFFF0 == 0x63C0:
		return &PINError{TriesLeft: int(sw & 0x0F)}
	default:
		return &StatusError{SW: sw}
	}
}

func describeSW(sw uint16) string {
	switch sw {
	case 0x6283:
		return "selected file invalidated"
	case 0x6700:
		return "wrong length"
	case 0x6982:
		return "security status not satisfied"
	case 0x6983:
		return "authentication method blocked"
	case 0x6984:
		return "referenced data invalidated"
	case 0x6985:
		return "conditions of use not satisfied"
	case 0x6A80:
		return "incorrect data"
	case 0x6A81:
		return "function not supported"
	case 0x6A82:
		return "file not found"
	case 0x6A83:
		return "record not found"
	case 0x6A86:
		return "incorrect P1-P2"
	case 0x6A88:
		return "referenced data not found"
	case 0x6B00:
		return "wrong P1-P2"
	case 0x6D00:
		return "instruction not supported"
	case 0x6E00:
		return "class not supported"
	case 0x6F00:
		return "no precise diagnosis"
	}
	switch sw >> 8 {
	case 0x61:
		return "more data available"
	case 0x6C:
		return "wrong Le"
	case 0x63:
		if sw&0xF0 == 0xC0 {
			return fmt.Sprintf("verification failed, %d tries left", sw&0x0F)
		}
	}
	return ""
}

package emv

import (
	"errors"
	"fmt"
)

// Errors of the read flow.
var (
	// ErrNotFinancialCard means the card has no PBOC/EMV payment application:
	// no PPSE, no PSE and none of the known AIDs could be selected.
	ErrNotFinancialCard = errors.New("emv: not a financial card")
	// ErrMissingData means a mandatory data object is absent.
	ErrMissingData = errors.New("emv: mandatory data missing")
	// ErrMalformedData means a data object has the wrong format.
	ErrMalformedData = errors.New("emv: malformed card data")
	// ErrTrack2Mismatch means the track-2 equivalent data (57) disagrees with
	// the PAN (5A) or the expiry date (5F24); see Track2Error.
	ErrTrack2Mismatch = errors.New("emv: track 2 does not match card data")
	// ErrInvalidPIN means the PIN given to VerifyPIN is not 4 to 12 digits.
	ErrInvalidPIN = errors.New("emv: PIN must be 4 to 12 digits")
)

// Offline data authentication failure reasons, carried by *ODAError.
var (
	// ErrCAKeyUnknown means the CA public key index (8F) under the RID is not
	// in the CAKeys list.
	ErrCAKeyUnknown = errors.New("emv: CA public key unknown")
	// ErrIssuerCertificate means the issuer public key certificate (90) did not verify.
	ErrIssuerCertificate = errors.New("emv: issuer public key certificate invalid")
	// ErrICCCertificate means the ICC public key certificate (9F46) did not verify.
	ErrICCCertificate = errors.New("emv: ICC public key certificate invalid")
	// ErrSignature means signed static (93) or dynamic (9F4B) application data did not verify.
	ErrSignature = errors.New("emv: signed application data invalid")
	// ErrODAData means data needed for offline authentication is missing or malformed.
	ErrODAData = errors.New("emv: offline authentication data missing")
	// ErrODANotSupported means the card supports neither SDA nor DDA (AIP).
	ErrODANotSupported = errors.New("emv: card supports no offline data authentication")
)

// Detailed causes inside an *ODAError.
var (
	// ErrCertificateExpired means a certificate's expiry month has passed.
	ErrCertificateExpired = errors.New("emv: certificate expired")
	// ErrCertificateFormat means a recovered block has a wrong header,
	// trailer, format byte, algorithm or length.
	ErrCertificateFormat = errors.New("emv: certificate format wrong")
	// ErrHashMismatch means the SHA-1 hash in a recovered block does not match.
	ErrHashMismatch = errors.New("emv: hash mismatch")
	// ErrPANMismatch means the PAN or issuer identifier in a certificate does
	// not match the card's PAN.
	ErrPANMismatch = errors.New("emv: certificate PAN mismatch")
)

// ODAMethod is an offline data authentication method.
type ODAMethod string

// ODA methods.
const (
	ODANone ODAMethod = "none"
	ODASDA  ODAMethod = "SDA"
	ODADDA  ODAMethod = "DDA"
)

// ODAError is a failed offline data authentication. Reason is one of
// ErrCAKeyUnknown, ErrIssuerCertificate, ErrICCCertificate, ErrSignature,
// ErrODAData, ErrODANotSupported; Cause, when set, is the detail
// (ErrCertificateExpired, ErrHashMismatch, a card I/O error, ...). Both are
// reachable with errors.Is.
type ODAError struct {
	Method ODAMethod
	Reason error
	Cause  error
}

// Error describes the failure without card data.
func (e *ODAError) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("emv: %s failed: %v: %v", e.Method, e.Reason, e.Cause)
	}
	return fmt.Sprintf("emv: %s failed: %v", e.Method, e.Reason)
}

// Unwrap returns Reason and Cause.
func (e *ODAError) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Reason}
	}
	return []error{e.Reason, e.Cause}
}

// Track2Error is a track-2 equivalent data mismatch: Field is "PAN" or
// "expiry". It matches ErrTrack2Mismatch and never contains card data.
type Track2Error struct {
	Field string
}

// Error names the field that disagrees.
func (e *Track2Error) Error() string {
	return fmt.Sprintf("emv: track 2 %s does not match card data", e.Field)
}

// Unwrap returns ErrTrack2Mismatch.
func (e *Track2Error) Unwrap() error { return ErrTrack2Mismatch }

// Package evidence is the shared vocabulary of card-presence proof: what a
// terminal sends to show that a card was in its reader (the records it read,
// the certificates and the card's signature over the server's challenge)
// and what a verifier tells of it. The terminal client sends Card as JSON,
// the API receives the same type, the check-in domain hands it to its
// Verifier port, and cardio/emv implements that port. It imports only the
// standard library and pii (for the PAN mask), so the domain can use it
// without importing card code and card code without importing the domain.
package evidence

import (
	"fmt"

	"github.com/volcard/volcard/pii"
)

// Record is one card record read over the AFL: SFI, record number and the
// raw record (70 template included).
type Record struct {
	SFI    byte `json:"sfi"`
	Number byte `json:"number"`
	Raw    Hex  `json:"raw"`
}

// Certificates are the offline-authentication data objects a terminal read
// (EMV Book 2). Any left empty is taken from the records.
type Certificates struct {
	CAIndex         Hex `json:"ca_index,omitempty"`         // 8F, one byte
	IssuerCert      Hex `json:"issuer_cert,omitempty"`      // 90
	IssuerRemainder Hex `json:"issuer_remainder,omitempty"` // 92
	IssuerExponent  Hex `json:"issuer_exponent,omitempty"`  // 9F32
	ICCCert         Hex `json:"icc_cert,omitempty"`         // 9F46
	ICCRemainder    Hex `json:"icc_remainder,omitempty"`    // 9F48
	ICCExponent     Hex `json:"icc_exponent,omitempty"`     // 9F47
}

// Card is what a terminal sends to prove a card was present: the card's
// records (as read over the AFL), the certificates, the DDOL data it sent in
// INTERNAL AUTHENTICATE (with the server's challenge as the unpredictable
// number 9F37) and the signed dynamic application data (9F4B) the card
// returned. PAN is the clear PAN as read: it travels over TLS only so that
// the server can check it against the signed records and the ICC
// certificate and turn it into its token; the server never stores it.
// Everything else the server needs (ID number, name) it takes from the
// records, which the ICC certificate covers. String masks the PAN.
type Card struct {
	AID          Hex           `json:"aid"`
	PAN          string        `json:"pan"`
	AIP          Hex           `json:"aip"`
	AFL          Hex           `json:"afl"`
	Records      []Record      `json:"records"`
	Certificates *Certificates `json:"certificates,omitempty"`
	DDOLData     Hex           `json:"ddol_data"`
	SDAD         Hex           `json:"sdad"`
}

// String describes the evidence without card data.
func (c Card) String() string {
	return fmt.Sprintf("card evidence (AID %X, PAN %s, %d records)", []byte(c.AID), pii.MaskPAN(c.PAN), len(c.Records))
}

// Identity is what verified evidence tells about the card. It holds the
// clear PAN and ID number: keep it in memory only.
type Identity struct {
	PAN      string // from the signed records (5A), checked against both certificates
	IDNumber string // 9F61 as on the card (trimmed), empty when absent
	Name     string // 5F20 decoded, empty when absent
	// SignatureHash is SHA-256 of the SDAD: each signature is accepted once.
	SignatureHash []byte
	// UN is the unpredictable number (9F37) the card signed.
	UN []byte
}

// FieldError is malformed evidence (a verifier's other errors mean the
// card is not genuine): Field names the JSON field ("records",
// "ddol_data", ...), Reason says what is wrong. It carries no card data.
type FieldError struct {
	Field  string
	Reason string
}

// Error implements error.
func (e *FieldError) Error() string { return "card." + e.Field + ": " + e.Reason }

package issuance

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/emv"
)

// Limits on card evidence, so that outside input cannot make the server
// work hard.
const (
	maxEvidenceRecords = 16
	maxRecordLen       = 1024
	maxCertLen         = 256
)

// Certificates are the offline-authentication data objects a terminal read
// (EMV Book 2). Any left empty is taken from the records.
type Certificates struct {
	CAIndex         []byte // 8F, one byte
	IssuerCert      []byte // 90
	IssuerRemainder []byte // 92
	IssuerExponent  []byte // 9F32
	ICCCert         []byte // 9F46
	ICCRemainder    []byte // 9F48
	ICCExponent     []byte // 9F47
}

// CardEvidence is what a terminal sends to prove a card was present: the
// card's records (as read over the AFL), the certificates, the DDOL data it
// sent in INTERNAL AUTHENTICATE (with the server's challenge as the
// unpredictable number 9F37) and the signed dynamic application data
// (9F4B) the card returned. PAN is the clear PAN as read; the server checks
// it against the signed records and the ICC certificate and keeps only its
// token. Everything else the server needs (ID number, name) it takes from
// the records, which the ICC certificate covers.
type CardEvidence struct {
	AID          []byte
	PAN          string
	AIP          []byte
	AFL          []byte
	Records      []emv.Record
	Certificates Certificates
	DDOLData     []byte
	SDAD         []byte
}

// String describes the evidence without card data.
func (e CardEvidence) String() string {
	return fmt.Sprintf("card evidence (AID %X, PAN %s, %d records)", e.AID, cardio.MaskPAN(e.PAN), len(e.Records))
}

// verifiedCard is what a verified evidence tells about the card.
type verifiedCard struct {
	pan      string
	idNumber string
	name     string
	hash     []byte // SHA-256 of the SDAD: each signature is accepted once
	un       []byte // the unpredictable number (9F37) the card signed
}

// errNotOverChallenge is the refusal of a signature over another
// unpredictable number than the challenge issued.
func errNotOverChallenge() error {
	return &NotGenuineError{Cause: errors.New("the signed data is not over the challenge issued")}
}

// malformed returns a validation error for an evidence field.
func malformed(field, reason string) error { return invalid("card."+field, reason) }

// verifyEvidence checks the certificate chain from the CA keys down to the
// ICC key (with the PAN in both certificates), then the signature over the
// DDOL data. When un is not nil the DDOL data must carry it as the
// unpredictable number (9F37).
func verifyEvidence(ev CardEvidence, cas emv.CAKeys, un []byte, now time.Time) (verifiedCard, error) {
	var v verifiedCard
	switch {
	case len(ev.AID) < 5 || len(ev.AID) > 16:
		return v, malformed("aid", "must be 5 to 16 bytes")
	case len(ev.AIP) != 2:
		return v, malformed("aip", "must be 2 bytes")
	case len(ev.AFL) == 0 || len(ev.AFL)%4 != 0 || len(ev.AFL) > 64:
		return v, malformed("afl", "must be 1 to 16 entries of 4 bytes")
	case len(ev.Records) == 0 || len(ev.Records) > maxEvidenceRecords:
		return v, malformed("records", fmt.Sprintf("must be 1 to %d records", maxEvidenceRecords))
	case len(ev.SDAD) == 0 || len(ev.SDAD) > maxCertLen:
		return v, malformed("sdad", "must be 1 to 256 bytes")
	case len(ev.DDOLData) == 0 || len(ev.DDOLData) > 252:
		return v, malformed("ddol_data", "must be 1 to 252 bytes")
	}
	for _, c := range [][]byte{ev.Certificates.IssuerCert, ev.Certificates.IssuerRemainder, ev.Certificates.IssuerExponent,
		ev.Certificates.ICCCert, ev.Certificates.ICCRemainder, ev.Certificates.ICCExponent} {
		if len(c) > maxCertLen {
			return v, malformed("certificates", "a certificate is too long")
		}
	}
	afl, err := cardio.ParseAFL(ev.AFL)
	if err != nil {
		return v, malformed("afl", "not a valid AFL")
	}
	tags := map[string][]byte{}
	for _, r := range ev.Records {
		if len(r.Raw) == 0 || len(r.Raw) > maxRecordLen || r.SFI == 0 || r.SFI > 30 || r.Number == 0 {
			return v, malformed("records", "each record needs an SFI 1–30, a number and 1–1024 bytes")
		}
		tlvs, err := cardio.DecodeTLV(r.Raw)
		if err != nil || len(tlvs) != 1 || tlvs[0].Tag != "70" {
			return v, malformed("records", "each record must be one 70 template")
		}
		for k, val := range cardio.Primitives(tlvs) {
			if _, seen := tags[k]; !seen {
				tags[k] = val
			}
		}
	}
	pick := func(given []byte, tag string) []byte {
		if len(given) > 0 {
			return given
		}
		return tags[tag]
	}
	certs := Certificates{
		CAIndex: pick(ev.Certificates.CAIndex, "8F"), IssuerCert: pick(ev.Certificates.IssuerCert, "90"),
		IssuerRemainder: pick(ev.Certificates.IssuerRemainder, "92"), IssuerExponent: pick(ev.Certificates.IssuerExponent, "9F32"),
		ICCCert: pick(ev.Certificates.ICCCert, "9F46"), ICCRemainder: pick(ev.Certificates.ICCRemainder, "9F48"),
		ICCExponent: pick(ev.Certificates.ICCExponent, "9F47"),
	}
	if len(certs.CAIndex) != 1 || len(certs.IssuerCert) == 0 || len(certs.IssuerExponent) == 0 ||
		len(certs.ICCCert) == 0 || len(certs.ICCExponent) == 0 {
		return v, &NotGenuineError{Cause: &emv.ODAError{Method: emv.ODADDA, Reason: emv.ErrODAData}}
	}

	// The PAN: the signed record's 5A, equal to what the terminal sent.
	panBCD, ok := tags["5A"]
	if !ok || len(panBCD) == 0 || len(panBCD) > 10 {
		return v, malformed("records", "no PAN (5A) in the records")
	}
	v.pan = strings.TrimRight(strings.ToUpper(hex.EncodeToString(panBCD)), "F")
	if len(v.pan) < 12 || len(v.pan) > 19 || strings.Trim(v.pan, "0123456789") != "" {
		return v, malformed("records", "the PAN (5A) is not 12–19 digits")
	}
	if ev.PAN != "" && ev.PAN != v.pan {
		return v, malformed("pan", "does not match the PAN in the records")
	}

	ca, ok := cas.Find(ev.AID[:5], certs.CAIndex[0])
	if !ok {
		return v, &NotGenuineError{Cause: &emv.ODAError{Method: emv.ODADDA, Reason: emv.ErrCAKeyUnknown}}
	}
	if !ca.Expiry.IsZero() && now.After(ca.Expiry) {
		return v, &NotGenuineError{Cause: &emv.ODAError{Method: emv.ODADDA, Reason: emv.ErrCAKeyUnknown, Cause: emv.ErrCertificateExpired}}
	}
	ic, err := emv.RecoverIssuerKey(ca, emv.SignedCertificate{Certificate: certs.IssuerCert,
		Remainder: certs.IssuerRemainder, Exponent: certs.IssuerExponent}, v.pan, now)
	if err != nil {
		return v, &NotGenuineError{Cause: err}
	}
	sd, err := emv.StaticData(afl, ev.Records, tags["9F4A"], ev.AIP)
	if err != nil {
		return v, &NotGenuineError{Cause: &emv.ODAError{Method: emv.ODADDA, Reason: emv.ErrODAData, Cause: err}}
	}
	icc, err := emv.RecoverICCKey(ic.Key, emv.SignedCertificate{Certificate: certs.ICCCert,
		Remainder: certs.ICCRemainder, Exponent: certs.ICCExponent}, sd, v.pan, now)
	if err != nil {
		return v, &NotGenuineError{Cause: err}
	}

	// The DDOL data must be shaped by the card's DDOL and carry the UN.
	ddol := emv.DefaultDDOL
	if raw, ok := tags["9F49"]; ok {
		if ddol, err = cardio.ParseDOL(raw); err != nil {
			return v, malformed("records", "the DDOL (9F49) is malformed")
		}
	}
	if ddol.Len() != len(ev.DDOLData) {
		return v, malformed("ddol_data", "does not match the card's DDOL")
	}
	off, found := 0, false
	for _, e := range ddol {
		if e.Tag == "9F37" {
			if e.Length != 4 {
				return v, malformed("ddol_data", "the DDOL must ask for a 4-byte unpredictable number")
			}
			found = true
			break
		}
		off += e.Length
	}
	if !found {
		return v, malformed("ddol_data", "the DDOL has no unpredictable number (9F37)")
	}
	v.un = ev.DDOLData[off : off+4]
	if un != nil && !bytes.Equal(v.un, un) {
		return v, errNotOverChallenge()
	}
	if _, err := emv.VerifyDynamicData(icc.Key, ev.SDAD, ev.DDOLData); err != nil {
		return v, &NotGenuineError{Cause: err}
	}
	if id, ok := tags["9F61"]; ok {
		v.idNumber = NormalizeIDNumber(strings.TrimRight(string(id), "\x00 "))
	}
	if name, ok := tags["5F20"]; ok {
		v.name = emv.DecodeText(name, 0, true)
	}
	h := sha256.Sum256(ev.SDAD)
	v.hash = h[:]
	return v, nil
}

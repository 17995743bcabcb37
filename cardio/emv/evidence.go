package emv

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/evidence"
)

// Limits on card evidence, so that outside input cannot make the server
// work hard.
const (
	maxEvidenceRecords = 16
	maxRecordLen       = 1024
	maxCertLen         = 256
)

// ErrNotOverChallenge means the card's signature is over another
// unpredictable number than the challenge the server issued.
var ErrNotOverChallenge = errors.New("the signed data is not over the challenge issued")

// EvidenceVerifier checks the evidence a terminal sends of a card's presence
// (evidence.Card) against the trusted CA keys: the check-in domain's
// evidence port. It holds no state beyond the keys and is safe for
// concurrent use.
type EvidenceVerifier struct {
	CAs CAKeys
}

// malformed is a refusal of evidence that is not well formed.
func malformed(field, reason string) error { return &evidence.FieldError{Field: field, Reason: reason} }

// Verify checks the certificate chain from the CA keys down to the ICC key
// (with the PAN in both certificates), then the signature over the DDOL
// data. When un is not nil the DDOL data must carry it as the unpredictable
// number (9F37). Malformed evidence is an *evidence.FieldError; a card that
// is not genuine gets an *ODAError or ErrNotOverChallenge. No error carries
// card data.
func (v EvidenceVerifier) Verify(ev evidence.Card, un []byte, now time.Time) (evidence.Identity, error) {
	var id evidence.Identity
	switch {
	case len(ev.AID) < 5 || len(ev.AID) > 16:
		return id, malformed("aid", "must be 5 to 16 bytes")
	case len(ev.AIP) != 2:
		return id, malformed("aip", "must be 2 bytes")
	case len(ev.AFL) == 0 || len(ev.AFL)%4 != 0 || len(ev.AFL) > 64:
		return id, malformed("afl", "must be 1 to 16 entries of 4 bytes")
	case len(ev.Records) == 0 || len(ev.Records) > maxEvidenceRecords:
		return id, malformed("records", fmt.Sprintf("must be 1 to %d records", maxEvidenceRecords))
	case len(ev.SDAD) == 0 || len(ev.SDAD) > maxCertLen:
		return id, malformed("sdad", "must be 1 to 256 bytes")
	case len(ev.DDOLData) == 0 || len(ev.DDOLData) > 252:
		return id, malformed("ddol_data", "must be 1 to 252 bytes")
	}
	var given evidence.Certificates
	if ev.Certificates != nil {
		given = *ev.Certificates
	}
	for _, c := range [][]byte{given.IssuerCert, given.IssuerRemainder, given.IssuerExponent,
		given.ICCCert, given.ICCRemainder, given.ICCExponent} {
		if len(c) > maxCertLen {
			return id, malformed("certificates", "a certificate is too long")
		}
	}
	afl, err := cardio.ParseAFL(ev.AFL)
	if err != nil {
		return id, malformed("afl", "not a valid AFL")
	}
	tags := map[string][]byte{}
	for _, r := range ev.Records {
		if len(r.Raw) == 0 || len(r.Raw) > maxRecordLen || r.SFI == 0 || r.SFI > 30 || r.Number == 0 {
			return id, malformed("records", "each record needs an SFI 1–30, a number and 1–1024 bytes")
		}
		tlvs, err := cardio.DecodeTLV(r.Raw)
		if err != nil || len(tlvs) != 1 || tlvs[0].Tag != "70" {
			return id, malformed("records", "each record must be one 70 template")
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
	certs := evidence.Certificates{
		CAIndex: pick(given.CAIndex, "8F"), IssuerCert: pick(given.IssuerCert, "90"),
		IssuerRemainder: pick(given.IssuerRemainder, "92"), IssuerExponent: pick(given.IssuerExponent, "9F32"),
		ICCCert: pick(given.ICCCert, "9F46"), ICCRemainder: pick(given.ICCRemainder, "9F48"),
		ICCExponent: pick(given.ICCExponent, "9F47"),
	}
	if len(certs.CAIndex) != 1 || len(certs.IssuerCert) == 0 || len(certs.IssuerExponent) == 0 ||
		len(certs.ICCCert) == 0 || len(certs.ICCExponent) == 0 {
		return id, &ODAError{Method: ODADDA, Reason: ErrODAData}
	}

	// The PAN: the signed record's 5A, equal to what the terminal sent.
	panBCD, ok := tags["5A"]
	if !ok || len(panBCD) == 0 || len(panBCD) > 10 {
		return id, malformed("records", "no PAN (5A) in the records")
	}
	id.PAN = strings.TrimRight(strings.ToUpper(hex.EncodeToString(panBCD)), "F")
	if len(id.PAN) < 12 || len(id.PAN) > 19 || strings.Trim(id.PAN, "0123456789") != "" {
		return id, malformed("records", "the PAN (5A) is not 12–19 digits")
	}
	if ev.PAN != "" && ev.PAN != id.PAN {
		return id, malformed("pan", "does not match the PAN in the records")
	}

	ca, ok := v.CAs.Find(ev.AID[:5], certs.CAIndex[0])
	if !ok {
		return id, &ODAError{Method: ODADDA, Reason: ErrCAKeyUnknown}
	}
	if !ca.Expiry.IsZero() && now.After(ca.Expiry) {
		return id, &ODAError{Method: ODADDA, Reason: ErrCAKeyUnknown, Cause: ErrCertificateExpired}
	}
	ic, err := RecoverIssuerKey(ca, SignedCertificate{Certificate: certs.IssuerCert,
		Remainder: certs.IssuerRemainder, Exponent: certs.IssuerExponent}, id.PAN, now)
	if err != nil {
		return id, err
	}
	sd, err := StaticData(afl, ev.Records, tags["9F4A"], ev.AIP)
	if err != nil {
		return id, &ODAError{Method: ODADDA, Reason: ErrODAData, Cause: err}
	}
	icc, err := RecoverICCKey(ic.Key, SignedCertificate{Certificate: certs.ICCCert,
		Remainder: certs.ICCRemainder, Exponent: certs.ICCExponent}, sd, id.PAN, now)
	if err != nil {
		return id, err
	}

	// The DDOL data must be shaped by the card's DDOL and carry the UN.
	ddol := DefaultDDOL
	if raw, ok := tags["9F49"]; ok {
		if ddol, err = cardio.ParseDOL(raw); err != nil {
			return id, malformed("records", "the DDOL (9F49) is malformed")
		}
	}
	if ddol.Len() != len(ev.DDOLData) {
		return id, malformed("ddol_data", "does not match the card's DDOL")
	}
	off, found := 0, false
	for _, e := range ddol {
		if e.Tag == "9F37" {
			if e.Length != 4 {
				return id, malformed("ddol_data", "the DDOL must ask for a 4-byte unpredictable number")
			}
			found = true
			break
		}
		off += e.Length
	}
	if !found {
		return id, malformed("ddol_data", "the DDOL has no unpredictable number (9F37)")
	}
	id.UN = ev.DDOLData[off : off+4]
	if un != nil && !bytes.Equal(id.UN, un) {
		return id, ErrNotOverChallenge
	}
	if _, err := VerifyDynamicData(icc.Key, ev.SDAD, ev.DDOLData); err != nil {
		return id, err
	}
	if raw, ok := tags["9F61"]; ok {
		id.IDNumber = strings.TrimRight(string(raw), "\x00 ")
	}
	if name, ok := tags[TagChineseName]; ok {
		id.Name = DecodeText(name, 0, true)
	} else if name, ok := tags["5F20"]; ok {
		id.Name = DecodeText(name, 1, true)
	}
	h := sha256.Sum256(ev.SDAD)
	id.SignatureHash = h[:]
	return id, nil
}

package emv

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // EMV Book 2 mandates SHA-1 for certificates.
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/evidence"
)

// Certificate formats and algorithm indicators (EMV Book 2).
const (
	formatIssuerCert   = 0x02
	formatSDA          = 0x03
	formatICCCert      = 0x04
	formatSDAD         = 0x05
	hashSHA1           = 0x01
	pkAlgorithmRSA     = 0x01
	headerByte         = 0x6A
	trailerByte        = 0xBC
	padByte            = 0xBB
	sha1Len            = 20
	issuerCertOverhead = 36
	iccCertOverhead    = 42
)

// IssuerCertTemplate is the content of an issuer public key certificate
// (tag 90), signed by a CA key.
type IssuerCertTemplate struct {
	// IssuerID is the leftmost 3 to 8 digits of the PAN (the BIN), e.g. "621785".
	IssuerID string
	// Expiry is the month after which the certificate is invalid (day ignored).
	Expiry time.Time
	// Serial is the certificate serial number assigned by the CA.
	Serial [3]byte
	// Key is the issuer public key being certified.
	Key PublicKey
}

// ICCCertTemplate is the content of an ICC public key certificate (tag
// 9F46), signed by the issuer key.
type ICCCertTemplate struct {
	// PAN is the application PAN (digits).
	PAN string
	// Expiry is the month after which the certificate is invalid.
	Expiry time.Time
	// Serial is the certificate serial number assigned by the issuer.
	Serial [3]byte
	// Key is the ICC public key being certified.
	Key PublicKey
	// StaticData is the static data to be authenticated (see StaticData).
	StaticData []byte
}

// SignedCertificate is a certificate as stored on the card: the signed
// block (90 or 9F46), the key remainder (92 or 9F48, may be empty) and the
// certified key's exponent (9F32 or 9F47).
type SignedCertificate struct {
	Certificate cardio.Hex `json:"certificate"`
	Remainder   cardio.Hex `json:"remainder,omitempty"`
	Exponent    cardio.Hex `json:"exponent"`
}

// SignIssuerCertificate builds and signs an issuer public key certificate
// with the CA private key (EMV Book 2, 5.3, table 6).
func SignIssuerCertificate(ca *PrivateKey, t IssuerCertTemplate) (SignedCertificate, error) {
	if err := ca.Validate(); err != nil {
		return SignedCertificate{}, fmt.Errorf("sign issuer certificate: CA key: %w", err)
	}
	if err := t.Key.validate(); err != nil {
		return SignedCertificate{}, fmt.Errorf("sign issuer certificate: issuer key: %w", err)
	}
	nCA, nI := ca.Size(), t.Key.Size()
	if nI > nCA {
		return SignedCertificate{}, fmt.Errorf("sign issuer certificate: issuer key longer than CA key: %w", ErrInvalidKey)
	}
	id, err := packDigits(t.IssuerID, 4)
	if err != nil || len(t.IssuerID) < 3 || len(t.IssuerID) > 8 {
		return SignedCertificate{}, fmt.Errorf("sign issuer certificate: issuer identifier must be 3-8 digits: %w", ErrMalformedData)
	}
	leftmost, remainder := splitKey(t.Key.Modulus, nCA-issuerCertOverhead)
	body := []byte{formatIssuerCert}
	body = append(body, id...)
	body = append(body, packMonth(t.Expiry)...)
	body = append(body, t.Serial[:]...)
	body = append(body, hashSHA1, pkAlgorithmRSA, byte(nI), byte(len(t.Key.Exponent)))
	body = append(body, leftmost...)
	sig, err := signBlock(ca, body, remainder, t.Key.Exponent)
	if err != nil {
		return SignedCertificate{}, fmt.Errorf("sign issuer certificate: %w", err)
	}
	return SignedCertificate{Certificate: sig, Remainder: remainder, Exponent: t.Key.Exponent}, nil
}

// SignICCCertificate builds and signs an ICC public key certificate with the
// issuer private key (EMV Book 2, 6.4, table 14). The hash covers the static
// data to be authenticated, so the records must be final before signing.
func SignICCCertificate(issuer *PrivateKey, t ICCCertTemplate) (SignedCertificate, error) {
	if err := issuer.Validate(); err != nil {
		return SignedCertificate{}, fmt.Errorf("sign ICC certificate: issuer key: %w", err)
	}
	if err := t.Key.validate(); err != nil {
		return SignedCertificate{}, fmt.Errorf("sign ICC certificate: ICC key: %w", err)
	}
	nI, nIC := issuer.Size(), t.Key.Size()
	if nIC > nI {
		return SignedCertificate{}, fmt.Errorf("sign ICC certificate: ICC key longer than issuer key: %w", ErrInvalidKey)
	}
	pan, err := packDigits(t.PAN, 10)
	if err != nil || len(t.PAN) < 12 {
		return SignedCertificate{}, fmt.Errorf("sign ICC certificate: PAN must be 12-19 digits: %w", ErrMalformedData)
	}
	leftmost, remainder := splitKey(t.Key.Modulus, nI-iccCertOverhead)
	body := []byte{formatICCCert}
	body = append(body, pan...)
	body = append(body, packMonth(t.Expiry)...)
	body = append(body, t.Serial[:]...)
	body = append(body, hashSHA1, pkAlgorithmRSA, byte(nIC), byte(len(t.Key.Exponent)))
	body = append(body, leftmost...)
	sig, err := signBlock(issuer, body, remainder, t.Key.Exponent, t.StaticData)
	if err != nil {
		return SignedCertificate{}, fmt.Errorf("sign ICC certificate: %w", err)
	}
	return SignedCertificate{Certificate: sig, Remainder: remainder, Exponent: t.Key.Exponent}, nil
}

// SignStaticData builds the signed static application data (tag 93) for SDA
// with the issuer private key (EMV Book 2, 5.4, table 7). dac is the 2-byte
// data authentication code.
func SignStaticData(issuer *PrivateKey, dac [2]byte, staticData []byte) ([]byte, error) {
	if err := issuer.Validate(); err != nil {
		return nil, fmt.Errorf("sign static data: %w", err)
	}
	body := []byte{formatSDA, hashSHA1, dac[0], dac[1]}
	body = append(body, bytes.Repeat([]byte{padByte}, issuer.Size()-26)...)
	sig, err := signBlock(issuer, body, staticData)
	if err != nil {
		return nil, fmt.Errorf("sign static data: %w", err)
	}
	return sig, nil
}

// SignDynamicData builds the signed dynamic application data (tag 9F4B) a
// card returns to INTERNAL AUTHENTICATE (EMV Book 2, 6.5, table 17).
// iccDynamicNumber is 2 to 8 bytes; ddolData is the command data received.
func SignDynamicData(icc *PrivateKey, iccDynamicNumber, ddolData []byte) ([]byte, error) {
	if icc == nil || len(icc.D) == 0 {
		return nil, fmt.Errorf("sign dynamic data: %w", ErrInvalidKey)
	}
	if len(iccDynamicNumber) < 2 || len(iccDynamicNumber) > 8 {
		return nil, fmt.Errorf("sign dynamic data: ICC dynamic number of %d bytes: %w", len(iccDynamicNumber), ErrMalformedData)
	}
	dyn := append([]byte{byte(len(iccDynamicNumber))}, iccDynamicNumber...)
	nIC := icc.Size()
	body := []byte{formatSDAD, hashSHA1, byte(len(dyn))}
	body = append(body, dyn...)
	if pad := nIC - len(dyn) - 25; pad >= 0 {
		body = append(body, bytes.Repeat([]byte{padByte}, pad)...)
	} else {
		return nil, fmt.Errorf("sign dynamic data: key too short: %w", ErrInvalidKey)
	}
	return signBlock(icc, body, ddolData)
}

// signBlock assembles 6A || body || SHA-1(body || extra...) || BC and signs it.
func signBlock(k *PrivateKey, body []byte, extra ...[]byte) ([]byte, error) {
	h := sha1.New() //nolint:gosec
	h.Write(body)
	for _, e := range extra {
		h.Write(e)
	}
	block := make([]byte, 0, k.Size())
	block = append(block, headerByte)
	block = append(block, body...)
	block = append(block, h.Sum(nil)...)
	block = append(block, trailerByte)
	if len(block) != k.Size() {
		return nil, fmt.Errorf("block of %d bytes for a %d-byte key: %w", len(block), k.Size(), ErrInvalidKey)
	}
	return k.sign(block)
}

// openBlock recovers a signed block and checks header, trailer, format,
// hash algorithm and the SHA-1 over body || extra. It returns the body
// (recovered bytes between header and hash).
func openBlock(k PublicKey, sig []byte, format byte, extra ...[]byte) ([]byte, error) {
	rec, err := k.recover(sig)
	if err != nil {
		return nil, err
	}
	if len(rec) < 2+sha1Len+3 || rec[0] != headerByte || rec[len(rec)-1] != trailerByte {
		return nil, fmt.Errorf("recovered header/trailer: %w", ErrCertificateFormat)
	}
	body := rec[1 : len(rec)-1-sha1Len]
	if body[0] != format {
		return nil, fmt.Errorf("format %02X, want %02X: %w", body[0], format, ErrCertificateFormat)
	}
	h := sha1.New() //nolint:gosec
	h.Write(body)
	for _, e := range extra {
		h.Write(e)
	}
	if !bytes.Equal(h.Sum(nil), rec[len(rec)-1-sha1Len:len(rec)-1]) {
		return nil, ErrHashMismatch
	}
	return body, nil
}

// IssuerCertificate is what RecoverIssuerKey learns from tag 90.
type IssuerCertificate struct {
	IssuerID string
	Expiry   time.Time // first day of the expiry month
	Serial   [3]byte
	Key      PublicKey
}

// RecoverIssuerKey verifies an issuer public key certificate with the CA
// key and returns the issuer public key (EMV Book 2, 5.3). It checks the
// recovered format, SHA-1 hash, that the issuer identifier matches pan and
// that the certificate has not expired at now. Errors are *ODAError with
// reason ErrIssuerCertificate.
func RecoverIssuerKey(ca CAKey, cert SignedCertificate, pan string, now time.Time) (*IssuerCertificate, error) {
	fail := func(cause error) error {
		return &ODAError{Method: ODANone, Reason: ErrIssuerCertificate, Cause: cause}
	}
	if len(cert.Certificate) != ca.Size() {
		return nil, fail(ErrCertificateFormat)
	}
	body, err := openBlock(ca.PublicKey, cert.Certificate, formatIssuerCert, cert.Remainder, cert.Exponent)
	if err != nil {
		return nil, fail(err)
	}
	// body: 02 | id(4) | exp(2) | serial(3) | hash alg | pk alg | len | explen | leftmost
	if len(body) < 15 || body[10] != hashSHA1 || body[11] != pkAlgorithmRSA {
		return nil, fail(ErrCertificateFormat)
	}
	nI, expLen := int(body[12]), int(body[13])
	leftmost := body[14:]
	key, err := joinKey(leftmost, cert.Remainder, nI)
	if err != nil || expLen != len(cert.Exponent) {
		return nil, fail(ErrCertificateFormat)
	}
	ic := &IssuerCertificate{IssuerID: unpackDigits(body[1:5]), Serial: [3]byte(body[7:10]), Key: PublicKey{Modulus: key, Exponent: cert.Exponent}}
	if ic.Expiry, err = unpackMonth(body[5:7]); err != nil {
		return nil, fail(ErrCertificateFormat)
	}
	if len(ic.IssuerID) < 3 || !strings.HasPrefix(pan, ic.IssuerID) {
		return nil, fail(ErrPANMismatch)
	}
	if expired(ic.Expiry, now) {
		return nil, fail(ErrCertificateExpired)
	}
	if err := ic.Key.validate(); err != nil {
		return nil, fail(err)
	}
	return ic, nil
}

// ICCCertificate is what RecoverICCKey learns from tag 9F46.
type ICCCertificate struct {
	PAN    string
	Expiry time.Time
	Serial [3]byte
	Key    PublicKey
}

// RecoverICCKey verifies an ICC public key certificate with the issuer key,
// over staticData, and returns the ICC public key (EMV Book 2, 6.4). Errors
// are *ODAError with reason ErrICCCertificate.
func RecoverICCKey(issuer PublicKey, cert SignedCertificate, staticData []byte, pan string, now time.Time) (*ICCCertificate, error) {
	fail := func(cause error) error {
		return &ODAError{Method: ODADDA, Reason: ErrICCCertificate, Cause: cause}
	}
	if len(cert.Certificate) != issuer.Size() {
		return nil, fail(ErrCertificateFormat)
	}
	body, err := openBlock(issuer, cert.Certificate, formatICCCert, cert.Remainder, cert.Exponent, staticData)
	if err != nil {
		return nil, fail(err)
	}
	// body: 04 | PAN(10) | exp(2) | serial(3) | hash alg | pk alg | len | explen | leftmost
	if len(body) < 20 || body[16] != hashSHA1 || body[17] != pkAlgorithmRSA {
		return nil, fail(ErrCertificateFormat)
	}
	nIC, expLen := int(body[18]), int(body[19])
	key, err := joinKey(body[20:], cert.Remainder, nIC)
	if err != nil || expLen != len(cert.Exponent) {
		return nil, fail(ErrCertificateFormat)
	}
	ic := &ICCCertificate{PAN: unpackDigits(body[1:11]), Serial: [3]byte(body[13:16]), Key: PublicKey{Modulus: key, Exponent: cert.Exponent}}
	if ic.Expiry, err = unpackMonth(body[11:13]); err != nil {
		return nil, fail(ErrCertificateFormat)
	}
	if ic.PAN != pan {
		return nil, fail(ErrPANMismatch)
	}
	if expired(ic.Expiry, now) {
		return nil, fail(ErrCertificateExpired)
	}
	if err := ic.Key.validate(); err != nil {
		return nil, fail(err)
	}
	return ic, nil
}

// VerifyStaticData verifies signed static application data (tag 93) with
// the issuer key and returns the data authentication code (EMV Book 2, 5.4).
func VerifyStaticData(issuer PublicKey, signed, staticData []byte) ([]byte, error) {
	body, err := openBlock(issuer, signed, formatSDA, staticData)
	if err != nil {
		return nil, &ODAError{Method: ODASDA, Reason: ErrSignature, Cause: err}
	}
	if len(body) < 4 || body[1] != hashSHA1 {
		return nil, &ODAError{Method: ODASDA, Reason: ErrSignature, Cause: ErrCertificateFormat}
	}
	return append([]byte(nil), body[2:4]...), nil
}

// VerifyDynamicData verifies signed dynamic application data (tag 9F4B)
// with the ICC key over the DDOL data sent, and returns the ICC dynamic
// number (EMV Book 2, 6.5).
func VerifyDynamicData(icc PublicKey, sdad, ddolData []byte) ([]byte, error) {
	body, err := openBlock(icc, sdad, formatSDAD, ddolData)
	if err != nil {
		return nil, &ODAError{Method: ODADDA, Reason: ErrSignature, Cause: err}
	}
	// body: 05 | hash alg | L_DD | ICC dynamic data (first byte: length of ICC dynamic number)
	if len(body) < 4 || body[1] != hashSHA1 || int(body[2]) > len(body)-3 {
		return nil, &ODAError{Method: ODADDA, Reason: ErrSignature, Cause: ErrCertificateFormat}
	}
	dd := body[3 : 3+int(body[2])]
	if len(dd) < 1 || int(dd[0]) > len(dd)-1 {
		return nil, &ODAError{Method: ODADDA, Reason: ErrSignature, Cause: ErrCertificateFormat}
	}
	return append([]byte(nil), dd[1:1+int(dd[0])]...), nil
}

// Record is one card record read over the AFL (SFI, record number, the raw
// record with its 70 template): evidence.Record, the type terminals send.
type Record = evidence.Record

// StaticData assembles the static data to be authenticated (EMV Book 3,
// 10.3): for each AFL entry, its first ODA records in order — for SFI 1 to
// 10 the value inside tag 70, for SFI 11 to 30 the whole record — followed,
// when the static data authentication tag list (9F4A) is present, by the
// AIP value (the only tag 9F4A may list).
func StaticData(afl []cardio.AFLEntry, records []Record, sdaTagList, aip []byte) ([]byte, error) {
	var out []byte
	for _, e := range afl {
		for r := 0; r < int(e.ODA); r++ {
			num := e.First + byte(r)
			raw, ok := findRecord(records, e.SFI, num)
			if !ok {
				return nil, fmt.Errorf("static data: record %d of SFI %d not read: %w", num, e.SFI, ErrODAData)
			}
			if e.SFI > 10 {
				out = append(out, raw...)
				continue
			}
			tlvs, err := cardio.DecodeTLV(raw)
			if err != nil || len(tlvs) != 1 || tlvs[0].Tag != "70" {
				return nil, fmt.Errorf("static data: record %d of SFI %d is not a 70 template: %w", num, e.SFI, ErrODAData)
			}
			v, err := templateValue(raw)
			if err != nil {
				return nil, err
			}
			out = append(out, v...)
		}
	}
	if len(sdaTagList) > 0 {
		if !bytes.Equal(sdaTagList, []byte{0x82}) {
			return nil, fmt.Errorf("static data: tag list other than AIP: %w", ErrODAData)
		}
		out = append(out, aip...)
	}
	return out, nil
}

func findRecord(records []Record, sfi, num byte) ([]byte, bool) {
	for _, r := range records {
		if r.SFI == sfi && r.Number == num {
			return r.Raw, true
		}
	}
	return nil, false
}

// templateValue returns the value bytes of a single encoded template,
// exactly as on the wire.
func templateValue(raw []byte) ([]byte, error) {
	if len(raw) < 2 {
		return nil, ErrODAData
	}
	l := int(raw[1])
	off := 2
	switch raw[1] {
	case 0x81:
		if len(raw) < 3 {
			return nil, ErrODAData
		}
		l, off = int(raw[2]), 3
	case 0x82:
		if len(raw) < 4 {
			return nil, ErrODAData
		}
		l, off = int(raw[2])<<8|int(raw[3]), 4
	}
	if off+l > len(raw) {
		return nil, ErrODAData
	}
	return raw[off : off+l], nil
}

func splitKey(modulus []byte, room int) (leftmost, remainder []byte) {
	if len(modulus) <= room {
		return append(append([]byte(nil), modulus...), bytes.Repeat([]byte{padByte}, room-len(modulus))...), nil
	}
	return append([]byte(nil), modulus[:room]...), append([]byte(nil), modulus[room:]...)
}

func joinKey(leftmost, remainder []byte, n int) ([]byte, error) {
	if n == 0 {
		return nil, ErrCertificateFormat
	}
	if n <= len(leftmost) {
		if len(remainder) != 0 {
			return nil, ErrCertificateFormat
		}
		return append([]byte(nil), leftmost[:n]...), nil
	}
	if len(leftmost)+len(remainder) != n {
		return nil, ErrCertificateFormat
	}
	return append(append([]byte(nil), leftmost...), remainder...), nil
}

// packDigits packs decimal digits as BCD, left-justified, padded with F.
func packDigits(digits string, n int) ([]byte, error) {
	if len(digits) > 2*n {
		return nil, ErrMalformedData
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return nil, ErrMalformedData
		}
	}
	s := digits + strings.Repeat("F", 2*n-len(digits))
	return hex.DecodeString(s)
}

// unpackDigits reads BCD digits up to the first F nibble.
func unpackDigits(b []byte) string {
	s := strings.ToUpper(hex.EncodeToString(b))
	if i := strings.IndexByte(s, 'F'); i >= 0 {
		s = s[:i]
	}
	return s
}

func packMonth(t time.Time) []byte {
	b, _ := hex.DecodeString(fmt.Sprintf("%02d%02d", int(t.Month()), t.Year()%100))
	return b
}

func unpackMonth(b []byte) (time.Time, error) {
	s := hex.EncodeToString(b)
	var mm, yy int
	if _, err := fmt.Sscanf(s, "%02d%02d", &mm, &yy); err != nil || mm < 1 || mm > 12 {
		return time.Time{}, ErrCertificateFormat
	}
	return time.Date(2000+yy, time.Month(mm), 1, 0, 0, 0, 0, time.UTC), nil
}

// expired reports whether the month starting at first has ended before now.
func expired(first, now time.Time) bool {
	return !now.Before(first.AddDate(0, 1, 0))
}

package emv

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/volcard/volcard/cardio"
)

// ACResponse is the answer to GENERATE AC (EMV Book 3, 6.5.5.4).
type ACResponse struct {
	// CID is the cryptogram information data (9F27); Type() is its bits 8-7.
	CID byte
	// ATC is the application transaction counter (9F36) the cryptogram covers.
	ATC uint16
	// Cryptogram is the application cryptogram (9F26), 8 bytes.
	Cryptogram []byte
	// IAD is the issuer application data (9F10), nil when absent.
	IAD []byte
	// Format is 1 (tag 80) or 2 (template 77) as received.
	Format int
}

// Type returns the cryptogram type of the CID.
func (r ACResponse) Type() CryptogramType { return CryptogramType(r.CID & 0xC0) }

// Encode returns the response data in format 1 (80: CID ‖ ATC ‖ AC ‖ IAD)
// or format 2 (77 { 9F27, 9F36, 9F26, 9F10 }).
func (r ACResponse) Encode(format int) ([]byte, error) {
	if len(r.Cryptogram) != 8 || len(r.IAD) > 32 {
		return nil, fmt.Errorf("GENERATE AC response: cryptogram %d bytes, IAD %d bytes: %w", len(r.Cryptogram), len(r.IAD), ErrCryptoInput)
	}
	atc := []byte{byte(r.ATC >> 8), byte(r.ATC)}
	switch format {
	case 1:
		v := append(append(append([]byte{r.CID}, atc...), r.Cryptogram...), r.IAD...)
		return cardio.EncodeTLV(cardio.NewTLV("80", v))
	case 2:
		kids := []cardio.TLV{cardio.NewTLV("9F27", []byte{r.CID}), cardio.NewTLV("9F36", atc), cardio.NewTLV("9F26", r.Cryptogram)}
		if len(r.IAD) > 0 {
			kids = append(kids, cardio.NewTLV("9F10", r.IAD))
		}
		return cardio.EncodeTLV(cardio.NewTemplate("77", kids...))
	}
	return nil, fmt.Errorf("GENERATE AC response format %d: %w", format, ErrCryptoInput)
}

// ParseGenerateACResponse decodes the data of a GENERATE AC response in
// format 1 (80: CID 1 ‖ ATC 2 ‖ cryptogram 8 ‖ IAD 0–32) or format 2 (77 with
// 9F27, 9F36, 9F26 and optionally 9F10). Anything else is ErrMalformedData;
// a format 2 response without one of the three mandatory objects is
// ErrMissingData.
func ParseGenerateACResponse(data []byte) (ACResponse, error) {
	tlvs, err := cardio.DecodeTLV(data)
	if err != nil || len(tlvs) != 1 {
		return ACResponse{}, fmt.Errorf("GENERATE AC response not one TLV: %w", ErrMalformedData)
	}
	switch tlvs[0].Tag {
	case "80":
		v := tlvs[0].Value
		if len(v) < 11 || len(v) > 11+32 {
			return ACResponse{}, fmt.Errorf("GENERATE AC format 1 of %d bytes: %w", len(v), ErrMalformedData)
		}
		r := ACResponse{CID: v[0], ATC: binary.BigEndian.Uint16(v[1:3]), Cryptogram: append([]byte(nil), v[3:11]...), Format: 1}
		if len(v) > 11 {
			r.IAD = append([]byte(nil), v[11:]...)
		}
		return r, nil
	case "77":
		kids := tlvs[0].TLVs
		cid, ok1 := cardio.FindValue(kids, "9F27")
		atc, ok2 := cardio.FindValue(kids, "9F36")
		ac, ok3 := cardio.FindValue(kids, "9F26")
		if !ok1 || !ok2 || !ok3 {
			return ACResponse{}, fmt.Errorf("GENERATE AC format 2 without 9F27, 9F36 or 9F26: %w", ErrMissingData)
		}
		if len(cid) != 1 || len(atc) != 2 || len(ac) != 8 {
			return ACResponse{}, fmt.Errorf("GENERATE AC format 2: wrong lengths: %w", ErrMalformedData)
		}
		r := ACResponse{CID: cid[0], ATC: binary.BigEndian.Uint16(atc), Cryptogram: append([]byte(nil), ac...), Format: 2}
		if iad, ok := cardio.FindValue(kids, "9F10"); ok {
			if len(iad) > 32 {
				return ACResponse{}, fmt.Errorf("GENERATE AC format 2: IAD of %d bytes: %w", len(iad), ErrMalformedData)
			}
			r.IAD = append([]byte(nil), iad...)
		}
		return r, nil
	}
	return ACResponse{}, fmt.Errorf("GENERATE AC response template %s: %w", tlvs[0].Tag, ErrMalformedData)
}

// GenerateACCommand builds GENERATE AC (80 AE P1 00) asking for a
// cryptogram of type t with the CDOL1 or CDOL2 data. CDA is never asked for.
func GenerateACCommand(t CryptogramType, cdolData []byte) cardio.Command {
	return cardio.Command{CLA: 0x80, INS: cardio.INSGenerateAC, P1: byte(t), Data: cdolData, Le: 256}
}

// GenerateAC sends GENERATE AC to the selected application (after GET
// PROCESSING OPTIONS) and parses the answer. Status words come back as
// *cardio.StatusError (6985: out of sequence), card data errors as
// ErrMalformedData or ErrMissingData.
func GenerateAC(ctx context.Context, card cardio.Card, t CryptogramType, cdolData []byte) (ACResponse, error) {
	resp, err := cardio.Transmit(ctx, card, GenerateACCommand(t, cdolData))
	if err != nil {
		return ACResponse{}, fmt.Errorf("emv: generate AC (%s): %w", t, err)
	}
	r, err := ParseGenerateACResponse(resp.Data)
	if err != nil {
		return ACResponse{}, fmt.Errorf("emv: generate AC (%s): %w", t, err)
	}
	return r, nil
}

// ErrIssuerAuthentication means the card refused the issuer's ARPC
// (EXTERNAL AUTHENTICATE answered 6300).
var ErrIssuerAuthentication = errors.New("emv: issuer authentication failed")

// ExternalAuthenticate sends the issuer authentication data (91: ARPC 8 ‖
// ARC 2, ARPC method 1) with EXTERNAL AUTHENTICATE (00 82 00 00 0A). It
// returns nil when the card accepts it, ErrIssuerAuthentication when it
// answers 6300, and *cardio.StatusError for anything else (6985: not after
// an ARQC, or twice in one transaction).
func ExternalAuthenticate(ctx context.Context, card cardio.Card, issuerAuthData []byte) error {
	if len(issuerAuthData) < 8 || len(issuerAuthData) > 16 {
		return fmt.Errorf("emv: external authenticate: issuer authentication data of %d bytes: %w", len(issuerAuthData), ErrCryptoInput)
	}
	_, err := cardio.Transmit(ctx, card, cardio.Command{INS: cardio.INSExternalAuth, Data: issuerAuthData})
	var se *cardio.StatusError
	if errors.As(err, &se) && se.SW == 0x6300 {
		return fmt.Errorf("emv: external authenticate: %w", ErrIssuerAuthentication)
	}
	if err != nil {
		return fmt.Errorf("emv: external authenticate: %w", err)
	}
	return nil
}

// LogEntry is the log entry (9F4D): the SFI of the transaction log file and
// the number of records it holds.
type LogEntry struct {
	SFI     byte
	Records int
}

// ParseLogEntry decodes 9F4D: SFI (11–30) ‖ maximum number of records (1–255).
func ParseLogEntry(b []byte) (LogEntry, error) {
	if len(b) != 2 || b[0] < 11 || b[0] > 30 || b[1] == 0 {
		return LogEntry{}, fmt.Errorf("log entry (9F4D): %w", ErrMalformedData)
	}
	return LogEntry{SFI: b[0], Records: int(b[1])}, nil
}

// LogRecord is one transaction log record, its values keyed by tag in the
// order of the log format (9F4F).
type LogRecord map[string][]byte

// ParseLogRecord cuts a log record by the log format: a record whose
// length differs from the format's total is ErrMalformedData.
func ParseLogRecord(format cardio.DOL, rec []byte) (LogRecord, error) {
	m, err := format.Split(rec)
	if err != nil {
		return nil, fmt.Errorf("transaction log record: %w", ErrMalformedData)
	}
	return LogRecord(m), nil
}

// TransactionLog reads the card's transaction log: GET DATA 9F4F (log
// format), then READ RECORD 1, 2, … of the log SFI until 6A83 or the
// number of records of the entry, newest first. entry is the value of 9F4D
// from the FCI (CardFacts.Tag("9F4D")). The selected application must be
// the one the entry came from.
func TransactionLog(ctx context.Context, card cardio.Card, entry []byte) ([]LogRecord, error) {
	le, err := ParseLogEntry(entry)
	if err != nil {
		return nil, err
	}
	raw, err := getData(ctx, card, 0x9F4F)
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, fmt.Errorf("emv: log format (9F4F): %w", ErrMissingData)
	}
	format, err := cardio.ParseDOL(raw)
	if err != nil || format.Len() == 0 {
		return nil, fmt.Errorf("emv: log format (9F4F): %w", ErrMalformedData)
	}
	var out []LogRecord
	for n := 1; n <= le.Records; n++ {
		resp, err := cardio.Transmit(ctx, card, cardio.Command{INS: cardio.INSReadRecord, P1: byte(n), P2: le.SFI<<3 | 4, Le: 256})
		if errors.Is(err, &cardio.StatusError{SW: 0x6A83}) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("emv: read log record %d: %w", n, err)
		}
		r, err := ParseLogRecord(format, resp.Data)
		if err != nil {
			return nil, fmt.Errorf("emv: log record %d: %w", n, err)
		}
		out = append(out, r)
	}
	return out, nil
}

package bankgw

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/volcard/volcard/pii"
)

// ProcessingPurchase is field 3 of a purchase authorization (0100).
const ProcessingPurchase = "000000"

// AuthorizationRequest is an online authorization of a chip card
// transaction (0100): the card, the amount and the ICC data the issuer
// checks the ARQC with (docs/bank-interface.md, 7.5).
type AuthorizationRequest struct {
	// PAN, PSN (3 digits, e.g. "001") and Expiry (YYMM) of the card.
	PAN, PSN, Expiry string
	// Amount in fen (CNY).
	Amount int64
	// ICC is field 55: at least 9F26, 9F27, 9F10, 9F36, 9F37, 95, 9A, 9C,
	// 9F02, 9F03, 5F2A, 9F1A and 82.
	ICC ICCData
	// At is the local time of the transaction (fields 12 and 13); the
	// client's clock when zero.
	At time.Time
}

// LogValue masks the PAN.
func (r AuthorizationRequest) LogValue() slog.Value {
	return slog.GroupValue(slog.String("pan", pii.MaskPAN(r.PAN)), slog.Int64("amount", r.Amount))
}

// AuthorizationResult is the issuer's answer (0110).
type AuthorizationResult struct {
	// ResponseCode is field 39; Approved is ResponseCode == "00".
	ResponseCode string
	Approved     bool
	// AuthCode is field 38 (approvals).
	AuthCode string
	// IssuerAuthData is 91 of field 55 (ARPC ‖ ARC), for EXTERNAL
	// AUTHENTICATE; nil when the issuer sent none (its check of the ARQC
	// failed, or the request could not be processed).
	IssuerAuthData []byte
	// ARC is the authorisation response code for the card (8A): the two
	// characters of field 39.
	ARC   []byte
	ICC   ICCData
	Trace Trace
}

// requiredICCTags are the objects an 0100 must carry in field 55.
var requiredICCTags = []string{ICCTagCryptogram, ICCTagCID, ICCTagIAD, ICCTagATC, ICCTagUnpredictable, ICCTagTVR,
	ICCTagDate, ICCTagType, ICCTagAmount, ICCTagAmountOther, ICCTagCurrency, ICCTagCountry, ICCTagAIP}

// MissingICCTags returns the mandatory field 55 objects absent from d.
func MissingICCTags(d ICCData) []string {
	var out []string
	for _, t := range requiredICCTags {
		if _, ok := d.Get(t); !ok {
			out = append(out, t)
		}
	}
	return out
}

// Authorize sends an 0100 and returns the issuer's 0110, approved or not:
// a decline is a result (its ARPC still goes to the card), not an error.
// Errors: ErrInvalidConfig for an incomplete request, and an
// *ExchangeError (ErrTimeout, ErrConnectionLost, ErrUnexpectedResponse).
// An authorization is never repeated nor reversed by this client: without
// an answer the terminal completes the transaction offline ("unable to go
// online").
func (c *Client) Authorize(ctx context.Context, r AuthorizationRequest) (AuthorizationResult, error) {
	if r.PAN == "" || len(r.PSN) != 3 || len(r.Expiry) != 4 || r.Amount < 0 || r.Amount > 999999999999 {
		return AuthorizationResult{}, fmt.Errorf("bankgw: authorize: PAN, PSN, expiry and amount required: %w", ErrInvalidConfig)
	}
	if missing := MissingICCTags(r.ICC); len(missing) > 0 {
		return AuthorizationResult{}, fmt.Errorf("bankgw: authorize: field 55 lacks %v: %w", missing, ErrInvalidConfig)
	}
	icc, err := r.ICC.Encode()
	if err != nil {
		return AuthorizationResult{}, fmt.Errorf("bankgw: authorize: %w", err)
	}
	tr, err := c.NewTrace(ctx, MTIAuthRequest)
	if err != nil {
		return AuthorizationResult{}, err
	}
	at := r.At
	if at.IsZero() {
		at = tr.TransmittedAt
	}
	local := at.In(beijing)
	msg, err := NewMessage(&AuthorizationMessage{Header: c.headerFor(tr), PAN: r.PAN, ProcessingCode: ProcessingPurchase,
		Amount: fmt.Sprintf("%012d", r.Amount), LocalTime: local.Format("150405"), LocalDate: local.Format("0102"),
		Expiry: r.Expiry, PSN: r.PSN, RRN: tr.RRN, Currency: CurrencyCNY, ICCData: icc})
	if err != nil {
		return AuthorizationResult{}, &ExchangeError{Op: "authorize", Trace: tr, Err: err}
	}
	resp, err := c.exchange(ctx, msg)
	if err != nil {
		return AuthorizationResult{}, &ExchangeError{Op: "authorize", Trace: tr, Err: err}
	}
	var m AuthorizationMessage
	if err := Decode(resp, &m); err != nil {
		return AuthorizationResult{}, &ExchangeError{Op: "authorize", Trace: tr, Err: err}
	}
	if m.MTI != MTIAuthResponse || len(m.ResponseCode) != 2 || m.RRN != tr.RRN {
		return AuthorizationResult{}, &ExchangeError{Op: "authorize", Trace: tr, Err: fmt.Errorf("MTI %s: %w", m.MTI, ErrUnexpectedResponse)}
	}
	res := AuthorizationResult{ResponseCode: m.ResponseCode, Approved: m.ResponseCode == CodeApproved, AuthCode: m.AuthCode,
		ARC: []byte(m.ResponseCode), Trace: tr}
	if len(m.ICCData) > 0 {
		if res.ICC, err = ParseICCData(m.ICCData); err != nil {
			return AuthorizationResult{}, &ExchangeError{Op: "authorize", Trace: tr, Err: err}
		}
		if v, ok := res.ICC.Get(ICCTagIssuerAuthData); ok {
			if len(v) < 10 || len(v) > 16 {
				return AuthorizationResult{}, &ExchangeError{Op: "authorize", Trace: tr, Err: fmt.Errorf("issuer authentication data of %d bytes: %w", len(v), ErrFormat)}
			}
			res.IssuerAuthData = v
		}
	}
	return res, nil
}

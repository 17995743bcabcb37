package bankgw

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"

	"github.com/moov-io/iso8583"
	connection "github.com/moov-io/iso8583-connection"
	"github.com/volcard/volcard/pii"
)

// Applicant is the personal data of an application (field 48).
type Applicant struct {
	Name         string // NM, legal name (UTF-8)
	EmbossName   string // EN, pinyin upper case
	IDType       string // IT, "01" resident identity card ...
	IDNumber     string // ID
	BirthDate    string // BD, YYYYMMDD; mandatory when IDType is not "01"
	Phone        string // PH
	Product      string // PR, card product code
	Branch       string // BR, bank branch code
	ClothingSize string // CS, XS..XXXL
}

// LogValue implements slog.LogValuer with personal data masked.
func (a Applicant) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id_type", a.IDType),
		slog.String("id", maskKeepEnds(a.IDNumber, 0, 2)),
		slog.String("product", a.Product),
		slog.String("branch", a.Branch),
	)
}

// Format prints what LogValue logs, whatever the verb: a stray %v or %+v
// never shows the name, the ID number or the phone.
func (a Applicant) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, a.LogValue().String()) }

// ApplicationRequest asks the bank for a card (0300, field 91 = 1).
type ApplicationRequest struct {
	// ApplicationNumber is our application number, the bank's dedupe key.
	ApplicationNumber string
	Applicant         Applicant
	// Trace, when set, is used instead of allocating one (the outbox stores
	// it before sending). With Repeat the request goes out as a 0301 with
	// the same trace.
	Trace  Trace
	Repeat bool
}

// Card is the card the bank issued for an application.
type Card struct {
	PAN       string
	Expiry    string // YYMM
	PSN       string
	Reference string
	State     CardState
}

// String implements fmt.Stringer with the PAN masked.
func (c Card) String() string {
	return fmt.Sprintf("card %s exp %s psn %s state %s", pii.MaskPAN(c.PAN), c.Expiry, c.PSN, c.State)
}

// LogValue implements slog.LogValuer with the PAN masked.
func (c Card) LogValue() slog.Value {
	return slog.GroupValue(slog.String("pan", pii.MaskPAN(c.PAN)), slog.String("expiry", c.Expiry),
		slog.String("psn", c.PSN), slog.String("state", string(c.State)))
}

// ApplicationResult is the bank's approved answer to a file update.
type ApplicationResult struct {
	ApplicationNumber string
	// Card is set when the bank has a card for the application.
	Card *Card
	// Trace identifies the request that was answered.
	Trace Trace
}

// InquiryRequest asks for an application's card and state (91 = 5).
type InquiryRequest struct {
	ApplicationNumber string
	Trace             Trace
	Repeat            bool
}

// StatusChangeRequest changes the state of an application's card (91 = 2
// with ST).
type StatusChangeRequest struct {
	ApplicationNumber string
	Change            StatusChange
	// ReplaceSeq (1–99) is mandatory for StatusReplace.
	ReplaceSeq int
	Trace      Trace
	Repeat     bool
}

// HolderUpdateRequest changes the holder's data (91 = 2 without ST); empty
// fields are left unchanged.
type HolderUpdateRequest struct {
	ApplicationNumber string
	Name              string
	EmbossName        string
	Phone             string
	Branch            string
	ClothingSize      string
	Trace             Trace
	Repeat            bool
}

// ReversalRequest reverses an earlier file update (0420).
type ReversalRequest struct {
	// Original is the trace of the request reversed.
	Original Trace
	// OriginalCode is field 91 of the original.
	OriginalCode      FileUpdateCode
	ApplicationNumber string
	// Reason is ReasonTimeout or ReasonCancelled.
	Reason string
	// Trace, when set, is used for the 0420 (or, with Repeat, the 0421).
	Trace  Trace
	Repeat bool
}

// Apply sends a card application (0300 add). Approved, it returns the card;
// declined, a *DeclinedError; without an answer, ErrTimeout or
// ErrConnectionLost. Errors are wrapped in an *ExchangeError with the trace.
func (c *Client) Apply(ctx context.Context, r ApplicationRequest) (ApplicationResult, error) {
	a := r.Applicant
	if r.ApplicationNumber == "" || a.Name == "" || a.IDNumber == "" || a.IDType == "" {
		return ApplicationResult{}, fmt.Errorf("bankgw: apply: application number, name and ID required: %w", ErrInvalidConfig)
	}
	data := PrivateData{
		TagApplicationNumber: r.ApplicationNumber, TagName: a.Name, TagEmbossName: a.EmbossName,
		TagIDType: a.IDType, TagIDNumber: a.IDNumber, TagBirthDate: a.BirthDate, TagPhone: a.Phone,
		TagProduct: a.Product, TagBranch: a.Branch, TagClothingSize: a.ClothingSize,
	}
	return c.fileUpdate(ctx, "apply", FileAdd, r.ApplicationNumber, data, r.Trace, r.Repeat)
}

// Inquire asks for the application's card and its state.
func (c *Client) Inquire(ctx context.Context, r InquiryRequest) (ApplicationResult, error) {
	if r.ApplicationNumber == "" {
		return ApplicationResult{}, fmt.Errorf("bankgw: inquire: application number required: %w", ErrInvalidConfig)
	}
	return c.fileUpdate(ctx, "inquire", FileInquiry, r.ApplicationNumber,
		PrivateData{TagApplicationNumber: r.ApplicationNumber}, r.Trace, r.Repeat)
}

// ChangeStatus activates, blocks, unblocks or replaces the application's
// card; a replacement returns the new card.
func (c *Client) ChangeStatus(ctx context.Context, r StatusChangeRequest) (ApplicationResult, error) {
	if r.ApplicationNumber == "" || !r.Change.Valid() {
		return ApplicationResult{}, fmt.Errorf("bankgw: change status: application number and valid change required: %w", ErrInvalidConfig)
	}
	data := PrivateData{TagApplicationNumber: r.ApplicationNumber, TagStatus: string(r.Change)}
	if r.Change == StatusReplace {
		if r.ReplaceSeq < 1 || r.ReplaceSeq > 99 {
			return ApplicationResult{}, fmt.Errorf("bankgw: replace sequence %d: %w", r.ReplaceSeq, ErrInvalidConfig)
		}
		data[TagReplaceSeq] = strconv.Itoa(r.ReplaceSeq)
	}
	return c.fileUpdate(ctx, "change status", FileChange, r.ApplicationNumber, data, r.Trace, r.Repeat)
}

// UpdateHolder changes the holder's name, emboss name, phone, branch or
// clothing size at the bank.
func (c *Client) UpdateHolder(ctx context.Context, r HolderUpdateRequest) (ApplicationResult, error) {
	if r.ApplicationNumber == "" {
		return ApplicationResult{}, fmt.Errorf("bankgw: update holder: application number required: %w", ErrInvalidConfig)
	}
	data := PrivateData{TagApplicationNumber: r.ApplicationNumber, TagName: r.Name, TagEmbossName: r.EmbossName,
		TagPhone: r.Phone, TagBranch: r.Branch, TagClothingSize: r.ClothingSize}
	return c.fileUpdate(ctx, "update holder", FileChange, r.ApplicationNumber, data, r.Trace, r.Repeat)
}

func (c *Client) fileUpdate(ctx context.Context, op string, code FileUpdateCode, an string, data PrivateData, tr Trace, repeat bool) (ApplicationResult, error) {
	pd, err := data.Encode()
	if err != nil {
		return ApplicationResult{}, fmt.Errorf("bankgw: %s: %w", op, err)
	}
	if tr.IsZero() {
		if repeat {
			return ApplicationResult{}, fmt.Errorf("bankgw: %s: repeat without trace: %w", op, ErrInvalidConfig)
		}
		if tr, err = c.NewTrace(ctx, MTIFileUpdateRequest); err != nil {
			return ApplicationResult{}, err
		}
	}
	tr.MTI = MTIFileUpdateRequest
	h := c.headerFor(tr)
	if repeat {
		h.MTI = MTIFileUpdateRepeat
	}
	msg, err := NewMessage(&FileUpdateMessage{Header: h, RRN: tr.RRN, PrivateData: pd,
		FileUpdateCode: string(code), FileName: FileName})
	if err != nil {
		return ApplicationResult{}, &ExchangeError{Op: op, Trace: tr, Err: err}
	}
	resp, err := c.exchange(ctx, msg)
	if err != nil {
		return ApplicationResult{}, &ExchangeError{Op: op, Trace: tr, Err: err}
	}
	res, rc, text, err := decodeFileUpdateResponse(resp)
	if err != nil {
		return ApplicationResult{}, &ExchangeError{Op: op, Trace: tr, Err: err}
	}
	if res.ApplicationNumber != an {
		return ApplicationResult{}, &ExchangeError{Op: op, Trace: tr, Err: fmt.Errorf("application number not echoed: %w", ErrUnexpectedResponse)}
	}
	if rc != CodeApproved {
		return ApplicationResult{}, &ExchangeError{Op: op, Trace: tr, Err: &DeclinedError{Code: rc, Reason: reasonFor(rc, text)}}
	}
	res.Trace = tr
	return res, nil
}

// reasonFor is a decline's reason: the bank's text (masked, shortened),
// or the meaning of the response code when the bank sent none.
func reasonFor(rc, text string) string {
	if text != "" {
		return declineReason(text)
	}
	return CodeReason(rc)
}

func decodeFileUpdateResponse(resp *iso8583.Message) (ApplicationResult, string, string, error) {
	var m FileUpdateMessage
	if err := Decode(resp, &m); err != nil {
		return ApplicationResult{}, "", "", err
	}
	if m.MTI != MTIFileUpdateResponse {
		return ApplicationResult{}, "", "", fmt.Errorf("MTI %s: %w", m.MTI, ErrUnexpectedResponse)
	}
	pd, err := ParsePrivateData(m.PrivateData)
	if err != nil {
		return ApplicationResult{}, "", "", err
	}
	res := ApplicationResult{ApplicationNumber: pd[TagApplicationNumber],
		Trace: Trace{MTI: MTIFileUpdateRequest, STAN: m.STAN, RRN: m.RRN}}
	if m.PAN != "" {
		res.Card = &Card{PAN: m.PAN, Expiry: m.Expiry, PSN: m.PSN, Reference: pd[TagCardReference], State: CardState(pd[TagStatus])}
	}
	return res, m.ResponseCode, pd[TagDeclineText], nil
}

// Reverse reverses an earlier file update (0420, or 0421 with Repeat).
// The bank answers 00 also when there was nothing to reverse.
func (c *Client) Reverse(ctx context.Context, r ReversalRequest) error {
	if r.Original.IsZero() || r.ApplicationNumber == "" || (r.Reason != ReasonTimeout && r.Reason != ReasonCancelled) {
		return fmt.Errorf("bankgw: reverse: original trace, application number and reason required: %w", ErrInvalidConfig)
	}
	tr := r.Trace
	if tr.IsZero() {
		if r.Repeat {
			return fmt.Errorf("bankgw: reverse: repeat without trace: %w", ErrInvalidConfig)
		}
		var err error
		if tr, err = c.NewTrace(ctx, MTIReversalRequest); err != nil {
			return err
		}
	}
	tr.MTI = MTIReversalRequest
	tr.RRN = r.Original.RRN
	h := c.headerFor(tr)
	if r.Repeat {
		h.MTI = MTIReversalRepeat
	}
	pd, err := PrivateData{TagApplicationNumber: r.ApplicationNumber}.Encode()
	if err != nil {
		return err
	}
	orig := r.Original.MTI
	if orig == "" {
		orig = MTIFileUpdateRequest
	}
	msg, err := NewMessage(&ReversalMessage{Header: h, RRN: r.Original.RRN, ResponseCode: r.Reason, PrivateData: pd,
		OriginalData:   OriginalData(orig, r.Original.STAN, r.Original.Transmission()),
		FileUpdateCode: string(r.OriginalCode), FileName: FileName})
	if err != nil {
		return &ExchangeError{Op: "reverse", Trace: tr, Err: err}
	}
	resp, err := c.exchange(ctx, msg)
	if err != nil {
		return &ExchangeError{Op: "reverse", Trace: tr, Err: err}
	}
	var m ReversalMessage
	if err := Decode(resp, &m); err != nil {
		return &ExchangeError{Op: "reverse", Trace: tr, Err: err}
	}
	if m.MTI != MTIReversalResponse {
		return &ExchangeError{Op: "reverse", Trace: tr, Err: ErrUnexpectedResponse}
	}
	if m.ResponseCode != CodeApproved {
		return &ExchangeError{Op: "reverse", Trace: tr, Err: &DeclinedError{Code: m.ResponseCode, Reason: CodeReason(m.ResponseCode)}}
	}
	return nil
}

// AdviceKind tells activation from spending advices.
type AdviceKind string

// Advice kinds.
const (
	AdviceActivation AdviceKind = "activation"
	AdviceSpending   AdviceKind = "spending"
	// AdviceRefund is a refund of a purchase (field 3 200000, interface
	// version 1.1): its amount is subtracted from the donation rebates.
	AdviceRefund AdviceKind = "refund"
)

// Advice is a 0220/0221 from the bank. Handlers deduplicate by RRN and Kind.
type Advice struct {
	Kind   AdviceKind
	Repeat bool
	PAN    string
	// Amount is in fen (spending only); Currency is "156".
	Amount            int64
	Currency          string
	STAN              string
	RRN               string
	Transmission      string // field 7, MMDDhhmmss UTC
	LocalDate         string // MMDD Beijing
	LocalTime         string // hhmmss Beijing
	MCC               string
	AuthCode          string
	TerminalID        string
	MerchantID        string
	MerchantName      string
	ApplicationNumber string
	CardReference     string
}

// LogValue implements slog.LogValuer with the PAN masked.
func (a Advice) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kind", string(a.Kind)), slog.String("rrn", a.RRN),
		slog.String("pan", pii.MaskPAN(a.PAN)), slog.Int64("amount", a.Amount))
}

// Format prints what LogValue logs, whatever the verb (the PAN masked).
func (a Advice) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, a.LogValue().String()) }

// LateResponse is a response that arrived after its request timed out, or
// a second copy of a response.
type LateResponse struct {
	MTI          string
	STAN         string
	Transmission string
	RRN          string
	ResponseCode string
	// Result is set for a 0310.
	Result *ApplicationResult
	// Reason is the decline reason of a 0310 that is not approved: the
	// bank's text (masked and shortened as for an answer in time), or the
	// response code's meaning when the bank sent none.
	Reason string
}

// LogValue implements slog.LogValuer.
func (l LateResponse) LogValue() slog.Value {
	return slog.GroupValue(slog.String("mti", l.MTI), slog.String("stan", l.STAN),
		slog.String("rrn", l.RRN), slog.String("rc", l.ResponseCode))
}

func (c *Client) inbound(conn *connection.Connection, msg *iso8583.Message) {
	mti, _ := msg.GetMTI()
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.RequestTimeout)
	defer cancel()
	switch mti {
	case MTIAdvice, MTIAdviceRepeat:
		c.handleAdvice(ctx, conn, msg)
	case MTINetworkRequest:
		c.answerNetwork(conn, msg)
	case MTINetworkResponse, MTIFileUpdateResponse, MTIReversalResponse, MTIAdviceResponse:
		c.late(ctx, msg)
	default:
		c.log.Warn("bankgw: unexpected message from bank, ignored", slog.Any("msg", logMessage(msg)))
	}
}

func (c *Client) late(ctx context.Context, msg *iso8583.Message) {
	var h struct {
		Header
		RRN          string `iso8583:"37"`
		ResponseCode string `iso8583:"39"`
		NetworkCode  string `iso8583:"70"`
	}
	if err := Decode(msg, &h); err != nil {
		c.log.Warn("bankgw: undecodable late response", slog.String("err", err.Error()))
		return
	}
	if h.MTI == MTINetworkResponse && h.NetworkCode == NetworkSignOff {
		return // answer to our sign-off, written without waiting
	}
	lr := LateResponse{MTI: h.MTI, STAN: h.STAN, Transmission: h.TransmissionDateTime, RRN: h.RRN, ResponseCode: h.ResponseCode}
	if h.MTI == MTIFileUpdateResponse {
		if res, rc, text, err := decodeFileUpdateResponse(msg); err == nil {
			lr.Result = &res
			if rc != CodeApproved {
				lr.Reason = reasonFor(rc, text)
			}
		}
	}
	c.m.lateResponse(h.MTI)
	c.log.Info("bankgw: late or duplicate response", slog.Any("resp", lr))
	if c.cfg.LateResponseHandler != nil {
		c.cfg.LateResponseHandler(ctx, lr)
	}
}

func (c *Client) answerNetwork(conn *connection.Connection, msg *iso8583.Message) {
	var m NetworkMessage
	if err := Decode(msg, &m); err != nil {
		return
	}
	m.MTI = MTINetworkResponse
	m.ResponseCode = CodeApproved
	if m.NetworkCode != NetworkEcho {
		m.ResponseCode = CodeInvalidTxn
	}
	c.reply(conn, &m)
}

func (c *Client) handleAdvice(ctx context.Context, conn *connection.Connection, msg *iso8583.Message) {
	var m AdviceMessage
	if err := Decode(msg, &m); err != nil {
		return
	}
	resp := AdviceMessage{Header: m.Header, ProcessingCode: m.ProcessingCode, Amount: m.Amount, RRN: m.RRN, Currency: m.Currency}
	resp.MTI = MTIAdviceResponse
	resp.ResponseCode = c.applyAdvice(ctx, m)
	kind := AdviceKind("")
	switch m.ProcessingCode {
	case ProcessingActivation:
		kind = AdviceActivation
	case ProcessingSpending:
		kind = AdviceSpending
	case ProcessingRefund:
		kind = AdviceRefund
	}
	c.m.advice(m.MTI, kind, resp.ResponseCode)
	c.reply(conn, &resp)
}

func (c *Client) applyAdvice(ctx context.Context, m AdviceMessage) string {
	a := Advice{Repeat: m.MTI == MTIAdviceRepeat, PAN: m.PAN, Currency: m.Currency, STAN: m.STAN, RRN: m.RRN,
		Transmission: m.TransmissionDateTime, LocalDate: m.LocalDate, LocalTime: m.LocalTime, MCC: m.MCC,
		AuthCode: m.AuthCode, TerminalID: m.TerminalID, MerchantID: m.InstitutionID, MerchantName: m.AcceptorName}
	switch m.ProcessingCode {
	case ProcessingActivation:
		a.Kind = AdviceActivation
	case ProcessingSpending, ProcessingRefund:
		a.Kind = AdviceSpending
		if m.ProcessingCode == ProcessingRefund {
			a.Kind = AdviceRefund
		}
		n, err := strconv.ParseInt(m.Amount, 10, 64)
		if err != nil || m.Currency != CurrencyCNY {
			return CodeFormatError
		}
		a.Amount = n
	default:
		return CodeInvalidTxn
	}
	if m.PAN == "" || m.RRN == "" {
		return CodeFormatError
	}
	pd, err := ParsePrivateData(m.PrivateData)
	if err != nil {
		return CodeFormatError
	}
	a.ApplicationNumber, a.CardReference = pd[TagApplicationNumber], pd[TagCardReference]
	if c.cfg.AdviceHandler == nil {
		c.log.Warn("bankgw: advice refused, no handler", slog.Any("advice", a))
		return CodeSystemMalfunction
	}
	if err := c.cfg.AdviceHandler(ctx, a); err != nil {
		c.log.Warn("bankgw: advice handler failed", slog.Any("advice", a), slog.String("err", err.Error()))
		return CodeSystemMalfunction
	}
	return CodeApproved
}

func (c *Client) reply(conn *connection.Connection, v any) {
	msg, err := NewMessage(v)
	if err == nil {
		err = conn.Reply(msg)
	}
	if err != nil {
		c.log.Warn("bankgw: reply failed", slog.String("err", err.Error()))
	}
}

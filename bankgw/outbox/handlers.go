package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/pii"
)

// Handlers plugs the outbox into bankgw.Config: Advice is its
// AdviceHandler, LateResponse its LateResponseHandler. Build it before the
// Client (the worker needs the Client, the Client needs these).
type Handlers struct {
	svc *issuance.Service
	box Rows
	log *slog.Logger
}

// NewHandlers returns the handlers over the Service and the outbox's rows.
func NewHandlers(svc *issuance.Service, box Rows, log *slog.Logger) (*Handlers, error) {
	if svc == nil || box == nil {
		return nil, fmt.Errorf("service and outbox required: %w", ErrInvalidConfig)
	}
	if log == nil {
		log = slog.Default()
	}
	return &Handlers{svc: svc, box: box, log: log}, nil
}

// Advice stores a 0220/0221 idempotently before the 0230 goes out:
// activation → one bank_advices row per RRN, the card active and its
// application activated (a repeat changes nothing); for a card we do not
// know yet the advice is parked and applied when the bank's approval is
// recorded; spending and refund → one card_spending row per RRN and kind. An error
// makes the client answer 96, so the bank repeats.
func (h *Handlers) Advice(ctx context.Context, a bankgw.Advice) error {
	ref := issuance.CardRef{PAN: pii.NewSecret(pii.KindOther, a.PAN), ApplicationNumber: a.ApplicationNumber}
	switch a.Kind {
	case bankgw.AdviceActivation:
		out, err := h.svc.RecordActivationAdvice(ctx, a.RRN, ref)
		if err != nil {
			return fmt.Errorf("activation advice rrn %s: %w", a.RRN, err)
		}
		switch out {
		case issuance.AdviceParked:
			h.log.Warn("outbox: activation advice for a card we do not know yet, parked until the card is recorded",
				slog.String("rrn", a.RRN), slog.String("pan", pii.MaskPAN(a.PAN)))
		default:
			h.log.Info("outbox: card activated by the holder", slog.String("rrn", a.RRN),
				slog.String("pan", pii.MaskPAN(a.PAN)), slog.String("outcome", string(out)))
		}
		return nil
	case bankgw.AdviceSpending, bankgw.AdviceRefund:
		n, err := h.svc.RecordCardSpending(ctx, ref, issuance.Spending{RRN: a.RRN, Kind: string(a.Kind), Amount: a.Amount,
			Currency: a.Currency, MCC: a.MCC, MerchantName: a.MerchantName, LocalDate: a.LocalDate, LocalTime: a.LocalTime})
		if err != nil {
			return fmt.Errorf("spending advice rrn %s: %w", a.RRN, err)
		}
		h.log.Info("outbox: spending advice", slog.String("rrn", a.RRN), slog.Bool("new", n), slog.Int64("amount", a.Amount))
		return nil
	}
	return fmt.Errorf("advice kind %q: %w", a.Kind, ErrInvalidConfig)
}

// LateResponse applies a 0310 or 0430 that arrived after its request timed
// out (or a duplicate), to an add or a status change. It is applied only
// when it answers the current trace of a still unresolved row — an answer to a request that has since
// been reversed is ignored — and then in one transaction with the
// application change, so a duplicate finds the row done and does nothing.
func (h *Handlers) LateResponse(ctx context.Context, lr bankgw.LateResponse) {
	if err := h.late(ctx, lr); err != nil && !errors.Is(err, ErrLeaseLost) {
		h.log.Warn("outbox: late response not applied", slog.Any("resp", lr), slog.String("err", err.Error()))
	}
}

func (h *Handlers) late(ctx context.Context, lr bankgw.LateResponse) error {
	switch lr.MTI {
	case bankgw.MTIFileUpdateResponse:
		if lr.Result == nil || lr.Result.ApplicationNumber == "" {
			return nil
		}
		r, err := h.box.OpenBankRequest(ctx, lr.Result.ApplicationNumber, KindApply)
		if err != nil {
			if errors.Is(err, issuance.ErrNotFound) {
				// no open add: an answer to a status change, or a duplicate
				return h.lateStatusChange(ctx, lr)
			}
			return err
		}
		if r.State == StateWaiting || r.Trace.RRN != lr.RRN || r.Trace.STAN != lr.STAN {
			return nil // answers a request we reversed or replaced
		}
		switch code := lr.ResponseCode; {
		case code == bankgw.CodeApproved && lr.Result.Card != nil:
			c := lr.Result.Card
			card := issuance.IssuedCard{PAN: pii.NewSecret(pii.KindOther, c.PAN), Expiry: c.Expiry, PSN: c.PSN, Reference: c.Reference}
			return resolveRow(ctx, h.svc, h.box, &r, "", code, func(ctx context.Context) error {
				_, err := h.svc.RecordBankApproval(ctx, r.ApplicationID, card)
				return err
			})
		case code == bankgw.CodeApproved, code == bankgw.CodeIssuerUnavailable, code == bankgw.CodeSystemMalfunction,
			code == bankgw.CodeFormatError:
			return nil // the worker repeats the request
		default:
			return resolveRow(ctx, h.svc, h.box, &r, "", code, func(ctx context.Context) error {
				reason := lr.Reason
				if reason == "" {
					reason = bankgw.CodeReason(code)
				}
				_, err := h.svc.RecordBankDecline(ctx, r.ApplicationID, code, reason)
				return err
			})
		}
	case bankgw.MTIReversalResponse:
		if lr.ResponseCode != bankgw.CodeApproved {
			return nil
		}
		r, err := h.lateReversal(ctx, lr)
		if err != nil || r.ID == 0 {
			return err
		}
		return resolveRow(ctx, h.svc, h.box, &r, "", lr.ResponseCode, func(ctx context.Context) error {
			return reopen(ctx, h.box, r, time.Now())
		})
	}
	return nil
}

// lateReversal finds the open reversal a 0430 answers: its RRN is the
// original's, which is the parked apply's trace.
func (h *Handlers) lateReversal(ctx context.Context, lr bankgw.LateResponse) (Request, error) {
	r, err := h.box.OpenBankRequestByRRN(ctx, lr.RRN, KindReversal)
	if errors.Is(err, issuance.ErrNotFound) {
		return Request{}, nil
	}
	if err != nil {
		return Request{}, err
	}
	if r.Trace.STAN != lr.STAN {
		return Request{}, nil
	}
	return r, nil
}

package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/pii"
)

// statusChange sends a status_change row: a 0300 change (field 91 = 2)
// with ST B, U, R, N (renew) or C (close) (docs/bank-interface.md section
// 7.1). A status change is
// idempotent at the bank (same target state → 00; a replacement is done
// once per application number and RS; a repeat with the same trace is
// answered as the original), so a request without an answer is repeated as
// 0301 with the same trace until the bank answers — never reversed: soon
// for the first Config.Repeats repeats, then with exponential back-off.
func (w *Worker) statusChange(ctx context.Context, r Request) error {
	var ch issuance.CardStatusChange
	if err := json.Unmarshal(r.Payload, &ch); err != nil || ch.CardID == 0 || !ch.Change.Valid() {
		return w.fail(ctx, &r, "", "status change payload unreadable", "outbox: status change payload unreadable; needs an operator")
	}
	tr, repeat, err := w.prepare(ctx, &r, bankgw.MTIFileUpdateRequest, "")
	if err != nil {
		if errors.Is(err, ErrCrash) || errors.Is(err, ErrLeaseLost) || ctx.Err() != nil {
			return err
		}
		return w.retry(ctx, &r, err, false)
	}
	res, err := w.cfg.Gateway.ChangeStatus(ctx, bankgw.StatusChangeRequest{ApplicationNumber: r.ApplicationNumber,
		Change: bankgw.StatusChange(ch.Change.BankStatus()), ReplaceSeq: ch.ReplaceSeq, Trace: tr, Repeat: repeat})
	if ctx.Err() != nil {
		return ctx.Err() // the row stays sent; Run releases it
	}
	if err := w.hook(ctx, PointSent, r); err != nil {
		return err
	}
	var de *bankgw.DeclinedError
	switch {
	case err == nil:
		if (ch.Change == issuance.CardChangeReplace || ch.Change == issuance.CardChangeRenew) && res.Card == nil {
			return w.fail(ctx, &r, bankgw.CodeApproved, string(ch.Change)+" approved without a card",
				"outbox: bank approved a replacement or renewal without a card; needs an operator")
		}
		if ch.Change == issuance.CardChangeRenew && w.cfg.Renewal != "" {
			same, err := w.cfg.Service.CardHasPAN(ctx, ch.CardID, pii.NewSecret(pii.KindOther, res.Card.PAN))
			if err != nil {
				return w.retry(ctx, &r, err, false)
			}
			if same != (w.cfg.Renewal == issuance.RenewSamePAN) {
				return w.fail(ctx, &r, bankgw.CodeApproved, "renewal answered against the bank's rule "+string(w.cfg.Renewal),
					"outbox: bank answered a renewal against its declared rule; needs an operator")
			}
		}
		return w.resolve(ctx, &r, r.LeaseOwner, bankgw.CodeApproved, func(ctx context.Context) error {
			return w.cfg.Service.RecordCardStatusChange(ctx, ch, cardStatus(res))
		})
	case errors.As(err, &de) && de.Temporary():
		return w.retry(ctx, &r, err, false)
	case errors.As(err, &de):
		if de.Code == bankgw.CodeFormatError {
			w.log.Error("outbox: bank refused our status change as malformed; needs an operator",
				slog.Int64("row", r.ID), slog.String("application", r.ApplicationNumber))
		} else {
			w.log.Warn("outbox: bank refused a status change", slog.Int64("row", r.ID),
				slog.String("application", r.ApplicationNumber), slog.String("change", string(ch.Change)), slog.String("rc", de.Code))
		}
		return w.resolve(ctx, &r, r.LeaseOwner, de.Code, func(ctx context.Context) error {
			return w.cfg.Service.RecordCardChangeRefused(ctx, ch, de.Code, de.Reason)
		})
	case errors.Is(err, bankgw.ErrUnavailable):
		r.MaybeSent = repeat // not sent this time
		return w.retry(ctx, &r, err, false)
	case errors.Is(err, bankgw.ErrTimeout), errors.Is(err, bankgw.ErrConnectionLost):
		r.Repeats++
		return w.retry(ctx, &r, err, r.Repeats <= w.cfg.Repeats)
	default:
		return w.retry(ctx, &r, err, false)
	}
}

// cardStatus maps the bank's answer to a status change.
func cardStatus(res bankgw.ApplicationResult) issuance.BankCardStatus {
	if res.Card == nil {
		return issuance.BankCardStatus{}
	}
	c := res.Card
	return issuance.BankCardStatus{BankState: string(c.State), Card: &issuance.IssuedCard{
		PAN: pii.NewSecret(pii.KindOther, c.PAN), Expiry: c.Expiry, PSN: c.PSN, Reference: c.Reference}}
}

// lateStatusChange applies a late or duplicate 0310 to the open
// status_change row of the application it answers, when it answers that
// row's current trace.
func (h *Handlers) lateStatusChange(ctx context.Context, lr bankgw.LateResponse) error {
	r, err := h.box.OpenBankRequest(ctx, lr.Result.ApplicationNumber, KindStatusChange)
	if err != nil {
		if errors.Is(err, issuance.ErrNotFound) {
			return nil // resolved already: a duplicate
		}
		return err
	}
	if r.Trace.RRN != lr.RRN || r.Trace.STAN != lr.STAN {
		return nil
	}
	var ch issuance.CardStatusChange
	if err := json.Unmarshal(r.Payload, &ch); err != nil || !ch.Change.Valid() {
		return nil // the worker fails the row
	}
	switch code := lr.ResponseCode; {
	case code == bankgw.CodeApproved:
		if (ch.Change == issuance.CardChangeReplace || ch.Change == issuance.CardChangeRenew) && lr.Result.Card == nil {
			return nil
		}
		return resolveRow(ctx, h.svc, h.box, &r, "", code, func(ctx context.Context) error {
			return h.svc.RecordCardStatusChange(ctx, ch, cardStatus(*lr.Result))
		})
	case code == bankgw.CodeIssuerUnavailable, code == bankgw.CodeSystemMalfunction:
		return nil // the worker repeats the request
	default:
		return resolveRow(ctx, h.svc, h.box, &r, "", code, func(ctx context.Context) error {
			return h.svc.RecordCardChangeRefused(ctx, ch, code, bankgw.CodeReason(code))
		})
	}
}

package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/issuance"
)

// holderUpdate sends a holder_update row: a 0300 change (field 91 = 2)
// without ST, carrying the holder's current name, emboss name and phone as
// they are when it leaves (a later edit's row sends the same or newer data,
// so rows may go in any order). Setting data is idempotent at the bank, so
// a request without an answer is repeated as 0301 with the same trace until
// the bank answers — never reversed, as a status change. A refusal (say 25:
// the bank has no card for the application) ends the row done with the
// bank's code and a warning; a format error ends it failed for an
// operator.
func (w *Worker) holderUpdate(ctx context.Context, r Request) error {
	var hu issuance.HolderUpdate
	if err := json.Unmarshal(r.Payload, &hu); err != nil || len(hu.Fields) == 0 {
		return w.fail(ctx, &r, "", "holder update payload unreadable", "outbox: holder update payload unreadable; needs an operator")
	}
	tr, repeat, err := w.prepare(ctx, &r, bankgw.MTIFileUpdateRequest, "")
	if err != nil {
		if errors.Is(err, ErrCrash) || errors.Is(err, ErrLeaseLost) || ctx.Err() != nil {
			return err
		}
		return w.retry(ctx, &r, err, false)
	}
	a, err := w.cfg.Service.BankApplicant(ctx, r.ApplicationID)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		r.MaybeSent = repeat
		return w.retry(ctx, &r, err, false)
	}
	req := bankgw.HolderUpdateRequest{ApplicationNumber: r.ApplicationNumber, Trace: tr, Repeat: repeat}
	for _, f := range hu.Fields {
		switch f {
		case "name":
			req.Name, req.EmbossName = a.Name.Reveal(), a.EmbossName
		case "phone":
			req.Phone = a.Phone.Reveal()
		}
	}
	_, err = w.cfg.Gateway.UpdateHolder(ctx, req)
	if ctx.Err() != nil {
		return ctx.Err() // the row stays sent; Run releases it
	}
	if err := w.hook(ctx, PointSent, r); err != nil {
		return err
	}
	var de *bankgw.DeclinedError
	switch {
	case err == nil:
		return w.resolve(ctx, &r, r.LeaseOwner, bankgw.CodeApproved, func(context.Context) error { return nil })
	case errors.As(err, &de) && de.Temporary():
		return w.retry(ctx, &r, err, false)
	case errors.As(err, &de) && de.Code == bankgw.CodeFormatError:
		return w.fail(ctx, &r, de.Code, errText(err), "outbox: bank refused our holder update as malformed; needs an operator")
	case errors.As(err, &de):
		w.log.Warn("outbox: bank refused a holder update", slog.Int64("row", r.ID),
			slog.String("application", r.ApplicationNumber), slog.String("rc", de.Code))
		return w.resolve(ctx, &r, r.LeaseOwner, de.Code, func(context.Context) error { return nil })
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

package outbox

// Operator tooling for the outbox (volcard outbox, the admin API): list
// rows, send a failed row again, or give it up with a reason. Who may do
// it is the domain's rule (issuance.AuthorizeBankOutbox); what a cancelled
// status change leaves on its card is the domain's transition
// (issuance.Service.RecordCardChangeRefused).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/volcard/volcard/issuance"
)

// Filter selects rows for an operator. Zero fields match everything; Limit
// defaults to 100 (at most 1000); rows come newest first, below BeforeID
// when it is set.
type Filter struct {
	State State
	Kind  Kind
	// Bank, when set, keeps the rows of applications for that bank code.
	Bank     string
	Limit    int
	BeforeID int64
}

// View is a row as operators see it: besides the row (which holds no
// personal data) only the last four digits of the application's current
// card.
type View struct {
	Request
	CardLastFour string
}

// AdminRows is the storage of the operators' commands. issuance/store
// implements it.
type AdminRows interface {
	RowStore
	// ListBankRequests returns rows matching f, newest first.
	ListBankRequests(ctx context.Context, f Filter) ([]Request, error)
	// ResetFailedBankRequest makes a failed row pending and due at now,
	// with no trace (the next send is a new request with a new STAN),
	// counters at zero and note as its last error. A missing row is
	// issuance.ErrNotFound, a row that is not failed a
	// *issuance.ConflictError ("bank_request_state").
	ResetFailedBankRequest(ctx context.Context, id int64, note string, now time.Time) error
	// CancelFailedBankRequest moves a failed row to cancelled with note as
	// its last error; errors as ResetFailedBankRequest.
	CancelFailedBankRequest(ctx context.Context, id int64, note string) error
}

// Admin runs the operators' commands on the outbox. Build it with
// NewAdmin; it is safe for concurrent use.
type Admin struct {
	svc  *issuance.Service
	rows AdminRows
	log  *slog.Logger
}

// NewAdmin returns the operators' commands over the Service (authorization,
// cards, transactions, clock) and the outbox's rows on the same storage.
// log defaults to slog.Default().
func NewAdmin(svc *issuance.Service, rows AdminRows, log *slog.Logger) (*Admin, error) {
	if svc == nil || rows == nil {
		return nil, fmt.Errorf("service and rows required: %w", ErrInvalidConfig)
	}
	if log == nil {
		log = slog.Default()
	}
	return &Admin{svc: svc, rows: rows, log: log}, nil
}

// List returns rows for a province admin (or the system: the volcard
// command line), newest first, each with the last four digits of its
// application's current card.
func (ad *Admin) List(ctx context.Context, a issuance.Actor, f Filter) ([]View, error) {
	if err := issuance.AuthorizeBankOutbox(a); err != nil {
		return nil, err
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 1000)
	if f.Bank != "" {
		// A bank code no product uses is a typo: listing nothing would
		// look like good news.
		ps, err := ad.svc.ListProducts(ctx)
		if err != nil {
			return nil, fmt.Errorf("list bank requests: %w", err)
		}
		known := false
		for _, p := range ps {
			known = known || p.BankCode == f.Bank
		}
		if !known {
			return nil, &issuance.ValidationError{Field: "bank", Reason: "no product of the catalog issues through bank " + f.Bank}
		}
	}
	rows, err := ad.rows.ListBankRequests(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list bank requests: %w", err)
	}
	out := make([]View, len(rows))
	last := map[int64]string{}
	for i, r := range rows {
		out[i].Request = r
		l, ok := last[r.ApplicationID]
		if !ok {
			if c, err := ad.svc.CardOf(ctx, r.ApplicationID); err == nil {
				l = c.LastFour
			} else if !errors.Is(err, issuance.ErrNotFound) {
				return nil, fmt.Errorf("list bank requests: %w", err)
			}
			last[r.ApplicationID] = l
		}
		out[i].CardLastFour = l
	}
	return out, nil
}

// Retry sends a failed row again, as a new request (new STAN, field 7 and
// RRN; a reversal keeps the original's RRN): the bank deduplicates adds by
// application number and status changes by target state, so this is safe.
// Only failed rows can be retried.
func (ad *Admin) Retry(ctx context.Context, a issuance.Actor, id int64, reason string) (Request, error) {
	if err := issuance.AuthorizeBankOutbox(a); err != nil {
		return Request{}, err
	}
	var r Request
	err := ad.svc.InTx(ctx, func(ctx context.Context) error {
		err := ad.rows.ResetFailedBankRequest(ctx, id, operatorNote("retried", a, reason), ad.svc.Now())
		if err != nil {
			return err
		}
		r, err = ad.rows.GetBankRequest(ctx, id)
		return err
	})
	if err != nil {
		return Request{}, fmt.Errorf("retry bank request %d: %w", id, err)
	}
	ad.log.WarnContext(ctx, "bank request retried by an operator", slog.Int64("row", id),
		slog.String("application", r.ApplicationNumber), slog.String("kind", string(r.Kind)), slog.Int64("token", a.TokenID))
	return r, nil
}

// Cancel gives up a failed row for good, with a reason (required). What it
// leaves behind depends on the kind: a cancelled status change drops the
// card's pending change (the card keeps its state); a cancelled reversal
// sends its add afresh (idempotent at the bank: the same card comes back);
// a cancelled add leaves the application in bank_pending, where nothing
// moves it any more.
func (ad *Admin) Cancel(ctx context.Context, a issuance.Actor, id int64, reason string) (Request, error) {
	if err := issuance.AuthorizeBankOutbox(a); err != nil {
		return Request{}, err
	}
	if strings.TrimSpace(reason) == "" {
		return Request{}, &issuance.ValidationError{Field: "reason", Reason: "required"}
	}
	var r Request
	err := ad.svc.InTx(ctx, func(ctx context.Context) error {
		note := operatorNote("cancelled", a, reason)
		err := ad.rows.CancelFailedBankRequest(ctx, id, note)
		if err != nil {
			return err
		}
		if r, err = ad.rows.GetBankRequest(ctx, id); err != nil {
			return err
		}
		switch r.Kind {
		case KindStatusChange:
			var ch issuance.CardStatusChange
			if json.Unmarshal(r.Payload, &ch) != nil || ch.CardID == 0 {
				return nil
			}
			return ad.svc.RecordCardChangeRefused(ctx, ch, "", note)
		case KindReversal:
			return reopen(ctx, ad.rows, r, ad.svc.Now())
		}
		return nil
	})
	if err != nil {
		return Request{}, fmt.Errorf("cancel bank request %d: %w", id, err)
	}
	ad.log.WarnContext(ctx, "bank request cancelled by an operator", slog.Int64("row", id),
		slog.String("application", r.ApplicationNumber), slog.String("kind", string(r.Kind)), slog.Int64("token", a.TokenID))
	return r, nil
}

// operatorNote is the last error an operator's command leaves on a row:
// the verb, the token and the reason, at most 300 characters.
func operatorNote(verb string, a issuance.Actor, reason string) string {
	n := verb + " by an operator"
	if a.TokenID != 0 {
		n = fmt.Sprintf("%s (token %d)", n, a.TokenID)
	}
	if reason = strings.TrimSpace(reason); reason != "" {
		n += ": " + reason
	}
	if r := []rune(n); len(r) > 300 {
		n = string(r[:300])
	}
	return n
}

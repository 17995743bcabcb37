package issuance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Operator tooling for the bank outbox (volcard outbox, the admin API):
// list rows, send a failed row again, or give it up with a reason.

// BankRequestFilter selects outbox rows for an operator. Zero fields match
// everything; Limit defaults to 100 (at most 1000); rows come newest
// first, below BeforeID when it is set.
type BankRequestFilter struct {
	State    BankRequestState
	Kind     BankRequestKind
	Limit    int
	BeforeID int64
}

// BankRequestCount is the number of outbox rows of one kind in one state.
type BankRequestCount struct {
	Kind  BankRequestKind
	State BankRequestState
	N     int64
}

// BankOutboxStats is what the outbox gauges show. Rows done or cancelled
// are not counted.
type BankOutboxStats struct {
	Rows []BankRequestCount
	// OldestOpen is the creation time of the oldest row not yet done,
	// failed or cancelled (zero when there is none).
	OldestOpen time.Time
	// ParkedAdvices counts advices for cards we do not know yet; Stale
	// those of them received before the staleBefore time asked for.
	ParkedAdvices      int64
	StaleParkedAdvices int64
}

// BankOutboxAdmin is the operators' access to the outbox. issuance/store
// implements it; the Service finds it on its Store by type assertion.
type BankOutboxAdmin interface {
	// ListBankRequests returns rows matching f, newest first.
	ListBankRequests(ctx context.Context, f BankRequestFilter) ([]BankRequest, error)
	// ResetFailedBankRequest makes a failed row pending and due at now,
	// with no trace (the next send is a new request with a new STAN),
	// counters at zero and note as its last error. A row that is not
	// failed is a *ConflictError ("bank_request_state").
	ResetFailedBankRequest(ctx context.Context, id int64, note string, now time.Time) error
	// CancelFailedBankRequest moves a failed row to cancelled with note as
	// its last error; a row that is not failed is a *ConflictError
	// ("bank_request_state").
	CancelFailedBankRequest(ctx context.Context, id int64, note string) error
	// BankOutboxStats counts the open rows and parked advices (cheap: small
	// partial indexes).
	BankOutboxStats(ctx context.Context, staleBefore time.Time) (BankOutboxStats, error)
}

// outboxAdminStore is a store with the outbox and its operator access.
type outboxAdminStore interface {
	BankOutbox
	BankOutboxAdmin
}

func (s *Service) outboxAdmin() (outboxAdminStore, error) {
	o, ok := s.store.(outboxAdminStore)
	if !ok {
		return nil, errors.New("issuance: the store has no bank outbox")
	}
	return o, nil
}

// BankRequestView is an outbox row as operators see it: besides the row
// (which holds no personal data) only the last four digits of the
// application's current card.
type BankRequestView struct {
	BankRequest
	CardLastFour string
}

// ListBankRequests returns outbox rows for a province admin (or the
// system: the volcard command line), newest first.
func (s *Service) ListBankRequests(ctx context.Context, a Actor, f BankRequestFilter) ([]BankRequestView, error) {
	if err := requireRole(a, RoleProvinceAdmin, RoleSystem); err != nil {
		return nil, err
	}
	o, err := s.outboxAdmin()
	if err != nil {
		return nil, err
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 1000)
	rows, err := o.ListBankRequests(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list bank requests: %w", err)
	}
	out := make([]BankRequestView, len(rows))
	last := map[int64]string{}
	for i, r := range rows {
		out[i].BankRequest = r
		l, ok := last[r.ApplicationID]
		if !ok {
			if c, err := s.store.GetCardByApplication(ctx, r.ApplicationID); err == nil {
				l = c.LastFour
			} else if !isNotFound(err) {
				return nil, fmt.Errorf("list bank requests: card of application %d: %w", r.ApplicationID, err)
			}
			last[r.ApplicationID] = l
		}
		out[i].CardLastFour = l
	}
	return out, nil
}

// BankOutboxStats returns the outbox counts for the metrics; advices
// parked since before staleBefore are counted as stale.
func (s *Service) BankOutboxStats(ctx context.Context, staleBefore time.Time) (BankOutboxStats, error) {
	o, err := s.outboxAdmin()
	if err != nil {
		return BankOutboxStats{}, err
	}
	return o.BankOutboxStats(ctx, staleBefore)
}

func operatorNote(verb string, a Actor, reason string) string {
	n := verb + " by an operator"
	if a.TokenID != 0 {
		n = fmt.Sprintf("%s (token %d)", n, a.TokenID)
	}
	if reason = strings.TrimSpace(reason); reason != "" {
		n += ": " + reason
	}
	return truncateRunes(n, 300)
}

// RetryBankRequest sends a failed outbox row again, as a new request (new
// STAN, field 7 and RRN; a reversal keeps the original's RRN): the bank
// deduplicates adds by application number and status changes by target
// state, so this is safe. Only failed rows can be retried.
func (s *Service) RetryBankRequest(ctx context.Context, a Actor, id int64, reason string) (BankRequest, error) {
	if err := requireRole(a, RoleProvinceAdmin, RoleSystem); err != nil {
		return BankRequest{}, err
	}
	o, err := s.outboxAdmin()
	if err != nil {
		return BankRequest{}, err
	}
	var r BankRequest
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if err := o.ResetFailedBankRequest(ctx, id, operatorNote("retried", a, reason), s.clock.Now()); err != nil {
			return err
		}
		r, err = o.GetBankRequest(ctx, id)
		return err
	})
	if err != nil {
		return BankRequest{}, fmt.Errorf("retry bank request %d: %w", id, err)
	}
	s.log.WarnContext(ctx, "bank request retried by an operator", slog.Int64("row", id),
		slog.String("application", r.ApplicationNumber), slog.String("kind", string(r.Kind)), slog.Int64("token", a.TokenID))
	return r, nil
}

// CancelBankRequest gives up a failed outbox row for good, with a reason
// (required). What it leaves behind depends on the kind: a cancelled
// status change drops the card's pending change (the card keeps its
// state); a cancelled reversal sends its add afresh (idempotent at the
// bank: the same card comes back); a cancelled add leaves the application
// in bank_pending, where nothing moves it any more.
func (s *Service) CancelBankRequest(ctx context.Context, a Actor, id int64, reason string) (BankRequest, error) {
	if err := requireRole(a, RoleProvinceAdmin, RoleSystem); err != nil {
		return BankRequest{}, err
	}
	if strings.TrimSpace(reason) == "" {
		return BankRequest{}, invalid("reason", "required")
	}
	o, err := s.outboxAdmin()
	if err != nil {
		return BankRequest{}, err
	}
	var r BankRequest
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		note := operatorNote("cancelled", a, reason)
		if err := o.CancelFailedBankRequest(ctx, id, note); err != nil {
			return err
		}
		if r, err = o.GetBankRequest(ctx, id); err != nil {
			return err
		}
		switch r.Kind {
		case BankStatusChange:
			var ch CardStatusChange
			if json.Unmarshal(r.Payload, &ch) != nil || ch.CardID == 0 {
				return nil
			}
			return s.RecordCardChangeRefused(ctx, ch, "", note)
		case BankReversal:
			if r.ParentID == 0 {
				return nil
			}
			parent, err := o.GetBankRequest(ctx, r.ParentID)
			if err != nil || parent.State != BankWaiting {
				return err
			}
			parent.State, parent.Trace, parent.MaybeSent, parent.Repeats = BankPending, BankTrace{}, false, 0
			parent.NextAttemptAt = s.clock.Now()
			return o.SaveBankRequest(ctx, &parent, "")
		}
		return nil
	})
	if err != nil {
		return BankRequest{}, fmt.Errorf("cancel bank request %d: %w", id, err)
	}
	s.log.WarnContext(ctx, "bank request cancelled by an operator", slog.Int64("row", id),
		slog.String("application", r.ApplicationNumber), slog.String("kind", string(r.Kind)), slog.Int64("token", a.TokenID))
	return r, nil
}

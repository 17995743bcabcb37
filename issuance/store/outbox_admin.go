package store

import (
	"context"
	"fmt"
	"time"

	"github.com/volcard/volcard/bankgw/outbox"
	"github.com/volcard/volcard/issuance"
)

var (
	_ outbox.AdminRows   = (*Store)(nil)
	_ outbox.StatsSource = (*Store)(nil)
)

// ListBankRequests implements outbox.AdminRows.
func (s *Store) ListBankRequests(ctx context.Context, f outbox.Filter) ([]outbox.Request, error) {
	q := s.DB(ctx).Model(&bankRequestRow{})
	if f.State != "" {
		q = q.Where("state = ?", string(f.State))
	}
	if f.Kind != "" {
		q = q.Where("kind = ?", string(f.Kind))
	}
	if f.Bank != "" {
		q = q.Where("EXISTS (SELECT 1 FROM applications a WHERE a.id = bank_requests.application_id AND a.bank_code = ?)", f.Bank)
	}
	if f.BeforeID > 0 {
		q = q.Where("id < ?", f.BeforeID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	var rows []bankRequestRow
	if err := q.Order("id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list bank requests: %w", mapErr(err))
	}
	out := make([]outbox.Request, len(rows))
	for i, r := range rows {
		out[i] = r.request()
	}
	return out, nil
}

// notFailed tells a missing row (ErrNotFound) from one that is not failed.
func (s *Store) notFailed(ctx context.Context, id int64) error {
	var n int64
	if err := s.DB(ctx).Model(&bankRequestRow{}).Where("id = ?", id).Count(&n).Error; err != nil {
		return mapErr(err)
	}
	if n == 0 {
		return issuance.ErrNotFound
	}
	return &issuance.ConflictError{What: "bank_request_state"}
}

// ResetFailedBankRequest implements outbox.AdminRows.
func (s *Store) ResetFailedBankRequest(ctx context.Context, id int64, note string, now time.Time) error {
	res := s.DB(ctx).Model(&bankRequestRow{}).Where("id = ? AND state = ?", id, string(outbox.StateFailed)).
		Updates(map[string]any{
			"state": string(outbox.StatePending), "attempts": 0, "repeats": 0, "permanent_errors": 0, "next_attempt_ms": now.UnixMilli(),
			"trace_mti": "", "stan": "", "transmitted_unix": 0, "rrn": "", "maybe_sent": false,
			"result_code": "", "last_error": note, "lease_owner": "", "lease_until_ms": 0, "updated_at": now.UTC(),
		})
	if res.Error != nil {
		return fmt.Errorf("reset bank request %d: %w", id, mapErr(res.Error))
	}
	if res.RowsAffected != 1 {
		return s.notFailed(ctx, id)
	}
	return nil
}

// CancelFailedBankRequest implements outbox.AdminRows.
func (s *Store) CancelFailedBankRequest(ctx context.Context, id int64, note string) error {
	res := s.DB(ctx).Model(&bankRequestRow{}).Where("id = ? AND state = ?", id, string(outbox.StateFailed)).
		Updates(map[string]any{"state": string(outbox.StateCancelled), "last_error": note, "updated_at": time.Now().UTC()})
	if res.Error != nil {
		return fmt.Errorf("cancel bank request %d: %w", id, mapErr(res.Error))
	}
	if res.RowsAffected != 1 {
		return s.notFailed(ctx, id)
	}
	return nil
}

// BankOutboxStats implements outbox.StatsSource: one GROUP BY over
// the partial index of rows not done (bank_requests_open), the oldest open
// row through the same index, and two counts over the partial index of
// parked advices.
func (s *Store) BankOutboxStats(ctx context.Context, staleBefore time.Time) (outbox.Stats, error) {
	var out outbox.Stats
	var counts []struct {
		Kind  string
		State string
		N     int64
	}
	db := s.DB(ctx)
	if err := db.Model(&bankRequestRow{}).Select("kind, state, COUNT(*) AS n").
		Where("state NOT IN ('done', 'cancelled')").Group("state, kind").Scan(&counts).Error; err != nil {
		return out, fmt.Errorf("count bank requests: %w", mapErr(err))
	}
	for _, c := range counts {
		out.Rows = append(out.Rows, outbox.Count{Kind: outbox.Kind(c.Kind), State: outbox.State(c.State), N: c.N})
	}
	var oldest []bankRequestRow
	if err := db.Select("id, created_at").Where("state IN ('pending', 'sent', 'in_flight', 'waiting')").
		Order("created_at").Limit(1).Find(&oldest).Error; err != nil {
		return out, fmt.Errorf("oldest bank request: %w", mapErr(err))
	}
	if len(oldest) == 1 {
		out.OldestOpen = oldest[0].CreatedAt.UTC()
	}
	parked := db.Model(&adviceRow{}).Where("state = ?", string(issuance.BankAdviceParked))
	if err := parked.Count(&out.ParkedAdvices).Error; err != nil {
		return out, fmt.Errorf("count parked advices: %w", mapErr(err))
	}
	if out.ParkedAdvices > 0 {
		// Parked advices are few; times are compared here, not in SQL,
		// because SQLite keeps them as text.
		var times []adviceRow
		if err := s.DB(ctx).Select("id, received_at").Where("state = ?", string(issuance.BankAdviceParked)).
			Order("received_at").Limit(10000).Find(&times).Error; err != nil {
			return out, fmt.Errorf("parked advices: %w", mapErr(err))
		}
		for _, t := range times {
			if t.ReceivedAt.Before(staleBefore) {
				out.StaleParkedAdvices++
			}
		}
	}
	return out, nil
}

var _ outbox.BacklogSource = (*Store)(nil)

// BankBacklog implements outbox.BacklogSource: the open and failed rows per
// bank (the bank of each row's application), over the open-rows index.
func (s *Store) BankBacklog(ctx context.Context) ([]outbox.Backlog, error) {
	var rows []struct {
		Bank     string
		Open     int64
		Failed   int64
		OldestID *int64
	}
	err := s.DB(ctx).Raw(`SELECT a.bank_code AS bank,
			SUM(CASE WHEN b.state = 'failed' THEN 0 ELSE 1 END) AS open,
			SUM(CASE WHEN b.state = 'failed' THEN 1 ELSE 0 END) AS failed,
			MIN(CASE WHEN b.state = 'failed' THEN NULL ELSE b.id END) AS oldest_id
		FROM bank_requests b JOIN applications a ON a.id = b.application_id
		WHERE b.state NOT IN ('done', 'cancelled')
		GROUP BY a.bank_code ORDER BY a.bank_code`).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("bank backlog: %w", mapErr(err))
	}
	// Rows are numbered in creation order: the smallest open id per bank
	// is its oldest open row, read in a second query (a MIN over a time
	// column comes back as text on SQLite).
	var ids []int64
	for _, r := range rows {
		if r.OldestID != nil {
			ids = append(ids, *r.OldestID)
		}
	}
	created := map[int64]time.Time{}
	if len(ids) > 0 {
		var oldest []bankRequestRow
		if err := s.DB(ctx).Select("id, created_at").Where("id IN ?", ids).Find(&oldest).Error; err != nil {
			return nil, fmt.Errorf("bank backlog: %w", mapErr(err))
		}
		for _, o := range oldest {
			created[o.ID] = o.CreatedAt.UTC()
		}
	}
	out := make([]outbox.Backlog, len(rows))
	for i, r := range rows {
		out[i] = outbox.Backlog{Bank: r.Bank, Open: r.Open, Failed: r.Failed}
		if r.OldestID != nil {
			out[i].OldestOpen = created[*r.OldestID]
		}
	}
	return out, nil
}

package store

// Daily reconciliation with a partner bank (issue 16): volcard's side,
// streamed, and the reports (migration 00135).

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/reconcile"
)

var _ reconcile.Store = (*Store)(nil)

// EachBankApplication implements reconcile.Reads: one query, streamed,
// applications in id order with their cards.
func (s *Store) EachBankApplication(ctx context.Context, bankCode string, before time.Time, fn func(reconcile.OurApplication) error) error {
	rows, err := s.DB(ctx).Raw(`SELECT a.number, a.status, a.product_code, c.id, c.replace_seq, c.last_four, c.pan_enc, c.state
		FROM applications a LEFT JOIN cards c ON c.application_id = a.id AND c.created_at < ?
		WHERE a.bank_code = ? AND a.created_at < ?
		ORDER BY a.id, c.replace_seq, c.id`, before.UTC(), bankCode, before.UTC()).Rows()
	if err != nil {
		return mapErr(err)
	}
	defer rows.Close()
	var cur *reconcile.OurApplication
	for rows.Next() {
		var (
			number, status, product string
			id, seq                 *int64
			lastFour, state         *string
			pan                     []byte
		)
		if err := rows.Scan(&number, &status, &product, &id, &seq, &lastFour, &pan, &state); err != nil {
			return fmt.Errorf("scan application: %w", err)
		}
		if cur != nil && cur.Number != number {
			if err := fn(*cur); err != nil {
				return err
			}
			cur = nil
		}
		if cur == nil {
			cur = &reconcile.OurApplication{Number: number, Status: issuance.Status(status), ProductCode: product}
		}
		if id != nil {
			cur.Cards = append(cur.Cards, reconcile.OurCard{ID: *id, ReplaceSeq: int(deref(seq)), LastFour: deref(lastFour),
				PANSealed: pan, State: issuance.BankCardState(deref(state))})
		}
	}
	if err := rows.Err(); err != nil {
		return mapErr(err)
	}
	if cur != nil {
		return fn(*cur)
	}
	return nil
}

// ApplicationBank implements reconcile.Reads.
func (s *Store) ApplicationBank(ctx context.Context, number string) (string, bool, error) {
	var banks []string
	if err := s.DB(ctx).Model(&applicationRow{}).Where("number = ?", number).Limit(1).Pluck("bank_code", &banks).Error; err != nil {
		return "", false, mapErr(err)
	}
	if len(banks) == 0 {
		return "", false, nil
	}
	return banks[0], true, nil
}

type reconciliationRow struct {
	ID           int64 `gorm:"primaryKey"`
	BankCode     string
	BusinessDate string
	Source       string
	BankCards    int
	OurCards     int
	Matched      int
	Differences  int
	ByKind       string
	StartedAt    time.Time
	FinishedAt   time.Time
}

func (reconciliationRow) TableName() string { return "reconciliations" }

func (r reconciliationRow) domain() (reconcile.Report, error) {
	d, err := time.Parse(time.DateOnly, r.BusinessDate)
	if err != nil {
		return reconcile.Report{}, fmt.Errorf("reconciliation %d: business date: %w", r.ID, err)
	}
	rep := reconcile.Report{ID: r.ID, BankCode: r.BankCode, BusinessDate: d, Source: r.Source, BankCards: r.BankCards,
		OurCards: r.OurCards, Matched: r.Matched, Differences: r.Differences, StartedAt: r.StartedAt.UTC(),
		FinishedAt: r.FinishedAt.UTC(), ByKind: map[reconcile.Kind]int{}}
	if err := json.Unmarshal([]byte(r.ByKind), &rep.ByKind); err != nil {
		return reconcile.Report{}, fmt.Errorf("reconciliation %d: by_kind: %w", r.ID, err)
	}
	return rep, nil
}

type reconciliationDiffRow struct {
	ID                int64 `gorm:"primaryKey"`
	ReconciliationID  int64
	Kind              string
	ApplicationNumber string
	ReplaceSeq        int
	LastFour          string
	OurState          string
	BankState         string
	ApplicationStatus string
	BankActivated     string
	Line              int
	Detail            string
}

func (reconciliationDiffRow) TableName() string { return "reconciliation_differences" }

// SaveReconciliation implements reconcile.Reports.
func (s *Store) SaveReconciliation(ctx context.Context, r *reconcile.Report, diffs []reconcile.Difference) error {
	byKind, err := json.Marshal(r.ByKind)
	if err != nil {
		return err
	}
	row := reconciliationRow{BankCode: r.BankCode, BusinessDate: r.BusinessDate.Format(time.DateOnly), Source: r.Source,
		BankCards: r.BankCards, OurCards: r.OurCards, Matched: r.Matched, Differences: r.Differences,
		ByKind: string(byKind), StartedAt: r.StartedAt.UTC(), FinishedAt: r.FinishedAt.UTC()}
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.DB(ctx).Create(&row).Error; err != nil {
			return fmt.Errorf("insert reconciliation: %w", mapErr(err))
		}
		const batch = 1000
		rows := make([]reconciliationDiffRow, 0, min(len(diffs), batch))
		flush := func() error {
			if len(rows) == 0 {
				return nil
			}
			if err := s.DB(ctx).Create(&rows).Error; err != nil {
				return fmt.Errorf("insert reconciliation differences: %w", mapErr(err))
			}
			rows = rows[:0]
			return nil
		}
		for _, d := range diffs {
			act := ""
			if !d.BankActivated.IsZero() {
				act = d.BankActivated.Format(time.DateOnly)
			}
			rows = append(rows, reconciliationDiffRow{ReconciliationID: row.ID, Kind: string(d.Kind),
				ApplicationNumber: d.ApplicationNumber, ReplaceSeq: d.ReplaceSeq, LastFour: d.LastFour,
				OurState: string(d.OurState), BankState: string(d.BankState), ApplicationStatus: string(d.ApplicationStatus),
				BankActivated: act, Line: d.Line, Detail: d.Detail})
			if len(rows) == batch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
		r.ID = row.ID
		return nil
	})
}

// ListReconciliations implements reconcile.Reports.
func (s *Store) ListReconciliations(ctx context.Context, bankCode string, limit int) ([]reconcile.Report, error) {
	q := s.DB(ctx).Order("business_date DESC, id DESC").Limit(limit)
	if bankCode != "" {
		q = q.Where("bank_code = ?", bankCode)
	}
	var rows []reconciliationRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]reconcile.Report, 0, len(rows))
	for _, r := range rows {
		rep, err := r.domain()
		if err != nil {
			return nil, err
		}
		out = append(out, rep)
	}
	return out, nil
}

// GetReconciliation implements reconcile.Reports.
func (s *Store) GetReconciliation(ctx context.Context, id int64) (reconcile.Report, error) {
	var r reconciliationRow
	if err := s.DB(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return reconcile.Report{}, mapErr(err)
	}
	return r.domain()
}

// ReconciliationDifferences implements reconcile.Reports.
func (s *Store) ReconciliationDifferences(ctx context.Context, id int64) ([]reconcile.Difference, error) {
	var rows []reconciliationDiffRow
	if err := s.DB(ctx).Where("reconciliation_id = ?", id).Order("id").Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]reconcile.Difference, len(rows))
	for i, r := range rows {
		d := reconcile.Difference{ID: r.ID, ReportID: r.ReconciliationID, Kind: reconcile.Kind(r.Kind),
			ApplicationNumber: r.ApplicationNumber, ReplaceSeq: r.ReplaceSeq, LastFour: r.LastFour,
			OurState: issuance.BankCardState(r.OurState), BankState: issuance.BankCardState(r.BankState),
			ApplicationStatus: issuance.Status(r.ApplicationStatus), Line: r.Line, Detail: r.Detail}
		if r.BankActivated != "" {
			if t, err := time.Parse(time.DateOnly, r.BankActivated); err == nil {
				d.BankActivated = t
			}
		}
		out[i] = d
	}
	return out, nil
}

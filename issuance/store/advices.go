package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"github.com/volcard/volcard/issuance"
)

var _ issuance.BankAdviceRepo = (*Store)(nil)

// adviceRow is a row of bank_advices.
type adviceRow struct {
	ID                int64  `gorm:"primaryKey"`
	RRN               string `gorm:"column:rrn"`
	Kind              string
	PANToken          []byte `gorm:"column:pan_token"`
	LastFour          string
	ApplicationNumber string
	State             string
	CardID            *int64
	ReceivedAt        time.Time
	AppliedAt         *time.Time
}

func (adviceRow) TableName() string { return "bank_advices" }

func (r adviceRow) domain() issuance.BankAdvice {
	a := issuance.BankAdvice{ID: r.ID, RRN: r.RRN, Kind: r.Kind, PANToken: r.PANToken, LastFour: r.LastFour,
		ApplicationNumber: r.ApplicationNumber, State: issuance.BankAdviceState(r.State), ReceivedAt: r.ReceivedAt.UTC()}
	if r.CardID != nil {
		a.CardID = *r.CardID
	}
	if r.AppliedAt != nil {
		a.AppliedAt = r.AppliedAt.UTC()
	}
	return a
}

// InsertBankAdvice implements issuance.BankAdviceRepo with INSERT … ON
// CONFLICT (rrn, kind) DO NOTHING.
func (s *Store) InsertBankAdvice(ctx context.Context, a *issuance.BankAdvice) (bool, error) {
	r := adviceRow{RRN: a.RRN, Kind: a.Kind, PANToken: a.PANToken, LastFour: a.LastFour,
		ApplicationNumber: a.ApplicationNumber, State: string(a.State), ReceivedAt: a.ReceivedAt.UTC()}
	if a.CardID != 0 {
		id := a.CardID
		r.CardID = &id
	}
	if !a.AppliedAt.IsZero() {
		at := a.AppliedAt.UTC()
		r.AppliedAt = &at
	}
	res := s.DB(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "rrn"}, {Name: "kind"}},
		DoNothing: true,
	}).Create(&r)
	if res.Error != nil {
		return false, fmt.Errorf("insert bank advice: %w", mapErr(res.Error))
	}
	if res.RowsAffected == 1 {
		a.ID = r.ID
	}
	return res.RowsAffected == 1, nil
}

// ParkedBankAdvices implements issuance.BankAdviceRepo.
func (s *Store) ParkedBankAdvices(ctx context.Context, kind string, panToken []byte, number string) ([]issuance.BankAdvice, error) {
	q := s.DB(ctx).Where("state = ? AND kind = ?", string(issuance.BankAdviceParked), kind)
	switch {
	case len(panToken) > 0 && number != "":
		q = q.Where("(pan_token = ? OR (pan_token IS NULL AND application_number = ?))", panToken, number)
	case len(panToken) > 0:
		q = q.Where("pan_token = ?", panToken)
	case number != "":
		q = q.Where("pan_token IS NULL AND application_number = ?", number)
	default:
		return nil, nil
	}
	var rows []adviceRow
	if err := q.Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("parked bank advices: %w", mapErr(err))
	}
	out := make([]issuance.BankAdvice, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// MarkBankAdviceApplied implements issuance.BankAdviceRepo.
func (s *Store) MarkBankAdviceApplied(ctx context.Context, id, cardID int64, at time.Time) error {
	err := s.DB(ctx).Model(&adviceRow{}).Where("id = ? AND state = ?", id, string(issuance.BankAdviceParked)).
		Updates(map[string]any{"state": string(issuance.BankAdviceApplied), "card_id": cardID, "applied_at": at.UTC()}).Error
	if err != nil {
		return fmt.Errorf("mark bank advice %d applied: %w", id, mapErr(err))
	}
	return nil
}

// LockPANToken implements issuance.BankAdviceRepo: pg_advisory_xact_lock
// on the token's first 8 bytes on PostgreSQL (held until the transaction
// ends); a no-op on SQLite, whose write transactions already exclude each
// other.
func (s *Store) LockPANToken(ctx context.Context, panToken []byte) error {
	if s.dialect != Postgres || len(panToken) < 8 {
		return nil
	}
	key := int64(binary.BigEndian.Uint64(panToken[:8]))
	if err := s.DB(ctx).Exec("SELECT pg_advisory_xact_lock(?)", key).Error; err != nil {
		return fmt.Errorf("lock PAN token: %w", mapErr(err))
	}
	return nil
}

// BankAdvices returns every stored advice, oldest first (for tests and
// operators).
func (s *Store) BankAdvices(ctx context.Context) ([]issuance.BankAdvice, error) {
	var rows []adviceRow
	if err := s.DB(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]issuance.BankAdvice, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

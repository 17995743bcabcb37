package store

// Card renewal (issue 18): renewal batches and their per-card results
// (migration 00230), the renewable cards of an organisation, and a card
// renewed with the same PAN. Which cards are due is decided in Go
// (issuance.RequestRenewals); these queries compare YYMM strings.

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"github.com/volcard/volcard/issuance"
)

var _ issuance.RenewalRepo = (*Store)(nil)

type renewalBatchRow struct {
	ID           int64 `gorm:"primaryKey"`
	OrgID        int64
	Through      string
	ExpiredOnly  bool
	ActorTokenID int64
	ActorRole    string
	CreatedAt    time.Time
}

func (renewalBatchRow) TableName() string { return "renewal_batches" }

type renewalItemRow struct {
	BatchID    int64 `gorm:"primaryKey"`
	CardID     int64 `gorm:"primaryKey"`
	LastFour   string
	Expiry     string
	State      string
	ResultCode string
	Reason     string
	NewCardID  *int64
	UpdatedAt  time.Time
}

func (renewalItemRow) TableName() string { return "renewal_items" }

// RenewableCards implements issuance.RenewalRepo.
func (s *Store) RenewableCards(ctx context.Context, sc issuance.Scope, through string, expiredOnly bool, limit int) ([]issuance.Card, error) {
	states := []string{string(issuance.BankCardIssued), string(issuance.BankCardActive), string(issuance.BankCardExpired)}
	if expiredOnly {
		states = []string{string(issuance.BankCardExpired)}
	}
	apps := scoped(s.DB(ctx).Table("applications").Select("id"), sc, true)
	var rows []cardRow
	err := s.DB(ctx).Where("state IN ? AND expiry <= ? AND application_id IN (?)", states, through, apps).
		Order("expiry, id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, mapErr(err)
	}
	return cardsOf(rows), nil
}

// CreateRenewalBatch implements issuance.RenewalRepo.
func (s *Store) CreateRenewalBatch(ctx context.Context, b *issuance.RenewalBatch) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		r := renewalBatchRow{OrgID: b.OrgID, Through: b.Through, ExpiredOnly: b.ExpiredOnly, ActorTokenID: b.ActorTokenID,
			ActorRole: string(b.ActorRole), CreatedAt: b.CreatedAt.UTC()}
		if err := s.DB(ctx).Create(&r).Error; err != nil {
			return fmt.Errorf("renewal batch: %w", mapErr(err))
		}
		b.ID = r.ID
		if len(b.Items) == 0 {
			return nil
		}
		items := make([]renewalItemRow, len(b.Items))
		for i := range b.Items {
			b.Items[i].BatchID = r.ID
			items[i] = itemRow(b.Items[i])
		}
		if err := s.DB(ctx).CreateInBatches(items, 500).Error; err != nil {
			return fmt.Errorf("renewal items: %w", mapErr(err))
		}
		return nil
	})
}

func itemRow(it issuance.RenewalItem) renewalItemRow {
	r := renewalItemRow{BatchID: it.BatchID, CardID: it.CardID, LastFour: it.LastFour, Expiry: it.Expiry,
		State: string(it.State), ResultCode: it.ResultCode, Reason: it.Reason, UpdatedAt: it.UpdatedAt.UTC()}
	if it.NewCardID != 0 {
		id := it.NewCardID
		r.NewCardID = &id
	}
	return r
}

// SetRenewalItem implements issuance.RenewalRepo.
func (s *Store) SetRenewalItem(ctx context.Context, it issuance.RenewalItem) error {
	r := itemRow(it)
	res := s.DB(ctx).Model(&renewalItemRow{}).Where("batch_id = ? AND card_id = ?", it.BatchID, it.CardID).
		Updates(map[string]any{"state": r.State, "result_code": r.ResultCode, "reason": r.Reason,
			"new_card_id": r.NewCardID, "updated_at": r.UpdatedAt})
	if res.Error != nil {
		return fmt.Errorf("renewal item %d/%d: %w", it.BatchID, it.CardID, mapErr(res.Error))
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("renewal item %d/%d: %w", it.BatchID, it.CardID, issuance.ErrNotFound)
	}
	return nil
}

// GetRenewalBatch implements issuance.RenewalRepo.
func (s *Store) GetRenewalBatch(ctx context.Context, id int64) (issuance.RenewalBatch, error) {
	var r renewalBatchRow
	if err := s.DB(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return issuance.RenewalBatch{}, mapErr(err)
	}
	var items []renewalItemRow
	if err := s.DB(ctx).Where("batch_id = ?", id).Order(clause.OrderByColumn{Column: clause.Column{Name: "card_id"}}).
		Find(&items).Error; err != nil {
		return issuance.RenewalBatch{}, mapErr(err)
	}
	b := issuance.RenewalBatch{ID: r.ID, OrgID: r.OrgID, Through: r.Through, ExpiredOnly: r.ExpiredOnly,
		ActorTokenID: r.ActorTokenID, ActorRole: issuance.Role(r.ActorRole), CreatedAt: r.CreatedAt.UTC(),
		Items: make([]issuance.RenewalItem, len(items))}
	for i, it := range items {
		b.Items[i] = issuance.RenewalItem{BatchID: it.BatchID, CardID: it.CardID, LastFour: it.LastFour, Expiry: it.Expiry,
			State: issuance.RenewalItemState(it.State), ResultCode: it.ResultCode, Reason: it.Reason,
			UpdatedAt: it.UpdatedAt.UTC()}
		if it.NewCardID != nil {
			b.Items[i].NewCardID = *it.NewCardID
		}
	}
	return b, nil
}

// RenewCard implements issuance.RenewalRepo.
func (s *Store) RenewCard(ctx context.Context, c *issuance.Card) error {
	var activated *time.Time
	if !c.ActivatedAt.IsZero() {
		at := c.ActivatedAt.UTC()
		activated = &at
	}
	res := s.DB(ctx).Model(&cardRow{}).Where("id = ?", c.ID).Updates(map[string]any{
		"expiry": c.Expiry, "psn": c.PSN, "bank_reference": c.BankReference, "replace_seq": c.ReplaceSeq,
		"state": string(c.State), "pending_change": string(c.PendingChange), "activated_at": activated,
		"updated_at": c.UpdatedAt.UTC()})
	if res.Error != nil {
		return fmt.Errorf("renew card %d: %w", c.ID, mapErr(res.Error))
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("renew card %d: %w", c.ID, issuance.ErrNotFound)
	}
	return nil
}

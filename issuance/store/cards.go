package store

// Card lifecycle (block, unblock, replace through the bank): the card
// columns added by migration 00070 and the card_events audit table.

import (
	"context"
	"fmt"
	"time"

	"github.com/volcard/volcard/issuance"
)

var _ issuance.CardLifecycleRepo = (*Store)(nil)

// GetCard implements issuance.CardLifecycleRepo.
func (s *Store) GetCard(ctx context.Context, id int64) (issuance.Card, error) {
	var r cardRow
	if err := s.DB(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return issuance.Card{}, mapErr(err)
	}
	return r.domain(), nil
}

// CardsOfApplication implements issuance.CardLifecycleRepo.
func (s *Store) CardsOfApplication(ctx context.Context, applicationID int64) ([]issuance.Card, error) {
	var rows []cardRow
	if err := s.DB(ctx).Where("application_id = ?", applicationID).Order("id").Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	return cardsOf(rows), nil
}

// CardsOfVolunteer implements issuance.CardLifecycleRepo.
func (s *Store) CardsOfVolunteer(ctx context.Context, volunteerID int64) ([]issuance.Card, error) {
	var rows []cardRow
	err := s.DB(ctx).Where("application_id IN (SELECT id FROM applications WHERE volunteer_id = ?)", volunteerID).
		Order("id").Find(&rows).Error
	if err != nil {
		return nil, mapErr(err)
	}
	return cardsOf(rows), nil
}

func cardsOf(rows []cardRow) []issuance.Card {
	out := make([]issuance.Card, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out
}

// UpdateCard implements issuance.CardLifecycleRepo.
func (s *Store) UpdateCard(ctx context.Context, c *issuance.Card) error {
	var replacedBy *int64
	if c.ReplacedBy != 0 {
		id := c.ReplacedBy
		replacedBy = &id
	}
	updated := c.UpdatedAt
	if updated.IsZero() {
		updated = time.Now()
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		var from []string
		if err := s.DB(ctx).Raw("SELECT state FROM cards WHERE id = ?", c.ID).Scan(&from).Error; err != nil {
			return fmt.Errorf("update card %d: %w", c.ID, mapErr(err))
		}
		res := s.DB(ctx).Model(&cardRow{}).Where("id = ?", c.ID).Updates(map[string]any{
			"state": string(c.State), "pending_change": string(c.PendingChange), "block_reason": c.BlockReason,
			"replaced_by": replacedBy, "updated_at": updated.UTC(),
		})
		if res.Error != nil {
			return fmt.Errorf("update card %d: %w", c.ID, mapErr(res.Error))
		}
		if res.RowsAffected != 1 || len(from) != 1 {
			return fmt.Errorf("update card %d: %w", c.ID, issuance.ErrNotFound)
		}
		if from[0] == string(c.State) {
			return nil
		}
		return s.recordCardEvent(ctx, c.ID, from[0])
	})
}

// cardEventRow is a row of card_events.
type cardEventRow struct {
	ID           int64 `gorm:"primaryKey"`
	CardID       int64
	Kind         string
	Change       string
	ActorTokenID int64
	ActorRole    string
	Channel      string
	Reason       string
	ResultCode   string
	At           time.Time
}

func (cardEventRow) TableName() string { return "card_events" }

// AppendCardEvent implements issuance.CardLifecycleRepo. The rows that
// are a step of their own for the feed (a renewal or closing requested, a
// renewal confirmed, a change refused: recordCardChange) write their feed
// event in the same transaction.
func (s *Store) AppendCardEvent(ctx context.Context, e *issuance.CardEvent) error {
	r := cardEventRow{CardID: e.CardID, Kind: string(e.Kind), Change: string(e.Change), ActorTokenID: e.ActorTokenID,
		ActorRole: string(e.ActorRole), Channel: string(e.Channel), Reason: e.Reason, ResultCode: e.ResultCode,
		At: e.At.UTC()}
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.DB(ctx).Create(&r).Error; err != nil {
			return fmt.Errorf("card event: %w", mapErr(err))
		}
		e.ID = r.ID
		return s.recordCardChange(ctx, e)
	})
}

// CardEvents implements issuance.CardLifecycleRepo.
func (s *Store) CardEvents(ctx context.Context, cardID int64) ([]issuance.CardEvent, error) {
	var rows []cardEventRow
	if err := s.DB(ctx).Where("card_id = ?", cardID).Order("id").Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]issuance.CardEvent, len(rows))
	for i, r := range rows {
		out[i] = issuance.CardEvent{ID: r.ID, CardID: r.CardID, Kind: issuance.CardEventKind(r.Kind),
			Change: issuance.CardChange(r.Change), ActorTokenID: r.ActorTokenID, ActorRole: issuance.Role(r.ActorRole),
			Channel: issuance.Channel(r.Channel), Reason: r.Reason, ResultCode: r.ResultCode, At: r.At.UTC()}
	}
	return out, nil
}

package store

// Card expiry (issue 18): the cards the daily expire-cards job marks, and
// the expiring-soon list per organisation. Which month has ended is decided
// in Go (issuance.ExpireCards, issuance.ExpiringCards); these queries only
// compare the cards' YYMM with it.

import (
	"context"

	"gorm.io/gorm/clause"

	"github.com/volcard/volcard/issuance"
)

var _ issuance.CardExpiryRepo = (*Store)(nil)

// expirableStates are the states a card can expire from.
var expirableStates = []string{string(issuance.BankCardIssued), string(issuance.BankCardActive),
	string(issuance.BankCardBlocked)}

// LockCardsToExpire implements issuance.CardExpiryRepo: SELECT … FOR UPDATE
// SKIP LOCKED on PostgreSQL; on SQLite the write transaction already
// excludes other writers.
func (s *Store) LockCardsToExpire(ctx context.Context, through string, limit int) ([]issuance.Card, error) {
	q := s.DB(ctx).Where("state IN ? AND pending_change = '' AND expiry <= ?", expirableStates, through).
		Order("id").Limit(limit)
	if s.dialect == Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
	}
	var rows []cardRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	return cardsOf(rows), nil
}

// ExpiringCards implements issuance.CardExpiryRepo: the cards, then their
// applications.
func (s *Store) ExpiringCards(ctx context.Context, sc issuance.Scope, through string, limit int) ([]issuance.CardDetails, error) {
	apps := scoped(s.DB(ctx).Table("applications").Select("id"), sc, true)
	var rows []cardRow
	err := s.DB(ctx).Where("state IN ? AND expiry <= ? AND application_id IN (?)", expirableStates, through, apps).
		Order("expiry, id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, mapErr(err)
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ApplicationID
	}
	var appRows []struct {
		ID          int64
		Number      string
		Status      string
		VolunteerID int64
		ProductCode string
		BankCode    string
	}
	if len(ids) > 0 {
		if err := s.DB(ctx).Table("applications").Select("id, number, status, volunteer_id, product_code, bank_code").
			Where("id IN ?", ids).Scan(&appRows).Error; err != nil {
			return nil, mapErr(err)
		}
	}
	byID := make(map[int64]int, len(appRows))
	for i, a := range appRows {
		byID[a.ID] = i
	}
	out := make([]issuance.CardDetails, len(rows))
	for i, r := range rows {
		out[i] = issuance.CardDetails{Card: r.domain()}
		if j, ok := byID[r.ApplicationID]; ok {
			a := appRows[j]
			out[i].ApplicationNumber, out[i].ApplicationStatus = a.Number, issuance.Status(a.Status)
			out[i].VolunteerID, out[i].ProductCode, out[i].BankCode = a.VolunteerID, a.ProductCode, a.BankCode
		}
	}
	return out, nil
}

package store

// Feed events of the card's life after issue (#18): the renewal and
// closing requests and the bank's answers, the holder's insurance cover,
// the month's rebate statements and volunteers' edits. Each is written by
// the store method that makes the change, in its transaction.

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/feed"
	"github.com/volcard/volcard/issuance/rebates"
)

// cardChangeType is the feed type of a card_events row, or "" when the
// row has none of its own (the card's state change carries it: card.closed,
// card.expired, card.replaced, card.issued …).
func cardChangeType(kind issuance.CardEventKind, change issuance.CardChange) string {
	switch {
	case kind == issuance.CardEventRequested && change == issuance.CardChangeRenew:
		return feed.TypeCardRenewalRequested
	case kind == issuance.CardEventRequested && change == issuance.CardChangeClose:
		return feed.TypeCardCloseRequested
	case kind == issuance.CardEventConfirmed && change == issuance.CardChangeRenew:
		return feed.TypeCardRenewed
	case kind == issuance.CardEventRefused:
		return feed.TypeCardChangeRefused
	}
	return ""
}

// recordCardChange records the feed event of card_events row e, if its
// kind and change have one (cardChangeType).
func (s *Store) recordCardChange(ctx context.Context, e *issuance.CardEvent) error {
	typ := cardChangeType(e.Kind, e.Change)
	if typ == "" {
		return nil
	}
	var c struct {
		ID, ApplicationID, OrgID int64
		State, LastFour, Expiry  string
		ReplacedBy               *int64
		OrgPath, BankCode        string
	}
	err := s.DB(ctx).Raw(`SELECT c.id, c.application_id, a.org_id, c.state, c.last_four, c.expiry, c.replaced_by,
		a.org_path, a.bank_code FROM cards c JOIN applications a ON a.id = c.application_id WHERE c.id = ?`, e.CardID).
		Take(&c).Error
	if err != nil {
		return fmt.Errorf("record %s of card %d: %w", typ, e.CardID, mapErr(err))
	}
	data := map[string]any{"card_id": c.ID, "application_id": c.ApplicationID, "state": c.State,
		"change": string(e.Change), "last_four": c.LastFour, "org_id": c.OrgID, "bank": c.BankCode,
		"channel": string(e.Channel), "actor_role": string(e.ActorRole), "card_event_id": e.ID}
	switch typ {
	case feed.TypeCardCloseRequested:
		// The staff's note stays in the card's own events: only the
		// reason code, the first word of the row's reason, travels.
		code, _, _ := strings.Cut(e.Reason, " ")
		if !issuance.CloseReason(code).Valid() {
			code = ""
		}
		data["close_reason"] = code
	case feed.TypeCardChangeRefused:
		data["result_code"], data["reason"] = e.ResultCode, e.Reason
	case feed.TypeCardRenewed:
		renewed := c.ID
		if c.ReplacedBy != nil {
			renewed = *c.ReplacedBy
		}
		var n struct{ LastFour, Expiry, PSN string }
		if err := s.DB(ctx).Raw("SELECT last_four, expiry, psn FROM cards WHERE id = ?", renewed).Take(&n).Error; err != nil {
			return fmt.Errorf("record %s of card %d: %w", typ, e.CardID, mapErr(err))
		}
		data["renewed_card_id"], data["same_pan"] = renewed, renewed == c.ID
		data["renewed_last_four"], data["expiry"], data["psn"] = n.LastFour, n.Expiry, n.PSN
	}
	return s.RecordEvent(ctx, FeedEvent{Type: typ, Subject: feed.Subject{Type: feed.SubjectCard, ID: c.ID},
		OrderKey: "application:" + strconv.FormatInt(c.ApplicationID, 10), OrgPath: c.OrgPath, BankCode: c.BankCode,
		Data: data, At: e.At})
}

// recordEnrolment records insurance.enrolled or insurance.ended (typ) of
// enrolment id as it now stands, ordered with its holder's events.
func (s *Store) recordEnrolment(ctx context.Context, typ string, id int64, at time.Time) error {
	var r enrolmentRow
	if err := s.DB(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return fmt.Errorf("record %s of enrolment %d: %w", typ, id, mapErr(err))
	}
	data := map[string]any{"enrolment_id": r.ID, "volunteer_id": r.VolunteerID, "application_id": r.ApplicationID,
		"card_id": r.CardID, "org_id": r.OrgID, "policy_id": r.PolicyID, "cover_fen": r.CoverFen,
		"starts_at": r.StartsAt.UTC(), "start_day": r.StartDay}
	if r.EndsAt != nil {
		data["ends_at"], data["end_day"], data["end_reason"] = r.EndsAt.UTC(), r.EndDay, r.EndReason
	}
	return s.RecordEvent(ctx, FeedEvent{Type: typ, Subject: feed.Subject{Type: feed.SubjectInsuranceEnrolment, ID: r.ID},
		OrderKey: "volunteer:" + strconv.FormatInt(r.VolunteerID, 10), OrgPath: r.OrgPath, Data: data, At: at})
}

// recordStatement records rebate_statement.generated for st of month m.
func (s *Store) recordStatement(ctx context.Context, m *rebates.Month, st *rebates.Statement) error {
	t := st.Totals
	data := map[string]any{"statement_id": st.ID, "month": m.Month, "org_id": st.OrgID, "org_kind": string(st.OrgKind),
		"advices": t.Advices, "spending_fen": t.SpendingFen, "refund_fen": t.RefundFen, "reversal_fen": t.ReversalFen,
		"net_fen": t.NetFen, "donation_fen": t.DonationFen, "foundation_fen": t.FoundationFen, "returned_fen": t.ReturnedFen}
	return s.RecordEvent(ctx, FeedEvent{Type: feed.TypeRebateStatementGenerated,
		Subject: feed.Subject{Type: feed.SubjectRebateStatement, ID: st.ID}, OrgPath: st.OrgPath, Data: data,
		At: m.GeneratedAt})
}

// recordVolunteerUpdated records volunteer.updated of volunteer id: the
// names of the fields changed (never their values, but for the platform's
// number) and, when it moved, the organisation it left.
func (s *Store) recordVolunteerUpdated(ctx context.Context, id int64, fields []string, extra map[string]any, at time.Time) error {
	var v struct {
		OrgID           int64
		OrgPath         string
		VolunteerNumber string
	}
	if err := s.DB(ctx).Raw("SELECT org_id, org_path, volunteer_number FROM volunteers WHERE id = ?", id).Take(&v).Error; err != nil {
		return fmt.Errorf("record volunteer.updated of %d: %w", id, mapErr(err))
	}
	slices.Sort(fields)
	data := map[string]any{"volunteer_id": id, "org_id": v.OrgID, "fields": fields, "volunteer_number": v.VolunteerNumber}
	for k, x := range extra {
		data[k] = x
	}
	return s.RecordEvent(ctx, FeedEvent{Type: feed.TypeVolunteerUpdated, Subject: feed.Subject{Type: feed.SubjectVolunteer, ID: id},
		OrgPath: v.OrgPath, Data: data, At: at})
}

// recordSpending records card.spending_recorded for a spending advice of
// one of our cards: that the card was used (purchase, refund or reversal)
// and on which China date, ordered with the application's events. The
// amount and the merchant stay out of the feed: the platform and the
// organisations see money only summed per city or university, in the
// month's rebate statement (rebate_statement.generated).
func (s *Store) recordSpending(ctx context.Context, r *spendingRow) error {
	var a struct {
		OrgID             int64
		OrgPath, BankCode string
	}
	if err := s.DB(ctx).Raw("SELECT org_id, org_path, bank_code FROM applications WHERE id = ?", *r.ApplicationID).
		Take(&a).Error; err != nil {
		return fmt.Errorf("record %s of card %d: %w", feed.TypeCardSpendingRecorded, *r.CardID, mapErr(err))
	}
	return s.RecordEvent(ctx, FeedEvent{Type: feed.TypeCardSpendingRecorded,
		Subject:  feed.Subject{Type: feed.SubjectCard, ID: *r.CardID},
		OrderKey: "application:" + strconv.FormatInt(*r.ApplicationID, 10), OrgPath: a.OrgPath, BankCode: a.BankCode,
		Data: map[string]any{"card_id": *r.CardID, "application_id": *r.ApplicationID, "spending_id": r.ID,
			"kind": r.Kind, "china_date": r.ChinaDate, "org_id": a.OrgID, "bank": a.BankCode},
		At: r.ReceivedAt})
}

package issuance

// Card renewal (issue 18). A card near or past the end of its expiry month
// is renewed through its bank: a status change with ST N travels as an
// outbox row of kind status_change (at most one open per application, as
// for every change), and the bank answers with the renewed card, following
// its own rule (docs/bank-interface.md section 7.1): the same PAN with a
// new expiry and the next PSN, or a new PAN. Either way the renewed card
// must be personalized again (the chip holds the expiry, 5F24), so the
// application goes back from issued or activated to bank_approved, like a
// replacement:
//
//   - same PAN: the card row is kept (its PAN token is the same) and takes
//     the new expiry, PSN, card reference and RS, and the bank's state
//     (issued unless the bank reports it active);
//   - new PAN: the old card becomes replaced (replaced_by the new one) and
//     a new card row (RS = the renewal's RS) becomes the application's
//     current card, exactly as storeNewCard does for a replacement.
//
// Staff renew in batches (RequestRenewals): every current card of an
// organisation's subtree whose validity ends before a date, or every card
// marked expired; one outbox row per card, with the batch's id in the
// row's payload so that the bank's answer lands on the batch's per-card
// result (RenewalItem).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/volcard/volcard/pii"
)

// RenewalRule is a bank's rule for renewing a card (docs/bank-interface.md
// section 7.1), declared per bank link (VOLCARD_BANKS_FILE renewal).
type RenewalRule string

// Renewal rules.
const (
	// RenewSamePAN: the renewed card keeps the PAN, with a new expiry and
	// the next PSN.
	RenewSamePAN RenewalRule = "same_pan"
	// RenewNewPAN: the renewed card has a new PAN.
	RenewNewPAN RenewalRule = "new_pan"
)

// Valid reports whether r is a known rule.
func (r RenewalRule) Valid() bool { return r == RenewSamePAN || r == RenewNewPAN }

// CardHasPAN reports whether card cardID has the PAN pan (by its token; the
// PAN is not kept). The outbox checks a bank's renewal answer against the
// bank's rule with it.
func (s *Service) CardHasPAN(ctx context.Context, cardID int64, pan pii.Secret) (bool, error) {
	c, err := s.store.GetCard(ctx, cardID)
	if err != nil {
		return false, fmt.Errorf("card %d: %w", cardID, err)
	}
	return bytes.Equal(c.PANToken, s.PANToken(pan.Reveal())), nil
}

// RenewalItemState is where one card of a renewal batch stands.
type RenewalItemState string

// Renewal item states.
const (
	// RenewalPending: the renewal is on its way to the bank.
	RenewalPending RenewalItemState = "pending"
	// RenewalRenewed: the bank renewed the card (NewCardID is the card to
	// personalize: the same card for a same-PAN renewal).
	RenewalRenewed RenewalItemState = "renewed"
	// RenewalRefused: the bank refused the renewal (ResultCode, Reason).
	RenewalRefused RenewalItemState = "refused"
	// RenewalSkipped: the card was not sent (Reason: another change on its
	// way, its application not handed over ...).
	RenewalSkipped RenewalItemState = "skipped"
)

// RenewalItem is one card of a renewal batch and its result.
type RenewalItem struct {
	BatchID    int64
	CardID     int64
	LastFour   string
	Expiry     string
	State      RenewalItemState
	ResultCode string
	Reason     string
	NewCardID  int64
	UpdatedAt  time.Time
}

// RenewalBatch is a batch of renewals asked for at once.
type RenewalBatch struct {
	ID    int64
	OrgID int64
	// Through is the YYMM selected: cards whose expiry is at most Through.
	Through string
	// ExpiredOnly: only cards marked expired were selected.
	ExpiredOnly  bool
	ActorTokenID int64
	ActorRole    Role
	CreatedAt    time.Time
	Items        []RenewalItem
}

// Progress counts a batch's items by state.
func (b RenewalBatch) Progress() map[RenewalItemState]int {
	out := map[RenewalItemState]int{RenewalPending: 0, RenewalRenewed: 0, RenewalRefused: 0, RenewalSkipped: 0}
	for _, it := range b.Items {
		out[it.State]++
	}
	return out
}

// RenewalRepo stores renewal batches. It is part of the Store;
// issuance/store implements it.
type RenewalRepo interface {
	// RenewableCards returns up to limit current cards whose application
	// lies in sc, in state issued, active or expired (only expired when
	// expiredOnly), with expiry at most through (YYMM), oldest expiry first.
	RenewableCards(ctx context.Context, sc Scope, through string, expiredOnly bool, limit int) ([]Card, error)
	// CreateRenewalBatch inserts b and its items and sets b.ID.
	CreateRenewalBatch(ctx context.Context, b *RenewalBatch) error
	// SetRenewalItem writes an item's state, result code, reason, new card
	// and update time.
	SetRenewalItem(ctx context.Context, it RenewalItem) error
	// GetRenewalBatch returns a batch with its items or ErrNotFound.
	GetRenewalBatch(ctx context.Context, id int64) (RenewalBatch, error)
	// RenewCard writes a card renewed with the same PAN: expiry, PSN, bank
	// reference, RS, state, pending change, activation time (zero: none)
	// and update time.
	RenewCard(ctx context.Context, c *Card) error
}

// RenewalRequest selects the cards of a renewal batch: those of OrgID's
// subtree whose validity ends before ExpiringBefore (China time), or, with
// ExpiredOnly, those marked expired.
type RenewalRequest struct {
	OrgID          int64
	ExpiringBefore time.Time
	ExpiredOnly    bool
	// Note is an optional reason kept on each card's event (≤ 200 chars).
	Note string
}

// maxRenewalBatch caps the cards of one batch; run another batch for more.
const maxRenewalBatch = 2000

// renewalRoles may renew cards.
var renewalRoles = []Role{RoleProvinceAdmin, RoleOrgAdmin, RoleSystem}

// RequestRenewals creates a renewal batch: every selected card without a
// change on its way gets a renewal (an outbox row, state pending), the
// others are skipped with the reason. Up to 2,000 cards per batch. A card
// already being renewed is skipped, so running the same batch again sends
// nothing twice. An organisation outside the actor's scope is ErrNotFound.
// Roles: province_admin, org_admin (their subtree), system. It needs
// WithBankOutbox.
func (s *Service) RequestRenewals(ctx context.Context, a Actor, req RenewalRequest) (RenewalBatch, error) {
	if err := RequireRole(a, renewalRoles...); err != nil {
		return RenewalBatch{}, err
	}
	if s.outbox == nil {
		return RenewalBatch{}, fmt.Errorf("issuance: no bank outbox configured")
	}
	req.Note = strings.TrimSpace(req.Note)
	if !utf8.ValidString(req.Note) || utf8.RuneCountInString(req.Note) > 200 {
		return RenewalBatch{}, Invalid("note", "at most 200 characters")
	}
	if req.ExpiredOnly == !req.ExpiringBefore.IsZero() {
		return RenewalBatch{}, Invalid("expiring_before", "give exactly one of expiring_before and expired")
	}
	now := s.clock.Now()
	through := ""
	if !req.ExpiredOnly {
		if req.ExpiringBefore.After(now.Add(MaxExpiringWithin)) {
			return RenewalBatch{}, Invalid("expiring_before", "at most two years ahead")
		}
		through = lastEndedMonth(req.ExpiringBefore)
	} else {
		through = "9912" // every card marked expired, whatever its date
	}
	o, err := s.GetOrg(ctx, a, req.OrgID)
	if err != nil {
		return RenewalBatch{}, err
	}
	sc, err := s.Scope(ctx, a)
	if err != nil {
		return RenewalBatch{}, err
	}
	sc.PathPrefix = o.Path
	cards, err := s.store.RenewableCards(ctx, sc, through, req.ExpiredOnly, maxRenewalBatch)
	if err != nil {
		return RenewalBatch{}, fmt.Errorf("renewable cards of org %d: %w", req.OrgID, err)
	}
	b := RenewalBatch{OrgID: o.ID, Through: through, ExpiredOnly: req.ExpiredOnly, ActorTokenID: a.TokenID,
		ActorRole: a.Role, CreatedAt: now}
	for _, c := range cards {
		b.Items = append(b.Items, RenewalItem{CardID: c.ID, LastFour: c.LastFour, Expiry: c.Expiry,
			State: RenewalPending, UpdatedAt: now})
	}
	if err := s.store.CreateRenewalBatch(ctx, &b); err != nil {
		return RenewalBatch{}, fmt.Errorf("renewal batch: %w", err)
	}
	// One card per transaction: a card refused (another change on its
	// way) does not hold up the others; each outcome is on the batch.
	for i := range b.Items {
		it := &b.Items[i]
		it.BatchID = b.ID
		_, written, err := s.changeCard(ctx, a, CardChangeRequest{CardID: it.CardID, Change: CardChangeRenew,
			Reason: req.Note, batchID: b.ID}, func(ctx context.Context) (Card, Application, error) {
			return s.cardInScope(ctx, a, it.CardID)
		})
		switch {
		case err == nil && written:
			continue
		case err == nil:
			it.State, it.Reason = RenewalSkipped, "a renewal of this card is already on its way to the bank"
		default:
			var ce *CardChangeError
			if !errors.As(err, &ce) {
				return b, fmt.Errorf("renewal batch %d: %w", b.ID, err)
			}
			it.State, it.Reason = RenewalSkipped, ce.Reason
		}
		it.UpdatedAt = s.clock.Now()
		if err := s.store.SetRenewalItem(ctx, *it); err != nil {
			return b, fmt.Errorf("renewal batch %d: %w", b.ID, err)
		}
	}
	return b, nil
}

// RenewalBatch returns a renewal batch with its per-card results, when its
// organisation lies in the actor's scope (else ErrNotFound). Roles:
// province_admin, org_admin, system.
func (s *Service) RenewalBatch(ctx context.Context, a Actor, id int64) (RenewalBatch, error) {
	if err := RequireRole(a, renewalRoles...); err != nil {
		return RenewalBatch{}, err
	}
	b, err := s.store.GetRenewalBatch(ctx, id)
	if err != nil {
		return RenewalBatch{}, fmt.Errorf("renewal batch %d: %w", id, err)
	}
	if _, err := s.GetOrg(ctx, a, b.OrgID); err != nil {
		return RenewalBatch{}, fmt.Errorf("renewal batch %d: %w", id, err)
	}
	return b, nil
}

// recordRenewal applies the bank's approval of a renewal of card c (in
// RecordCardStatusChange's transaction): see the file comment.
func (s *Service) recordRenewal(ctx context.Context, c Card, ch CardStatusChange, res BankCardStatus) error {
	if res.Card == nil {
		return fmt.Errorf("renewal of card %d approved without a card: %w", c.ID, ErrInvalid)
	}
	ic := *res.Card
	pan := ic.PAN.Reveal()
	if len(pan) < 12 || strings.Trim(pan, "0123456789") != "" {
		return Invalid("pan", "must be 12–19 digits")
	}
	if _, err := ExpiryEnd(ic.Expiry); err != nil {
		return err
	}
	now := s.clock.Now()
	newID := c.ID
	if bytes.Equal(s.PANToken(pan), c.PANToken) {
		old := c.Expiry
		c.Expiry, c.PSN, c.ReplaceSeq, c.PendingChange, c.UpdatedAt = ic.Expiry, ic.PSN, ch.ReplaceSeq, "", now
		if ic.Reference != "" {
			c.BankReference = ic.Reference
		}
		c.State, c.ActivatedAt = BankCardIssued, time.Time{}
		if res.BankState == "A" {
			c.State, c.ActivatedAt = BankCardActive, now
		}
		if err := s.store.RenewCard(ctx, &c); err != nil {
			return err
		}
		if err := s.appendBankEvent(ctx, c.ID, CardEventConfirmed, CardChangeRenew, "00",
			"renewed with the same card number: expiry "+old+" → "+c.Expiry+", PSN "+c.PSN); err != nil {
			return err
		}
		if err := s.backToBankApproved(ctx, c.ApplicationID,
			"renewed card ending "+c.LastFour+" (expiry "+c.Expiry+") to personalize"); err != nil {
			return err
		}
	} else {
		nc, err := s.storeNewCard(ctx, c, ch.ReplaceSeq, ic, CardChangeRenew)
		if err != nil {
			return err
		}
		c.State, c.ReplacedBy, c.PendingChange, c.UpdatedAt = BankCardReplaced, nc.ID, "", now
		if err := s.store.UpdateCard(ctx, &c); err != nil {
			return err
		}
		if err := s.appendBankEvent(ctx, c.ID, CardEventConfirmed, CardChangeRenew, "00",
			"renewed by the card ending "+nc.LastFour); err != nil {
			return err
		}
		newID = nc.ID
	}
	// The confirmed renewal above wrote card.renewed to the feed (the
	// store's AppendCardEvent), naming the renewed card newID.
	if ch.BatchID != 0 {
		return s.store.SetRenewalItem(ctx, RenewalItem{BatchID: ch.BatchID, CardID: ch.CardID, State: RenewalRenewed,
			ResultCode: "00", NewCardID: newID, UpdatedAt: now})
	}
	return nil
}

// backToBankApproved moves an issued or activated application back to
// bank_approved for the personalization of its new card.
func (s *Service) backToBankApproved(ctx context.Context, applicationID int64, reason string) error {
	app, err := s.store.GetApplication(ctx, applicationID, Scope{})
	if err != nil {
		return err
	}
	if app.Status == StatusIssued || app.Status == StatusActivated {
		_, err = s.Transition(ctx, SystemActor(), app.ID, StatusBankApproved, reason)
	}
	return err
}

// pastTense is "replaced" or "renewed", for refusals.
func pastTense(c CardChange) string {
	if c == CardChangeRenew {
		return "renewed"
	}
	return string(c) + "d"
}

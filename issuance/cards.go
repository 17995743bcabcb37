package issuance

// Card lifecycle through the partner bank: block (lost, stolen), unblock and
// replace. A change is asked for here, travels to the bank as an outbox row
// of kind status_change written in the same transaction, and changes the
// card only when the bank confirms it (RecordCardStatusChange); meanwhile
// the card shows the pending change and check-in refuses it when a block or
// a replacement is on its way.
//
// A replacement keeps the application and the holder: the bank issues a new
// card (new PAN, PSN 001, new expiry) for the same application number; the
// old card becomes replaced and a new card row (ReplaceSeq = the bank's RS)
// becomes the application's current card, and the application goes from
// issued or activated back to bank_approved so that the new card is
// personalized and handed over like the first one. An application has at
// most one card that is not replaced, so a holder has one usable card per
// product.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/volcard/volcard/internal/clip"
	"github.com/volcard/volcard/pii"
)

// CardChange is a status change of a card asked of the bank.
type CardChange string

// Card changes. Activation is the holder's business with the bank and
// reaches us as an advice, so it is not one of them.
const (
	CardChangeBlock   CardChange = "block"
	CardChangeUnblock CardChange = "unblock"
	CardChangeReplace CardChange = "replace"
	// CardChangeRenew asks the bank for the renewed card of an expiring or
	// expired card (renewal.go).
	CardChangeRenew CardChange = "renew"
	// CardChangeClose closes the card at the bank for good (closing.go).
	CardChangeClose CardChange = "close"
)

// Valid reports whether c is a known change.
func (c CardChange) Valid() bool {
	switch c {
	case CardChangeBlock, CardChangeUnblock, CardChangeReplace, CardChangeRenew, CardChangeClose:
		return true
	}
	return false
}

// BankStatus returns field 48 subfield ST of the change (docs/bank-interface.md
// section 3): B, U, R, N (renew) or C (close).
func (c CardChange) BankStatus() string {
	switch c {
	case CardChangeBlock:
		return "B"
	case CardChangeUnblock:
		return "U"
	case CardChangeReplace:
		return "R"
	case CardChangeRenew:
		return "N"
	case CardChangeClose:
		return "C"
	}
	return ""
}

// newCard reports whether the bank answers the change with a new card
// (2/14/23/CR of the 0310 are the card issued): a replacement and a
// renewal; both carry an RS.
func (c CardChange) newCard() bool { return c == CardChangeReplace || c == CardChangeRenew }

// MaxReplacements is the highest replacement sequence (RS) the interface
// allows for one application.
const MaxReplacements = 99

// ErrCardChange means a card change is not possible from the card's state
// (a replaced or cancelled card, an unblock of a card that is not blocked
// while another change is pending, a replacement of a card never handed
// out). It wraps ErrIllegalTransition.
var ErrCardChange = fmt.Errorf("card change not allowed: %w", ErrIllegalTransition)

// CardChangeError is a refused card change with the state it was refused in.
type CardChangeError struct {
	Change  CardChange
	State   BankCardState
	Pending CardChange
	// Reason says why in words for staff (no card data).
	Reason string
}

// Error implements error.
func (e *CardChangeError) Error() string {
	s := fmt.Sprintf("card %s not allowed in state %s", e.Change, e.State)
	if e.Pending != "" {
		s += " with " + string(e.Pending) + " pending"
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Unwrap returns ErrCardChange.
func (e *CardChangeError) Unwrap() error { return ErrCardChange }

// CardStatusChange is the payload of a status_change outbox row (no
// personal data): which card, which change and, for a replacement, the RS.
type CardStatusChange struct {
	CardID     int64      `json:"card_id"`
	Change     CardChange `json:"change"`
	ReplaceSeq int        `json:"replace_seq,omitempty"`
	// BatchID is the renewal batch that asked for a renewal (0: none).
	BatchID int64 `json:"batch_id,omitempty"`
	// CloseReason is why a card is closed (close only).
	CloseReason CloseReason `json:"close_reason,omitempty"`
}

// CardEventKind names a card event.
type CardEventKind string

// Card event kinds.
const (
	CardEventRequested CardEventKind = "requested" // change asked for, sent to the bank
	CardEventConfirmed CardEventKind = "confirmed" // the bank did it
	CardEventRefused   CardEventKind = "refused"   // the bank refused it (ResultCode)
	CardEventIssued    CardEventKind = "issued"    // a replacement card issued by the bank
)

// CardEvent is one audit record of a card's lifecycle: who asked for which
// change, when and why, and what the bank answered. It holds no card data.
type CardEvent struct {
	ID           int64
	CardID       int64
	Kind         CardEventKind
	Change       CardChange
	ActorTokenID int64
	ActorRole    Role
	Channel      Channel
	Reason       string
	ResultCode   string
	At           time.Time
}

// CardLifecycleRepo stores card changes. It is part of the Store;
// issuance/store implements it.
type CardLifecycleRepo interface {
	// GetCard returns a card by id or ErrNotFound.
	GetCard(ctx context.Context, id int64) (Card, error)
	// CardsOfApplication returns every card of an application, oldest first.
	CardsOfApplication(ctx context.Context, applicationID int64) ([]Card, error)
	// CardsOfVolunteer returns every card of a volunteer's applications,
	// oldest first.
	CardsOfVolunteer(ctx context.Context, volunteerID int64) ([]Card, error)
	// UpdateCard writes c's state, pending change, block reason, replaced-by
	// and update time.
	UpdateCard(ctx context.Context, c *Card) error
	// AppendCardEvent inserts e and sets e.ID.
	AppendCardEvent(ctx context.Context, e *CardEvent) error
	// CardEvents returns a card's events, oldest first.
	CardEvents(ctx context.Context, cardID int64) ([]CardEvent, error)
}

// CardRefused reports whether check-in must refuse a card in state st with
// change pending: anything but an issued or active card, and a card whose
// block or replacement (it was lost) is on its way to the bank.
func CardRefused(st BankCardState, pending CardChange) bool {
	if st != BankCardIssued && st != BankCardActive {
		return true
	}
	return pending == CardChangeBlock || pending == CardChangeReplace
}

// CardDetails is a card as staff see it: no clear PAN, only the masked PAN
// (first six and last four digits) and the last four.
type CardDetails struct {
	Card
	// MaskedPAN is 621660*********1234.
	MaskedPAN         string
	ApplicationNumber string
	ApplicationStatus Status
	VolunteerID       int64
	ProductCode       string
	BankCode          string
}

// DisplayState is the state shown to staff: "<change>_pending" (for
// example block_pending) while a change is on its way to the bank, else the
// card's state.
func (d CardDetails) DisplayState() string {
	if d.PendingChange != "" {
		return string(d.PendingChange) + "_pending"
	}
	return string(d.State)
}

// CardChangeRequest asks for a change of a card.
type CardChangeRequest struct {
	CardID int64
	Change CardChange
	// Reason is required for a block and a replacement (lost, stolen,
	// damaged ...), at most 200 characters, no card data; a note for a
	// renewal or a closing.
	Reason string
	// CloseReason is required for a closing (CloseCard) and only there.
	CloseReason CloseReason
	// batchID is the renewal batch asking (RequestRenewals).
	batchID int64
}

// cardChangeRoles may ask for card changes: the holder's organisation
// admins (their subtree), province admins and the staff of the card's bank.
var cardChangeRoles = []Role{RoleProvinceAdmin, RoleOrgAdmin, RoleBankStaff, RoleSystem}

// cardReadRoles may read cards.
var cardReadRoles = []Role{RoleProvinceAdmin, RoleOrgAdmin, RoleBankStaff, RolePlatform, RoleSystem}

// cardInScope loads a card and its application inside the actor's scope;
// a card outside it is ErrNotFound.
func (s *Service) cardInScope(ctx context.Context, a Actor, id int64) (Card, Application, error) {
	sc, err := s.Scope(ctx, a)
	if err != nil {
		return Card{}, Application{}, err
	}
	c, err := s.store.GetCard(ctx, id)
	if err != nil {
		return Card{}, Application{}, fmt.Errorf("card %d: %w", id, err)
	}
	app, err := s.store.GetApplication(ctx, c.ApplicationID, sc)
	if err != nil {
		return Card{}, Application{}, fmt.Errorf("card %d: %w", id, err)
	}
	return c, app, nil
}

func (s *Service) details(c Card, app Application) CardDetails {
	d := CardDetails{Card: c, ApplicationNumber: app.Number, ApplicationStatus: app.Status,
		VolunteerID: app.VolunteerID, ProductCode: app.ProductCode, BankCode: app.BankCode,
		MaskedPAN: strings.Repeat("*", 12) + c.LastFour}
	if pan, err := s.OpenPAN(c); err == nil {
		d.MaskedPAN = pii.MaskPAN(pan.Reveal())
	}
	return d
}

// maskPAN keeps the first six and last four digits (621660*********1234).
// GetCard returns a card inside the actor's scope (bank staff see their
// bank's cards only).
func (s *Service) GetCard(ctx context.Context, a Actor, id int64) (CardDetails, error) {
	if err := RequireRole(a, cardReadRoles...); err != nil {
		return CardDetails{}, err
	}
	c, app, err := s.cardInScope(ctx, a, id)
	if err != nil {
		return CardDetails{}, err
	}
	return s.details(c, app), nil
}

// VolunteerCards returns a volunteer's cards (current and replaced, oldest
// first) inside the actor's scope.
func (s *Service) VolunteerCards(ctx context.Context, a Actor, volunteerID int64) ([]CardDetails, error) {
	if err := RequireRole(a, cardReadRoles...); err != nil {
		return nil, err
	}
	if _, err := s.GetVolunteer(ctx, a, volunteerID); err != nil {
		return nil, err
	}
	sc, err := s.Scope(ctx, a)
	if err != nil {
		return nil, err
	}
	cards, err := s.store.CardsOfVolunteer(ctx, volunteerID)
	if err != nil {
		return nil, fmt.Errorf("cards of volunteer %d: %w", volunteerID, err)
	}
	out := make([]CardDetails, 0, len(cards))
	apps := map[int64]Application{}
	for _, c := range cards {
		app, ok := apps[c.ApplicationID]
		if !ok {
			app, err = s.store.GetApplication(ctx, c.ApplicationID, sc)
			if isNotFound(err) {
				continue // another bank's card
			}
			if err != nil {
				return nil, fmt.Errorf("cards of volunteer %d: %w", volunteerID, err)
			}
			apps[c.ApplicationID] = app
		}
		out = append(out, s.details(c, app))
	}
	return out, nil
}

// CardEvents returns the lifecycle events of a card inside the actor's
// scope, oldest first.
func (s *Service) CardEvents(ctx context.Context, a Actor, id int64) ([]CardEvent, error) {
	if err := RequireRole(a, cardReadRoles...); err != nil {
		return nil, err
	}
	if _, _, err := s.cardInScope(ctx, a, id); err != nil {
		return nil, err
	}
	ev, err := s.store.CardEvents(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("events of card %d: %w", id, err)
	}
	return ev, nil
}

// RequestCardChange asks the bank to block, unblock, replace, renew or close
// a card: it marks the change pending on the card, writes the status_change
// outbox row and the card event, in one transaction, and returns the card.
// It reports whether a row was written: asking for the change that is
// already pending, or for the state the card is already in (a block of a
// blocked card, an unblock of a card that is not blocked, a closing of a
// closed card), changes nothing and is not an error. Another change
// pending, a replaced or closed card, an expired card for anything but a
// renewal or a closing, a renewal of a blocked card, or a replacement or
// renewal of a card whose application was never handed over is a
// *CardChangeError (ErrIllegalTransition). Renewals are for
// province_admin, org_admin and system only. It needs WithBankOutbox.
func (s *Service) RequestCardChange(ctx context.Context, a Actor, req CardChangeRequest) (CardDetails, bool, error) {
	if err := RequireRole(a, cardChangeRoles...); err != nil {
		return CardDetails{}, false, err
	}
	if req.Change == CardChangeRenew {
		// The programme renews its volunteers' cards: league staff, not
		// the bank's.
		if err := RequireRole(a, renewalRoles...); err != nil {
			return CardDetails{}, false, err
		}
	}
	if !req.Change.Valid() {
		return CardDetails{}, false, Invalid("change", "must be block, unblock, replace, renew or close")
	}
	req.Reason = strings.TrimSpace(req.Reason)
	switch {
	case !utf8.ValidString(req.Reason) || utf8.RuneCountInString(req.Reason) > 200:
		return CardDetails{}, false, Invalid("reason", "at most 200 characters")
	case req.Reason == "" && (req.Change == CardChangeBlock || req.Change == CardChangeReplace):
		return CardDetails{}, false, Invalid("reason", "required for a block or a replacement")
	case req.Change == CardChangeClose && !req.CloseReason.Valid():
		return CardDetails{}, false, Invalid("close_reason", "must be one of "+closeReasonList())
	case req.Change != CardChangeClose && req.CloseReason != "":
		return CardDetails{}, false, Invalid("close_reason", "only for a closing")
	}
	return s.changeCard(ctx, a, req, func(ctx context.Context) (Card, Application, error) {
		return s.cardInScope(ctx, a, req.CardID)
	})
}

// changeCard is RequestCardChange after the role and the request are
// checked: load finds the card and its application inside the transaction
// (in the actor's scope for staff; by the holder's application for a loss
// report).
func (s *Service) changeCard(ctx context.Context, a Actor, req CardChangeRequest,
	load func(ctx context.Context) (Card, Application, error)) (CardDetails, bool, error) {
	if s.outbox == nil {
		return CardDetails{}, false, errors.New("issuance: no bank outbox configured")
	}
	var (
		out     CardDetails
		written bool
	)
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		written = false
		c, app, err := load(ctx)
		if err != nil {
			return err
		}
		out = s.details(c, app)
		refuse := func(why string) error {
			return &CardChangeError{Change: req.Change, State: c.State, Pending: c.PendingChange, Reason: why}
		}
		switch {
		case c.PendingChange == req.Change:
			return nil // asked again while on its way
		case c.PendingChange != "":
			return refuse("wait until the bank has answered the pending change")
		case c.State == BankCardReplaced:
			return refuse("the card can no longer be used")
		case c.State == BankCardClosed && req.Change == CardChangeClose:
			return nil // closed already
		case c.State == BankCardClosed:
			return refuse("the card is closed")
		case c.State == BankCardExpired && req.Change != CardChangeRenew && req.Change != CardChangeClose:
			return refuse("the card has expired; it can only be renewed or closed")
		case req.Change == CardChangeRenew && c.State == BankCardBlocked:
			return refuse("a blocked card is not renewed; unblock or replace it first")
		case req.Change == CardChangeBlock && c.State == BankCardBlocked:
			return nil
		case req.Change == CardChangeUnblock && c.State != BankCardBlocked:
			return nil
		}
		ch := CardStatusChange{CardID: c.ID, Change: req.Change, BatchID: req.batchID, CloseReason: req.CloseReason}
		if req.Change.newCard() {
			if app.Status != StatusIssued && app.Status != StatusActivated {
				return refuse("only a card that was handed over can be " + pastTense(req.Change) + "; application is " + string(app.Status))
			}
			all, err := s.store.CardsOfApplication(ctx, app.ID)
			if err != nil {
				return err
			}
			for _, x := range all {
				ch.ReplaceSeq = max(ch.ReplaceSeq, x.ReplaceSeq)
			}
			ch.ReplaceSeq++
			if ch.ReplaceSeq > MaxReplacements {
				return refuse("the application has had the most replacements the bank allows")
			}
		}
		payload, err := json.Marshal(ch)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		c.PendingChange, c.UpdatedAt = req.Change, now
		if req.Change == CardChangeBlock || req.Change == CardChangeReplace {
			c.BlockReason = req.Reason
		}
		if err := s.store.UpdateCard(ctx, &c); err != nil {
			return err
		}
		r := NewBankRequest{ApplicationID: app.ID, ApplicationNumber: app.Number, Kind: BankStatusChange,
			Payload: payload, At: now}
		if err := s.outbox.EnqueueBankRequest(ctx, r); err != nil {
			if errors.Is(err, ErrConflict) {
				return refuse("another change of this application's card is on its way to the bank")
			}
			return fmt.Errorf("enqueue status change: %w", err)
		}
		reason := req.Reason
		if req.Change == CardChangeClose {
			reason = strings.TrimSpace(string(req.CloseReason) + " " + req.Reason)
		}
		e := CardEvent{CardID: c.ID, Kind: CardEventRequested, Change: req.Change, ActorTokenID: a.TokenID,
			ActorRole: a.Role, Channel: a.Role.Channel(), Reason: reason, At: now}
		if err := s.store.AppendCardEvent(ctx, &e); err != nil {
			return err
		}
		// The store writes card.renewal_requested / card.close_requested
		// to the feed with the requested event, in this transaction.
		out, written = s.details(c, app), true
		return nil
	})
	if err != nil {
		return CardDetails{}, false, fmt.Errorf("card %d %s: %w", req.CardID, req.Change, err)
	}
	return out, written, nil
}

// BankCardStatus is the bank's answer to a status change: the card it
// reports (for a replacement the new card, with its clear PAN in memory
// only) and the card's state at the bank (field 48 ST: I, A, B, R, C).
type BankCardStatus struct {
	Card      *IssuedCard
	BankState string
}

// RecordCardStatusChange applies the bank's approval of a status change, in
// one transaction (joining the caller's): block → blocked; unblock → the
// state the bank reports (active, else issued); replace → the old card
// replaced, the new card stored (PAN token, sealed PAN, last four, expiry,
// PSN, RS) as the application's current card and the application moved
// back to bank_approved for personalization; renew → the renewed card
// (recordRenewal, renewal.go); close → the card closed and its application
// cancelled (recordClosing, closing.go). Applying it again is a no-op (the
// card no longer has that change pending).
func (s *Service) RecordCardStatusChange(ctx context.Context, ch CardStatusChange, res BankCardStatus) error {
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		c, err := s.store.GetCard(ctx, ch.CardID)
		if err != nil {
			return err
		}
		if c.PendingChange != ch.Change {
			return nil // applied already
		}
		now := s.clock.Now()
		c.PendingChange, c.UpdatedAt = "", now
		switch ch.Change {
		case CardChangeBlock:
			c.State = BankCardBlocked
		case CardChangeUnblock:
			c.State = BankCardIssued
			if res.BankState == "A" || (res.BankState == "" && !c.ActivatedAt.IsZero()) {
				c.State = BankCardActive
			}
		case CardChangeRenew:
			return s.recordRenewal(ctx, c, ch, res)
		case CardChangeClose:
			return s.recordClosing(ctx, c, ch)
		case CardChangeReplace:
			if res.Card == nil {
				return fmt.Errorf("replacement of card %d approved without a card: %w", c.ID, ErrInvalid)
			}
			nc, err := s.storeNewCard(ctx, c, ch.ReplaceSeq, *res.Card, CardChangeReplace)
			if err != nil {
				return err
			}
			c.State, c.ReplacedBy = BankCardReplaced, nc.ID
			if err := s.store.UpdateCard(ctx, &c); err != nil {
				return err
			}
			return s.appendBankEvent(ctx, c.ID, CardEventConfirmed, ch.Change, "00",
				"replaced by the card ending "+nc.LastFour)
		}
		if err := s.store.UpdateCard(ctx, &c); err != nil {
			return err
		}
		return s.appendBankEvent(ctx, c.ID, CardEventConfirmed, ch.Change, "00", "")
	})
	if err != nil {
		return fmt.Errorf("record card %d %s: %w", ch.CardID, ch.Change, err)
	}
	return nil
}

// storeNewCard marks the old card replaced (first, so that the new card
// can become the current one), stores the new card the bank issued for a
// replacement or a renewal (change) and moves the application back to
// bank_approved.
func (s *Service) storeNewCard(ctx context.Context, old Card, seq int, ic IssuedCard, change CardChange) (Card, error) {
	pan := ic.PAN.Reveal()
	if len(pan) < 12 || strings.Trim(pan, "0123456789") != "" {
		return Card{}, Invalid("pan", "must be 12–19 digits")
	}
	now := s.clock.Now()
	old.State, old.UpdatedAt = BankCardReplaced, now
	if err := s.store.UpdateCard(ctx, &old); err != nil {
		return Card{}, err
	}
	sealed, err := s.keys.Seal(purposePAN, pan)
	if err != nil {
		return Card{}, fmt.Errorf("seal PAN: %w", err)
	}
	nc := Card{ApplicationID: old.ApplicationID, PANToken: s.PANToken(pan), PANSealed: sealed, LastFour: pan[len(pan)-4:],
		Expiry: ic.Expiry, PSN: ic.PSN, BankReference: ic.Reference, State: BankCardIssued, ReplaceSeq: seq,
		CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateCard(ctx, &nc); err != nil {
		return Card{}, err
	}
	what := "replacement"
	if change == CardChangeRenew {
		what = "renewal"
	}
	if err := s.appendBankEvent(ctx, nc.ID, CardEventIssued, change, "00",
		what+" of the card ending "+old.LastFour); err != nil {
		return Card{}, err
	}
	if err := s.backToBankApproved(ctx, old.ApplicationID,
		what+" card ending "+nc.LastFour+" for the card ending "+old.LastFour); err != nil {
		return Card{}, err
	}
	return nc, nil
}

// RecordCardChangeRefused applies a final refusal by the bank (code 57,
// 25, 12, 30 ...): the pending change is dropped and the card keeps its
// state. A second call is a no-op.
func (s *Service) RecordCardChangeRefused(ctx context.Context, ch CardStatusChange, code, reason string) error {
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		c, err := s.store.GetCard(ctx, ch.CardID)
		if err != nil {
			return err
		}
		if c.PendingChange != ch.Change {
			return nil
		}
		c.PendingChange, c.UpdatedAt = "", s.clock.Now()
		if err := s.store.UpdateCard(ctx, &c); err != nil {
			return err
		}
		if ch.BatchID != 0 {
			if err := s.store.SetRenewalItem(ctx, RenewalItem{BatchID: ch.BatchID, CardID: c.ID, State: RenewalRefused,
				ResultCode: code, Reason: clip.Runes(reason, 200), UpdatedAt: c.UpdatedAt}); err != nil {
				return err
			}
		}
		// The refused event writes card.change_refused to the feed.
		return s.appendBankEvent(ctx, c.ID, CardEventRefused, ch.Change, code, clip.Runes(reason, 200))
	})
	if err != nil {
		return fmt.Errorf("record refusal of card %d %s: %w", ch.CardID, ch.Change, err)
	}
	return nil
}

func (s *Service) appendBankEvent(ctx context.Context, cardID int64, kind CardEventKind, ch CardChange, code, reason string) error {
	e := CardEvent{CardID: cardID, Kind: kind, Change: ch, ActorRole: RoleSystem, Channel: RoleSystem.Channel(),
		Reason: reason, ResultCode: code, At: s.clock.Now()}
	return s.store.AppendCardEvent(ctx, &e)
}

// CardByPAN finds a bank-issued card by its PAN (through the PAN token)
// inside the actor's scope; an unknown card or one outside the scope is
// ErrNotFound. The PAN is not kept.
func (s *Service) CardByPAN(ctx context.Context, a Actor, pan string) (CardDetails, error) {
	if err := RequireRole(a, cardReadRoles...); err != nil {
		return CardDetails{}, err
	}
	pan = strings.TrimSpace(pan)
	if len(pan) < 12 || len(pan) > 19 || strings.Trim(pan, "0123456789") != "" {
		return CardDetails{}, Invalid("pan", "must be 12–19 digits")
	}
	c, err := s.store.GetCardByToken(ctx, s.PANToken(pan))
	if err != nil {
		return CardDetails{}, fmt.Errorf("card by PAN: %w", err)
	}
	c, app, err := s.cardInScope(ctx, a, c.ID)
	if err != nil {
		return CardDetails{}, err
	}
	return s.details(c, app), nil
}

// indexPAN is the blind-index purpose of PAN tokens.
const indexPAN = "pan"

// PANToken returns the token that stands for a PAN in storage: an HMAC
// blind index (the clear PAN is never stored). Personalization and the bank
// outbox must use the same function so that their card rows match.
func (s *Service) PANToken(pan string) []byte {
	return s.keys.Index(indexPAN, strings.TrimSpace(pan))
}

package issuance

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Activation advices may come before the card (docs/bank-interface.md
// section 7.2): the holder activates the card at the bank while our
// approval (the 0310 with the card) is still on its way. Such an advice is
// parked in bank_advices, acknowledged 00, and applied in the transaction
// that records the card (RecordBankApproval).

// BankAdviceKindActivation is the kind of an activation advice in
// bank_advices (the same word as bankgw.AdviceActivation).
const BankAdviceKindActivation = "activation"

// BankAdviceState is where a stored advice stands.
type BankAdviceState string

// Bank advice states.
const (
	// BankAdviceParked is an advice for a card we do not know yet.
	BankAdviceParked BankAdviceState = "parked"
	// BankAdviceApplied is an advice applied to its card.
	BankAdviceApplied BankAdviceState = "applied"
)

// BankAdvice is a stored advice from the bank, once per RRN and kind. It
// holds no clear PAN: PANToken is Service.PANToken(PAN) and LastFour the
// PAN's last four digits.
type BankAdvice struct {
	ID                int64
	RRN               string
	Kind              string
	PANToken          []byte `json:"-"`
	LastFour          string
	ApplicationNumber string
	State             BankAdviceState
	CardID            int64 // 0 while parked
	ReceivedAt        time.Time
	AppliedAt         time.Time
}

// BankAdviceRepo stores advices from the bank. It is part of the Store;
// issuance/store implements it.
type BankAdviceRepo interface {
	// InsertBankAdvice inserts a unless an advice with its RRN and kind
	// exists, sets a.ID when it inserted and reports whether it did.
	InsertBankAdvice(ctx context.Context, a *BankAdvice) (bool, error)
	// ParkedBankAdvices returns the parked advices of a kind for a PAN
	// token, and those without a PAN token for the application number,
	// oldest first.
	ParkedBankAdvices(ctx context.Context, kind string, panToken []byte, applicationNumber string) ([]BankAdvice, error)
	// MarkBankAdviceApplied records that a parked advice was applied to a
	// card.
	MarkBankAdviceApplied(ctx context.Context, id, cardID int64, at time.Time) error
	// LockPANToken serializes the caller's transaction with others locking
	// the same token until it ends (an advisory lock on PostgreSQL; SQLite
	// has one writer anyway), so that an advice and the approval of its
	// card cannot miss each other.
	LockPANToken(ctx context.Context, panToken []byte) error
}

// AdviceOutcome says what became of an advice.
type AdviceOutcome string

// Advice outcomes.
const (
	// AdviceApplied: the advice was new and applied to its card.
	AdviceApplied AdviceOutcome = "applied"
	// AdviceParked: the advice was new, for a card we do not know yet; it
	// is stored and applied when the card is recorded.
	AdviceParked AdviceOutcome = "parked"
	// AdviceDuplicate: an advice with this RRN and kind was stored before;
	// nothing changed.
	AdviceDuplicate AdviceOutcome = "duplicate"
)

// RecordActivationAdvice stores an activation advice once per RRN and
// applies it: the card becomes active and its application, when issued,
// activated (an application not issued yet moves on when it becomes
// issued). An advice for a card we do not know yet is parked and applied by
// RecordBankApproval when the card arrives. A repeated advice (same RRN) is
// a no-op reported as AdviceDuplicate. Every outcome is durable when it
// returns nil, so the caller may acknowledge the advice.
func (s *Service) RecordActivationAdvice(ctx context.Context, rrn string, ref CardRef) (AdviceOutcome, error) {
	pan := ref.PAN.Reveal()
	if rrn == "" || (pan == "" && ref.ApplicationNumber == "") {
		return "", Invalid("rrn", "required, with a PAN or an application number")
	}
	var token []byte
	lastFour := ""
	if pan != "" {
		token = s.PANToken(pan)
		if len(pan) >= 4 {
			lastFour = pan[len(pan)-4:]
		}
	}
	var out AdviceOutcome
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		if token != nil {
			if err := s.store.LockPANToken(ctx, token); err != nil {
				return err
			}
		}
		now := s.clock.Now()
		a := BankAdvice{RRN: rrn, Kind: BankAdviceKindActivation, PANToken: token, LastFour: lastFour,
			ApplicationNumber: ref.ApplicationNumber, State: BankAdviceParked, ReceivedAt: now}
		c, err := s.findCard(ctx, ref)
		switch {
		case err == nil:
			a.State, a.CardID, a.AppliedAt = BankAdviceApplied, c.ID, now
		case !isNotFound(err):
			return err
		}
		inserted, err := s.store.InsertBankAdvice(ctx, &a)
		switch {
		case err != nil:
			return err
		case !inserted:
			out = AdviceDuplicate
			return nil
		case a.State == BankAdviceParked:
			out = AdviceParked
			return nil
		}
		out = AdviceApplied
		return s.activate(ctx, c, "activated by the holder")
	})
	if err != nil {
		return "", fmt.Errorf("record activation advice rrn %s: %w", rrn, err)
	}
	return out, nil
}

// activate makes an issued card active and moves its application from
// issued to activated; a blocked, replaced or cancelled card is left as it
// is. Repeats are no-ops.
func (s *Service) activate(ctx context.Context, c Card, reason string) error {
	if err := s.store.ActivateCard(ctx, c.ID, s.clock.Now()); err != nil {
		return err
	}
	if c.State != BankCardIssued && c.State != BankCardActive {
		return nil // a blocked, replaced or cancelled card does not move its application
	}
	app, err := s.store.GetApplication(ctx, c.ApplicationID, Scope{})
	if err != nil {
		return err
	}
	if app.Status == StatusIssued {
		_, err = s.Transition(ctx, SystemActor(), app.ID, StatusActivated, reason)
	}
	return err
}

// applyParkedAdvices applies the parked activation advices for a card
// just recorded (in the caller's transaction): the card becomes active, and
// its application moves on to activated when it is issued.
func (s *Service) applyParkedAdvices(ctx context.Context, c Card, applicationNumber string) error {
	if err := s.store.LockPANToken(ctx, c.PANToken); err != nil {
		return err
	}
	parked, err := s.store.ParkedBankAdvices(ctx, BankAdviceKindActivation, c.PANToken, applicationNumber)
	if err != nil || len(parked) == 0 {
		return err
	}
	now := s.clock.Now()
	for _, a := range parked {
		if err := s.store.MarkBankAdviceApplied(ctx, a.ID, c.ID, now); err != nil {
			return err
		}
	}
	if err := s.activate(ctx, c, "activated by the holder (advice received before the card)"); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "parked activation advice applied", slog.Int64("card", c.ID),
		slog.String("application", applicationNumber), slog.String("rrn", parked[0].RRN),
		slog.Duration("parked_for", now.Sub(parked[0].ReceivedAt)))
	return nil
}

package issuance

// A holder's own loss report (issue 18): the holder proves who they are as
// for the progress lookup (application number and ID number) and the card
// is blocked exactly as staff block it, through the bank outbox, with a
// card event of role "holder". Staff unblock it as any blocked card
// (RequestCardChange with CardChangeUnblock).

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// LossReportReason is the block reason and event reason of a holder's
// loss report.
const LossReportReason = "loss reported by the holder"

// LossReport is the answer to a holder's loss report. It holds no card
// data beyond the last four digits, which the holder reads off the card.
type LossReport struct {
	ApplicationNumber string
	LastFour          string
	// State is the card as staff see it (CardDetails.DisplayState):
	// block_pending, blocked or replace_pending.
	State string
	// Reported is true when this report asked the bank to block the card;
	// false when a block (or a replacement) was already on its way or done.
	Reported bool
}

// ReportLoss blocks the card of the application whose number and holder's
// ID number are given, as a holder reporting it lost. The card is blocked
// through the bank like a staff block (RequestCardChange): pending at once,
// so check-in refuses it, and blocked when the bank confirms. Reporting a
// card whose block or replacement is already on its way, or that is
// blocked, writes nothing and is not an error.
//
// A wrong pair (unknown number, wrong ID number, malformed input) and a
// right pair whose application has no card that could be blocked (not yet
// issued, cancelled) are the same ErrNotFound, as the progress lookup
// answers, so the route tells a guesser nothing new. A card with a staff
// unblock on its way is a *CardChangeError. The caller must rate-limit it.
func (s *Service) ReportLoss(ctx context.Context, applicationNumber, idNumber string) (LossReport, error) {
	app, _, err := s.holderApplication(ctx, applicationNumber, idNumber)
	if err != nil {
		return LossReport{}, fmt.Errorf("loss report: %w", err)
	}
	current := func(ctx context.Context) (Card, Application, error) {
		cards, err := s.store.CardsOfApplication(ctx, app.ID)
		if err != nil {
			return Card{}, Application{}, err
		}
		for _, c := range cards {
			if c.State == BankCardIssued || c.State == BankCardActive || c.State == BankCardBlocked {
				a, err := s.store.GetApplication(ctx, app.ID, Scope{})
				return c, a, err
			}
		}
		return Card{}, Application{}, ErrNotFound
	}
	c, a, err := current(ctx)
	if err != nil {
		return LossReport{}, fmt.Errorf("loss report: %w", err)
	}
	if c.PendingChange == CardChangeReplace || c.PendingChange == CardChangeBlock {
		// Already refused at check-in and on its way to the bank.
		return s.lossReport(c, a, false), nil
	}
	holder := Actor{Role: RoleHolder}
	req := CardChangeRequest{CardID: c.ID, Change: CardChangeBlock, Reason: LossReportReason}
	d, written, err := s.changeCard(ctx, holder, req, current)
	if errors.Is(err, ErrCardChange) {
		// Another report (or a staff block) got there first: the same
		// answer as asking again.
		if c2, a2, err2 := current(ctx); err2 == nil && (c2.PendingChange == CardChangeBlock || c2.State == BankCardBlocked && c2.PendingChange == "") {
			return s.lossReport(c2, a2, false), nil
		}
	}
	if err != nil {
		return LossReport{}, fmt.Errorf("loss report: %w", err)
	}
	if written {
		s.log.LogAttrs(ctx, slog.LevelInfo, "card loss reported by the holder", slog.Int64("card_id", d.ID),
			slog.Int64("application_id", d.ApplicationID))
	}
	return LossReport{ApplicationNumber: d.ApplicationNumber, LastFour: d.LastFour, State: d.DisplayState(), Reported: written}, nil
}

func (s *Service) lossReport(c Card, a Application, reported bool) LossReport {
	d := CardDetails{Card: c, ApplicationNumber: a.Number}
	return LossReport{ApplicationNumber: a.Number, LastFour: c.LastFour, State: d.DisplayState(), Reported: reported}
}

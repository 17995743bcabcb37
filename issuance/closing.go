package issuance

// Closing a card (issue 18): the holder leaves the programme, has died, or
// the card is given up for another (a card of another product or bank). A
// closing travels to the bank as a status change with ST C (outbox row of
// kind status_change); when the bank confirms, the card becomes closed for
// good (check-in refuses it as closed) and its application cancelled, so
// that the volunteer may apply again later. Closing is allowed from issued,
// active, blocked and expired; a closed card is never changed again.

import (
	"context"
	"slices"
	"strings"
)

// CloseReason says why a card is closed.
type CloseReason string

// Close reasons.
const (
	CloseHolderLeft    CloseReason = "holder_left"    // left the programme
	CloseDeceased      CloseReason = "deceased"       // the holder died
	CloseReplaced      CloseReason = "replaced"       // given up for another card (product or bank)
	CloseHolderRequest CloseReason = "holder_request" // the holder asked, no other reason
)

// CloseReasons lists the close reasons.
var CloseReasons = []CloseReason{CloseHolderLeft, CloseDeceased, CloseReplaced, CloseHolderRequest}

// Valid reports whether r is a known close reason.
func (r CloseReason) Valid() bool { return slices.Contains(CloseReasons, r) }

func closeReasonList() string {
	out := make([]string, len(CloseReasons))
	for i, r := range CloseReasons {
		out[i] = string(r)
	}
	return strings.Join(out, ", ")
}

// CloseCard asks the bank to close a card for reason (with an optional
// note, ≤ 200 characters). It reports whether a request was written: a
// card closed already, or with its closing on the way, changes nothing.
// Roles: province_admin, org_admin (their subtree), bank_staff (their
// bank), system. It needs WithBankOutbox.
func (s *Service) CloseCard(ctx context.Context, a Actor, cardID int64, reason CloseReason, note string) (CardDetails, bool, error) {
	return s.RequestCardChange(ctx, a, CardChangeRequest{CardID: cardID, Change: CardChangeClose, CloseReason: reason, Reason: note})
}

// recordClosing applies the bank's confirmation of a closing (in
// RecordCardStatusChange's transaction): the card closed (the store writes
// card.closed to the feed with the state change), its application
// cancelled, and the card hooks run (WithCardHooks: insurance.End ends
// the holder's cover unless another live card keeps it).
func (s *Service) recordClosing(ctx context.Context, c Card, ch CardStatusChange) error {
	c.State = BankCardClosed
	if err := s.store.UpdateCard(ctx, &c); err != nil {
		return err
	}
	e := CardEvent{CardID: c.ID, Kind: CardEventConfirmed, Change: CardChangeClose, ActorRole: RoleSystem,
		Channel: RoleSystem.Channel(), Reason: string(ch.CloseReason), ResultCode: "00", At: s.clock.Now()}
	if err := s.store.AppendCardEvent(ctx, &e); err != nil {
		return err
	}
	app, err := s.store.GetApplication(ctx, c.ApplicationID, Scope{})
	if err != nil {
		return err
	}
	if CanTransition(app.Status, StatusCancelled) {
		if _, err := s.Transition(ctx, SystemActor(), app.ID, StatusCancelled,
			"card ending "+c.LastFour+" closed at the bank: "+string(ch.CloseReason)); err != nil {
			return err
		}
	}
	return s.RunCardHooks(ctx, c, e)
}

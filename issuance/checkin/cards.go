package checkin

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/pii"
)

// Check-in card blocks: a card refused at every tap (lost, stolen,
// replaced), recorded in the check-in bindings, and lifted again.

// BlockCard blocks a card (lost, stolen, replaced) at check-in by its PAN,
// which is turned into its token at once. Later taps and benefit checks
// with the card are refused with ErrCardBlocked. The card must be the
// actor's to block (checkinCardInScope): a card the bank issued goes
// through RequestCardChange instead, and one outside the actor's scope is
// ErrNotFound with nothing written. Roles: province_admin, org_admin,
// bank_staff, system.
func (c *Service) BlockCard(ctx context.Context, a issuance.Actor, pan, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 200 {
		return issuance.Invalid("reason", "required, at most 200 characters")
	}
	return c.setCardStatus(ctx, a, pan, CardBlocked, reason, EventCardBlocked)
}

// UnblockCard lifts a check-in block (BlockCard) of a card that is the
// actor's to change; a card with no check-in block is ErrNotFound. Roles:
// province_admin, org_admin, bank_staff, system.
func (c *Service) UnblockCard(ctx context.Context, a issuance.Actor, pan, reason string) error {
	reason = strings.TrimSpace(reason)
	if len(reason) > 200 {
		return issuance.Invalid("reason", "at most 200 characters")
	}
	return c.setCardStatus(ctx, a, pan, CardActive, reason, EventCardUnblocked)
}

func (c *Service) setCardStatus(ctx context.Context, a issuance.Actor, pan string, status CardStatus, reason string, kind EventKind) error {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleBankStaff, issuance.RoleSystem); err != nil {
		return err
	}
	p, err := emvPAN(pan)
	if err != nil {
		return err
	}
	token := c.svc.PANToken(p)
	now := c.svc.Now().UTC()
	return c.st.InTx(ctx, func(ctx context.Context) error {
		b, found, err := c.checkinCardInScope(ctx, a, token)
		if err != nil {
			return err
		}
		switch {
		case !found && status == CardActive:
			return fmt.Errorf("unblock card: no check-in block: %w", issuance.ErrNotFound)
		case status == CardActive && b.Status == CardActive:
			return nil // not blocked: nothing to lift, no event
		case !found:
			b = CardBinding{PANToken: token, PANLast4: p[len(p)-4:], CreatedAt: now}
		}
		b.Status, b.Reason, b.UpdatedAt = status, reason, now
		if err := c.st.PutCardBinding(ctx, b); err != nil {
			return err
		}
		detail, _ := json.Marshal(map[string]string{"pan": pii.MaskPAN(p)})
		return c.st.AppendCheckinEvent(ctx, &Event{Kind: kind, VolunteerID: b.VolunteerID,
			ActorTokenID: a.TokenID, ActorRole: a.Role, Reason: reason, Detail: string(detail), At: now})
	})
}

// checkinCardInScope returns the check-in binding of a PAN token (found
// false when there is none) if the actor may change it at check-in, else
// ErrNotFound, so that nobody learns of or blocks another's card:
//   - a card the bank issued is changed through the bank (RequestCardChange,
//     which checks its own scope), never here;
//   - a card bound to a volunteer is the actor's when the volunteer is
//     (volunteerScope: an org admin's subtree, a bank's holders);
//   - a card volcard does not know (or blocked before it was ever bound)
//     could be anyone's: only the province admin blocks it ahead.
func (c *Service) checkinCardInScope(ctx context.Context, a issuance.Actor, token []byte) (CardBinding, bool, error) {
	if _, err := c.st.GetCardByToken(ctx, token); err == nil {
		return CardBinding{}, false, fmt.Errorf("check-in block of a bank card: %w", issuance.ErrNotFound)
	} else if !isNotFound(err) {
		return CardBinding{}, false, err
	}
	b, err := c.st.GetCardBinding(ctx, token)
	found := err == nil
	if err != nil && !isNotFound(err) {
		return CardBinding{}, false, err
	}
	if found && b.VolunteerID != 0 {
		sc, err := c.svc.VolunteerScope(ctx, a)
		if err != nil {
			return CardBinding{}, false, err
		}
		if _, err := c.st.GetVolunteer(ctx, b.VolunteerID, sc); err != nil {
			return CardBinding{}, false, fmt.Errorf("card holder: %w", err)
		}
		return b, true, nil
	}
	if a.Role != issuance.RoleProvinceAdmin && a.Role != issuance.RoleSystem {
		return CardBinding{}, false, fmt.Errorf("card not known to check-in: %w", issuance.ErrNotFound)
	}
	return b, found, nil
}

// holdsCard reports whether a volunteer holds a card check-in accepts: an
// issued card of theirs in state issued or active with no block or
// replacement on its way to the bank (issuance.CardRefused), or a card bound
// to them at check-in (a genuine card carrying their ID number) that is not
// blocked.
func (c *Service) holdsCard(ctx context.Context, volunteerID int64) (bool, error) {
	cards, err := c.st.CardsOfVolunteer(ctx, volunteerID)
	if err != nil {
		return false, fmt.Errorf("cards of volunteer: %w", err)
	}
	for _, card := range cards {
		if !issuance.CardRefused(card.State, card.PendingChange) {
			return true, nil
		}
	}
	bound, err := c.st.CardBindingsOf(ctx, volunteerID)
	if err != nil {
		return false, fmt.Errorf("card bindings of volunteer: %w", err)
	}
	for _, b := range bound {
		if b.Status == CardActive {
			return true, nil
		}
	}
	return false, nil
}

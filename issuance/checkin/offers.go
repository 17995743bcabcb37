package checkin

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/volcard/volcard/issuance"
)

// Offers kept by their organisation: listed, changed and withdrawn, each
// change an audit event (offer_created, offer_changed, offer_withdrawn)
// naming the offer, with the fields before and after.

// offerAdmins are the roles that make, change and withdraw offers.
var offerAdmins = []issuance.Role{issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleSystem}

// OfferFilter selects the offers ListOffers returns.
type OfferFilter struct {
	// OrgID, when set, confines the list to that organisation's subtree
	// (which must be in the actor's scope); else the actor's whole scope.
	OrgID int64
	// Withdrawn includes withdrawn offers (kept for history).
	Withdrawn bool
}

// ListOffers returns the offers of the organisations in the actor's scope
// (an org_admin its subtree, the province all), narrowed by f, oldest
// first. Roles: province_admin, org_admin, system.
func (c *Service) ListOffers(ctx context.Context, a issuance.Actor, f OfferFilter) ([]Offer, error) {
	if err := issuance.RequireRole(a, offerAdmins...); err != nil {
		return nil, err
	}
	sc, err := c.svc.Scope(ctx, a)
	if err != nil {
		return nil, err
	}
	prefix := sc.PathPrefix
	if f.OrgID != 0 {
		org, err := c.svc.GetOrg(ctx, a, f.OrgID)
		if err != nil {
			return nil, err
		}
		prefix = org.Path
	}
	out, err := c.st.OffersUnder(ctx, prefix, f.Withdrawn)
	if err != nil {
		return nil, fmt.Errorf("list offers: %w", err)
	}
	return out, nil
}

// GetOffer returns an offer of an organisation in the actor's scope, else
// ErrNotFound. Roles: province_admin, org_admin, system.
func (c *Service) GetOffer(ctx context.Context, a issuance.Actor, id int64) (Offer, error) {
	if err := issuance.RequireRole(a, offerAdmins...); err != nil {
		return Offer{}, err
	}
	sc, err := c.svc.Scope(ctx, a)
	if err != nil {
		return Offer{}, err
	}
	return c.st.GetOffer(ctx, id, sc, false)
}

// OfferChange is a partial change of an offer: nil fields stay as they
// are. A validity end set to the zero time is removed (open).
type OfferChange struct {
	Tier        *BenefitTier
	Title       *string
	Description *string
	RequiresPIN *bool
	ValidFrom   *time.Time
	ValidUntil  *time.Time
}

// ErrOfferWithdrawn means a change was asked of a withdrawn offer: it is
// kept for history as it was withdrawn.
var ErrOfferWithdrawn = fmt.Errorf("offer withdrawn: %w", issuance.ErrConflict)

// ChangeOffer changes an offer of an organisation in the actor's scope
// (else ErrNotFound, nothing written) and records an offer_changed event
// with the fields before and after; a change that changes nothing writes
// nothing. A withdrawn offer cannot change (ErrOfferWithdrawn). Roles:
// province_admin, org_admin, system.
func (c *Service) ChangeOffer(ctx context.Context, a issuance.Actor, id int64, ch OfferChange) (Offer, error) {
	if err := issuance.RequireRole(a, offerAdmins...); err != nil {
		return Offer{}, err
	}
	sc, err := c.svc.Scope(ctx, a)
	if err != nil {
		return Offer{}, err
	}
	now := c.svc.Now().UTC()
	var out Offer
	err = c.st.InTx(ctx, func(ctx context.Context) error {
		before, err := c.st.GetOffer(ctx, id, sc, true)
		if err != nil {
			return err
		}
		if before.Withdrawn() {
			return ErrOfferWithdrawn
		}
		o := before
		if ch.Tier != nil {
			o.Tier = *ch.Tier
		}
		if ch.Title != nil {
			o.Title = *ch.Title
		}
		if ch.Description != nil {
			o.Description = *ch.Description
		}
		if ch.RequiresPIN != nil {
			o.RequiresPIN = *ch.RequiresPIN
		}
		if ch.ValidFrom != nil {
			o.ValidFrom = *ch.ValidFrom
		}
		if ch.ValidUntil != nil {
			o.ValidUntil = *ch.ValidUntil
		}
		if err := o.validate(); err != nil {
			return err
		}
		out = o
		if sameOffer(before, o) {
			return nil
		}
		o.UpdatedAt = now
		if err := c.st.UpdateOffer(ctx, o); err != nil {
			return err
		}
		out = o
		return c.offerEvent(ctx, a, EventOfferChanged, before, o, "", now)
	})
	if err != nil {
		return Offer{}, fmt.Errorf("change offer: %w", err)
	}
	return out, nil
}

// WithdrawOffer withdraws an offer of an organisation in the actor's scope
// (else ErrNotFound, nothing written): it is kept for history and no
// longer offered. It records an offer_withdrawn event with the reason.
// Withdrawing a withdrawn offer returns it as it is, with changed false
// and nothing written. Roles: province_admin, org_admin, system.
func (c *Service) WithdrawOffer(ctx context.Context, a issuance.Actor, id int64, reason string) (o Offer, changed bool, err error) {
	if err := issuance.RequireRole(a, offerAdmins...); err != nil {
		return Offer{}, false, err
	}
	reason = strings.TrimSpace(reason)
	if len([]rune(reason)) > 200 {
		return Offer{}, false, issuance.Invalid("reason", "at most 200 characters")
	}
	sc, err := c.svc.Scope(ctx, a)
	if err != nil {
		return Offer{}, false, err
	}
	now := c.svc.Now().UTC()
	err = c.st.InTx(ctx, func(ctx context.Context) error {
		before, err := c.st.GetOffer(ctx, id, sc, true)
		if err != nil {
			return err
		}
		o = before
		if before.Withdrawn() {
			return nil
		}
		o.WithdrawnAt, o.WithdrawReason, o.UpdatedAt = now, reason, now
		if err := c.st.UpdateOffer(ctx, o); err != nil {
			return err
		}
		changed = true
		return c.offerEvent(ctx, a, EventOfferWithdrawn, before, o, reason, now)
	})
	if err != nil {
		return Offer{}, false, fmt.Errorf("withdraw offer: %w", err)
	}
	return o, changed, nil
}

// OfferEvents returns the audit events of an offer in the actor's scope
// (else ErrNotFound), oldest first. Roles: province_admin, org_admin,
// system.
func (c *Service) OfferEvents(ctx context.Context, a issuance.Actor, id int64) ([]Event, error) {
	if _, err := c.GetOffer(ctx, a, id); err != nil {
		return nil, err
	}
	return c.st.ListOfferEvents(ctx, id)
}

// sameOffer reports whether a change left every changeable field as it was.
func sameOffer(a, b Offer) bool {
	return a.Tier == b.Tier && a.Title == b.Title && a.Description == b.Description &&
		a.RequiresPIN == b.RequiresPIN && a.ValidFrom.Equal(b.ValidFrom) && a.ValidUntil.Equal(b.ValidUntil)
}

// offerFields is an offer's changeable fields as an event records them.
type offerFields struct {
	Tier        BenefitTier `json:"tier"`
	Title       string      `json:"title"`
	Description string      `json:"description,omitempty"`
	RequiresPIN bool        `json:"requires_pin"`
	ValidFrom   *time.Time  `json:"valid_from,omitempty"`
	ValidUntil  *time.Time  `json:"valid_until,omitempty"`
}

func fieldsOf(o Offer) *offerFields {
	if o.ID == 0 {
		return nil
	}
	f := &offerFields{Tier: o.Tier, Title: o.Title, Description: o.Description, RequiresPIN: o.RequiresPIN}
	if !o.ValidFrom.IsZero() {
		t := o.ValidFrom
		f.ValidFrom = &t
	}
	if !o.ValidUntil.IsZero() {
		t := o.ValidUntil
		f.ValidUntil = &t
	}
	return f
}

// offerEvent appends the audit event of an offer's change: the fields
// before (none for offer_created) and after.
func (c *Service) offerEvent(ctx context.Context, a issuance.Actor, kind EventKind, before, after Offer, reason string, at time.Time) error {
	detail, err := json.Marshal(struct {
		OrgID  int64        `json:"org_id"`
		Before *offerFields `json:"before,omitempty"`
		After  *offerFields `json:"after"`
	}{after.OrgID, fieldsOf(before), fieldsOf(after)})
	if err != nil {
		return err
	}
	return c.st.AppendCheckinEvent(ctx, &Event{Kind: kind, OfferID: after.ID, ActorTokenID: a.TokenID,
		ActorRole: a.Role, Reason: reason, Detail: string(detail), At: at})
}

package checkin

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/volcard/volcard/evidence"
	"github.com/volcard/volcard/issuance"
)

// Benefits: offers of caring merchants by tier, and the benefit check a
// terminal or the platform makes with the card's evidence.

// Offer is a benefit an organisation attaches to a tier: holders of that
// tier or higher, belonging to the organisation's subtree, get it.
type Offer struct {
	ID          int64
	OrgID       int64
	OrgPath     string
	Tier        BenefitTier
	Title       string
	Description string
	// RequiresPIN says the merchant grants the offer only after the
	// holder's offline PIN verified on the card.
	RequiresPIN bool
	// ValidFrom and ValidUntil bound when the offer is offered; a zero
	// end is open. ValidUntil is exclusive.
	ValidFrom, ValidUntil time.Time
	// WithdrawnAt is when the organisation withdrew the offer (zero:
	// not withdrawn); a withdrawn offer is kept for history and no longer
	// offered.
	WithdrawnAt    time.Time
	WithdrawReason string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Withdrawn reports whether the offer was withdrawn.
func (o Offer) Withdrawn() bool { return !o.WithdrawnAt.IsZero() }

// OfferedAt reports whether the offer is offered at t: not withdrawn and
// within its validity.
func (o Offer) OfferedAt(t time.Time) bool {
	return !o.Withdrawn() && (o.ValidFrom.IsZero() || !t.Before(o.ValidFrom)) &&
		(o.ValidUntil.IsZero() || t.Before(o.ValidUntil))
}

// validate checks an offer's fields after trimming (create and change).
func (o *Offer) validate() error {
	o.Title, o.Description = strings.TrimSpace(o.Title), strings.TrimSpace(o.Description)
	if !o.Tier.Valid() {
		return issuance.Invalid("tier", "must be card_holder, star or five_star")
	}
	if err := issuance.ValidName("title", o.Title, 100); err != nil {
		return err
	}
	if len([]rune(o.Description)) > 500 {
		return issuance.Invalid("description", "at most 500 characters")
	}
	if !o.ValidFrom.IsZero() && !o.ValidUntil.IsZero() && !o.ValidFrom.Before(o.ValidUntil) {
		return issuance.Invalid("valid_until", "must be after valid_from")
	}
	o.ValidFrom, o.ValidUntil = utcOrZero(o.ValidFrom), utcOrZero(o.ValidUntil)
	return nil
}

func utcOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// NewOffer is the input of CreateOffer.
type NewOffer struct {
	OrgID       int64
	Tier        BenefitTier
	Title       string
	Description string
	RequiresPIN bool
	// ValidFrom and ValidUntil are optional (zero: open).
	ValidFrom, ValidUntil time.Time
}

// CreateOffer attaches an offer to a tier for an organisation in scope and
// records an offer_created event with it. Roles: province_admin,
// org_admin, system.
func (c *Service) CreateOffer(ctx context.Context, a issuance.Actor, in NewOffer) (Offer, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleSystem); err != nil {
		return Offer{}, err
	}
	now := c.svc.Now().UTC()
	o := Offer{OrgID: in.OrgID, Tier: in.Tier, Title: in.Title, Description: in.Description,
		RequiresPIN: in.RequiresPIN, ValidFrom: in.ValidFrom, ValidUntil: in.ValidUntil, CreatedAt: now, UpdatedAt: now}
	if err := o.validate(); err != nil {
		return Offer{}, err
	}
	org, err := c.svc.GetOrg(ctx, a, in.OrgID)
	if err != nil {
		return Offer{}, err
	}
	o.OrgPath = org.Path
	err = c.st.InTx(ctx, func(ctx context.Context) error {
		if err := c.st.CreateOffer(ctx, &o); err != nil {
			return err
		}
		return c.offerEvent(ctx, a, EventOfferCreated, Offer{}, o, "", now)
	})
	if err != nil {
		return Offer{}, fmt.Errorf("create offer: %w", err)
	}
	return o, nil
}

// ancestorPaths returns the paths of an org path's ancestors and itself:
// "/1/5/12/" → "/1/", "/1/5/", "/1/5/12/".
func ancestorPaths(p string) []string {
	var out []string
	parts := strings.Split(strings.Trim(p, "/"), "/")
	cur := "/"
	for _, s := range parts {
		if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			break
		}
		cur += s + "/"
		out = append(out, cur)
	}
	return out
}

// commonPaths returns the paths of a that are also in b, in a's order.
func commonPaths(a, b []string) []string {
	var out []string
	for _, p := range a {
		if slices.Contains(b, p) {
			out = append(out, p)
		}
	}
	return out
}

// BenefitsInput is a merchant's benefit check: card evidence over a
// challenge the merchant's terminal obtained.
type BenefitsInput struct {
	ChallengeID string
	Evidence    evidence.Card
}

// Benefits is the answer to a merchant: masked name, star level, tier and
// the offers of that tier and below offered now.
type Benefits struct {
	MaskedName string
	Stars      int
	Tier       BenefitTier
	Offers     []Offer
	// CheckRef is the check's reference, quoted to redeem one of Offers
	// (Redeem).
	CheckRef string
}

// CheckBenefits verifies a card presented at a merchant (same evidence and
// challenge rules as a tap) and returns the holder's tier and offers with
// the masked name only. Offers come from the holder's organisation and its
// ancestors, for the holder's tier and the tiers below, offered now (not
// withdrawn, within their validity). At a terminal (the merchant's device)
// they are also the terminal's to honour: made by the terminal's own
// organisation or one of its ancestors. Roles: terminal, platform,
// province_admin, org_admin, system.
func (c *Service) CheckBenefits(ctx context.Context, a issuance.Actor, in BenefitsInput) (Benefits, error) {
	if err := issuance.RequireRole(a, issuance.RoleTerminal, issuance.RolePlatform, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleSystem); err != nil {
		return Benefits{}, err
	}
	if in.ChallengeID == "" || len(in.ChallengeID) > 64 {
		return Benefits{}, issuance.Invalid("challenge_id", "required")
	}
	now := c.svc.Now().UTC()
	ch, err := c.st.ConsumeChallenge(ctx, in.ChallengeID, a.TokenID, now)
	if err != nil {
		return Benefits{}, fmt.Errorf("check benefits: %w", err)
	}
	card, err := c.verifyCard(ctx, in.Evidence, ch.UN, now, now)
	if err != nil {
		return Benefits{}, fmt.Errorf("check benefits: %w", err)
	}
	v, err := c.cardHolder(ctx, c.svc.PANToken(card.PAN), card, now)
	if err != nil {
		return Benefits{}, fmt.Errorf("check benefits: %w", err)
	}
	ys, err := c.st.HoursByYear(ctx, v.ID)
	if err != nil {
		return Benefits{}, fmt.Errorf("check benefits: %w", err)
	}
	var lifetime int64
	for _, y := range ys {
		if y.Year == 0 {
			lifetime = y.Minutes
		}
	}
	b := Benefits{MaskedName: maskedName(v.Name), Stars: c.Stars(lifetime)}
	b.Tier = c.tier(b.Stars)
	tiers := Tiers[:b.Tier.rank()+1]
	paths := ancestorPaths(v.OrgPath)
	if a.Role == issuance.RoleTerminal {
		sc, err := c.svc.Scope(ctx, a)
		if err != nil {
			return Benefits{}, fmt.Errorf("check benefits: %w", err)
		}
		paths = commonPaths(paths, ancestorPaths(sc.PathPrefix))
	}
	offers, err := c.st.ListOffers(ctx, paths, tiers)
	if err != nil {
		return Benefits{}, fmt.Errorf("check benefits: %w", err)
	}
	b.Offers = []Offer{}
	for _, o := range offers {
		if o.OfferedAt(now) {
			b.Offers = append(b.Offers, o)
		}
	}
	if b.CheckRef, err = c.recordCheck(ctx, a, v.ID, b.Tier, now); err != nil {
		return Benefits{}, fmt.Errorf("check benefits: %w", err)
	}
	return b, nil
}

package checkin

import (
	"context"
	"fmt"
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
	CreatedAt   time.Time
}

// NewOffer is the input of CreateOffer.
type NewOffer struct {
	OrgID       int64
	Tier        BenefitTier
	Title       string
	Description string
}

// CreateOffer attaches an offer to a tier for an organisation in scope.
// Roles: province_admin, org_admin, system.
func (c *Service) CreateOffer(ctx context.Context, a issuance.Actor, in NewOffer) (Offer, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleSystem); err != nil {
		return Offer{}, err
	}
	o := Offer{OrgID: in.OrgID, Tier: in.Tier, Title: strings.TrimSpace(in.Title),
		Description: strings.TrimSpace(in.Description), CreatedAt: c.svc.Now().UTC()}
	if !o.Tier.Valid() {
		return Offer{}, issuance.Invalid("tier", "must be card_holder, star or five_star")
	}
	if err := issuance.ValidName("title", o.Title, 100); err != nil {
		return Offer{}, err
	}
	if len([]rune(o.Description)) > 500 {
		return Offer{}, issuance.Invalid("description", "at most 500 characters")
	}
	org, err := c.svc.GetOrg(ctx, a, in.OrgID)
	if err != nil {
		return Offer{}, err
	}
	o.OrgPath = org.Path
	if err := c.st.CreateOffer(ctx, &o); err != nil {
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

// BenefitsInput is a merchant's benefit check: card evidence over a
// challenge the merchant's terminal obtained.
type BenefitsInput struct {
	ChallengeID string
	Evidence    evidence.Card
}

// Benefits is the answer to a merchant: masked name, star level, tier and
// the offers of that tier and below.
type Benefits struct {
	MaskedName string
	Stars      int
	Tier       BenefitTier
	Offers     []Offer
}

// CheckBenefits verifies a card presented at a merchant (same evidence and
// challenge rules as a tap) and returns the holder's tier and offers with
// the masked name only. Offers come from the holder's organisation and its
// ancestors, for the holder's tier and the tiers below. Roles: terminal,
// platform, province_admin, org_admin, system.
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
	if b.Offers, err = c.st.ListOffers(ctx, ancestorPaths(v.OrgPath), tiers); err != nil {
		return Benefits{}, fmt.Errorf("check benefits: %w", err)
	}
	return b, nil
}

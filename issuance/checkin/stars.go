package checkin

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/volcard/volcard/issuance"
)

// BenefitTier is the benefit class of a card holder.
type BenefitTier string

// Benefit tiers, lowest first.
const (
	TierCardHolder BenefitTier = "card_holder" // holds a volunteer card, no star yet
	TierStar       BenefitTier = "star"        // star volunteer, 1 to 4 stars
	TierFiveStar   BenefitTier = "five_star"   // the top level
)

// TierNone is the tier of a volunteer who holds no card check-in accepts:
// card benefits come with the card, whatever the star level. It appears on
// service records only; offers are attached to the Tiers.
const TierNone BenefitTier = "none"

// Tiers lists the tiers lowest first.
var Tiers = []BenefitTier{TierCardHolder, TierStar, TierFiveStar}

// Valid reports whether t is a known tier.
func (t BenefitTier) Valid() bool {
	return t == TierCardHolder || t == TierStar || t == TierFiveStar
}

func (t BenefitTier) rank() int {
	for i, x := range Tiers {
		if x == t {
			return i
		}
	}
	return -1
}

// TierFor returns the tier of a star level when top stars is the highest.
func TierFor(stars, top int) BenefitTier {
	switch {
	case stars <= 0:
		return TierCardHolder
	case stars >= top:
		return TierFiveStar
	default:
		return TierStar
	}
}

// StarsFor returns the star level reached with lifetime minutes under the
// thresholds (hours, increasing).
func StarsFor(minutes int64, thresholds []float64) int {
	n := 0
	for _, h := range thresholds {
		if float64(minutes) >= h*60 {
			n++
		}
	}
	return n
}

// Stars returns the star level of lifetime minutes under this Service's
// thresholds.
func (c *Service) Stars(minutes int64) int { return StarsFor(minutes, c.cfg.StarThresholds) }

// tier returns the tier of a star level under this Service's thresholds.
func (c *Service) tier(stars int) BenefitTier { return TierFor(stars, len(c.cfg.StarThresholds)) }

// addMinutes adds delta minutes to a volunteer's year and lifetime totals
// and settles the star level (settleStars). It must run inside a
// transaction.
func (c *Service) addMinutes(ctx context.Context, a issuance.Actor, volunteerID int64, year int, delta int64) (HoursTotals, error) {
	t, err := c.st.AddMinutes(ctx, volunteerID, year, delta)
	if err != nil {
		return HoursTotals{}, err
	}
	if err := c.settleStars(ctx, a, volunteerID, t.Stars, t.Lifetime); err != nil {
		return HoursTotals{}, err
	}
	return t, nil
}

// settleStars brings the star level stored with a volunteer's lifetime
// total to the level of that total, lifetime minutes, when it differs from
// stored, the level read with the total, and records the change as a
// stars_changed event. The change is made only while the row still holds
// stored and lifetime (ChangeStars): of concurrent writers of one
// volunteer's hours, the one that wrote the latest total makes it, once;
// the others find the row moved on and leave it to that one.
func (c *Service) settleStars(ctx context.Context, a issuance.Actor, volunteerID int64, stored int, lifetime int64) error {
	stars := c.Stars(lifetime)
	if stars == stored {
		return nil
	}
	detail, err := json.Marshal(map[string]any{"from": stored, "to": stars, "lifetime_minutes": lifetime})
	if err != nil {
		return err
	}
	_, err = c.st.ChangeStars(ctx, StarsChange{VolunteerID: volunteerID, From: stored, To: stars, Lifetime: lifetime,
		Event: Event{Kind: EventStarsChanged, VolunteerID: volunteerID, ActorTokenID: a.TokenID, ActorRole: a.Role,
			Detail: string(detail), At: c.svc.Now().UTC()}})
	if err != nil {
		return fmt.Errorf("star level: %w", err)
	}
	return nil
}

// Events returns a volunteer's check-in audit events, oldest first.
// Roles: province_admin, org_admin (volunteer in scope), system.
func (c *Service) Events(ctx context.Context, a issuance.Actor, volunteerID int64) ([]Event, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleSystem); err != nil {
		return nil, err
	}
	if _, err := c.svc.GetVolunteer(ctx, a, volunteerID); err != nil {
		return nil, err
	}
	return c.st.ListCheckinEvents(ctx, volunteerID)
}

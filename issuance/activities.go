package issuance

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Activity is a volunteer activity at a service site, run by an
// organisation between StartsAt and EndsAt. Hours are credited only inside
// that window.
type Activity struct {
	ID        int64
	OrgID     int64
	OrgPath   string // copy of the org's Path, for scoped queries
	Title     string
	Site      string
	StartsAt  time.Time
	EndsAt    time.Time
	CreatedAt time.Time
}

// NewActivity is the input of Checkin.CreateActivity.
type NewActivity struct {
	OrgID    int64
	Title    string
	Site     string
	StartsAt time.Time
	EndsAt   time.Time
}

// MaxActivityLength bounds an activity's window.
const MaxActivityLength = 31 * 24 * time.Hour

// CreateActivity creates an activity of an organisation inside the actor's
// scope. Roles: province_admin, org_admin (own subtree), system.
func (c *Checkin) CreateActivity(ctx context.Context, a Actor, in NewActivity) (Activity, error) {
	if err := requireRole(a, RoleProvinceAdmin, RoleOrgAdmin, RoleSystem); err != nil {
		return Activity{}, err
	}
	act := Activity{OrgID: in.OrgID, Title: strings.TrimSpace(in.Title), Site: strings.TrimSpace(in.Site),
		StartsAt: in.StartsAt.UTC(), EndsAt: in.EndsAt.UTC(), CreatedAt: c.svc.clock.Now().UTC()}
	if act.OrgID <= 0 {
		return Activity{}, invalid("org_id", "required")
	}
	if err := validName("title", act.Title, 100); err != nil {
		return Activity{}, err
	}
	if act.Site != "" {
		if err := validName("site", act.Site, 200); err != nil {
			return Activity{}, err
		}
	}
	if act.StartsAt.IsZero() || act.EndsAt.IsZero() {
		return Activity{}, invalid("starts_at", "start and end are required")
	}
	if !act.EndsAt.After(act.StartsAt) {
		return Activity{}, invalid("ends_at", "must be after starts_at")
	}
	if act.EndsAt.Sub(act.StartsAt) > MaxActivityLength {
		return Activity{}, invalid("ends_at", "an activity lasts at most 31 days")
	}
	sc, err := c.svc.scope(ctx, a)
	if err != nil {
		return Activity{}, err
	}
	sc.BankCode = ""
	err = c.st.InTx(ctx, func(ctx context.Context) error {
		o, err := c.svc.store.GetOrg(ctx, act.OrgID, sc)
		if err != nil {
			if isNotFound(err) {
				return invalid("org_id", "no such organisation")
			}
			return err
		}
		act.OrgPath = o.Path
		return c.st.CreateActivity(ctx, &act)
	})
	if err != nil {
		return Activity{}, fmt.Errorf("create activity: %w", err)
	}
	return act, nil
}

// GetActivity returns an activity whose organisation lies inside the
// actor's scope, else ErrNotFound.
func (c *Checkin) GetActivity(ctx context.Context, a Actor, id int64) (Activity, error) {
	sc, err := c.svc.scope(ctx, a)
	if err != nil {
		return Activity{}, err
	}
	sc.BankCode = ""
	act, err := c.st.GetActivity(ctx, id, sc)
	if err != nil {
		return Activity{}, fmt.Errorf("get activity %d: %w", id, err)
	}
	return act, nil
}

// credit returns the minutes credited for a session from in to out at act:
// the session clipped to the activity window, rounded by r.
func credit(act Activity, in, out time.Time, r Rounding) int64 {
	start, end := in, out
	if start.Before(act.StartsAt) {
		start = act.StartsAt
	}
	if end.After(act.EndsAt) {
		end = act.EndsAt
	}
	return r.Minutes(end.Sub(start))
}

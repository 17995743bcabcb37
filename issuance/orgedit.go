package issuance

import (
	"context"
	"fmt"
	"strconv"
)

// OrgPatch is the input of Service.UpdateOrg: nil fields are left as they
// are. A contact given replaces the whole contact (name, position, phone);
// an empty contact clears it.
type OrgPatch struct {
	Responsible        *Contact // Phone set with pii.Phone
	Liaison            *Contact
	ResidentPopulation *int64
	PopulationYear     *int
	LeagueMembers      *int64
	// InstantIssuance sets the organisation's instant-issuance policy
	// (province admins only).
	InstantIssuance *bool
}

// OrgRepoUpdater writes an organisation's editable fields.
type OrgRepoUpdater interface {
	// UpdateOrg writes o's figures and contacts (sealed phones, names,
	// positions); an unknown id is ErrNotFound.
	UpdateOrg(ctx context.Context, o *Org) error
}

// UpdateOrg edits an organisation inside the actor's scope and records an
// audit event (which fields changed, not their values) in the same
// transaction. Contacts (responsible person, liaison): province admins and
// the organisation's admins (their subtree). Figures (resident population
// and its year, league members), the denominators of the targets: province
// admins only. An empty patch is invalid.
func (s *Service) UpdateOrg(ctx context.Context, a Actor, id int64, p OrgPatch) (Org, error) {
	if err := RequireRole(a, RoleProvinceAdmin, RoleSystem, RoleOrgAdmin); err != nil {
		return Org{}, err
	}
	figures := p.ResidentPopulation != nil || p.PopulationYear != nil || p.LeagueMembers != nil || p.InstantIssuance != nil
	if figures && a.Role == RoleOrgAdmin {
		return Org{}, fmt.Errorf("%w: only the province admin sets an organisation's figures and policy", ErrForbidden)
	}
	if !figures && p.Responsible == nil && p.Liaison == nil {
		return Org{}, Invalid("body", "nothing to change")
	}
	switch {
	case p.ResidentPopulation != nil && (*p.ResidentPopulation < 0 || *p.ResidentPopulation > MaxPopulation):
		return Org{}, Invalid("resident_population", fmt.Sprintf("must be 0–%d", MaxPopulation))
	case p.LeagueMembers != nil && (*p.LeagueMembers < 0 || *p.LeagueMembers > MaxPopulation):
		return Org{}, Invalid("league_members", fmt.Sprintf("must be 0–%d", MaxPopulation))
	case p.PopulationYear != nil && *p.PopulationYear != 0 && (*p.PopulationYear < MinYear || *p.PopulationYear > MaxYear):
		return Org{}, Invalid("population_year", fmt.Sprintf("must be a year %d–%d, or 0 when unknown", MinYear, MaxYear))
	}
	for _, c := range []struct {
		field, purpose string
		c              *Contact
	}{{"responsible", purposeResponsible, p.Responsible}, {"liaison", purposeLiaison, p.Liaison}} {
		if c.c != nil {
			if err := s.sealContact(c.field, c.purpose, c.c); err != nil {
				return Org{}, err
			}
		}
	}
	sc, err := s.Scope(ctx, a)
	if err != nil {
		return Org{}, err
	}
	var out Org
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		o, err := s.store.GetOrg(ctx, id, sc)
		if err != nil {
			return err
		}
		if err := s.OpenOrg(&o); err != nil {
			return err
		}
		var changed []string
		changed = contactChanges(changed, "responsible", &o.Responsible, p.Responsible)
		changed = contactChanges(changed, "liaison", &o.Liaison, p.Liaison)
		if v := p.ResidentPopulation; v != nil && *v != o.ResidentPopulation {
			changed = append(changed, fmt.Sprintf("resident_population %d→%d", o.ResidentPopulation, *v))
			o.ResidentPopulation = *v
		}
		if v := p.PopulationYear; v != nil && *v != o.PopulationYear {
			changed = append(changed, fmt.Sprintf("population_year %d→%d", o.PopulationYear, *v))
			o.PopulationYear = *v
		}
		if v := p.LeagueMembers; v != nil && *v != o.LeagueMembers {
			changed = append(changed, fmt.Sprintf("league_members %d→%d", o.LeagueMembers, *v))
			o.LeagueMembers = *v
		}
		if v := p.InstantIssuance; v != nil && *v != o.InstantIssuance {
			changed = append(changed, fmt.Sprintf("instant_issuance %t→%t", o.InstantIssuance, *v))
			o.InstantIssuance = *v
		}
		out = o
		if len(changed) == 0 {
			return nil // nothing differs: no write, no audit
		}
		if err := s.store.UpdateOrg(ctx, &o); err != nil {
			return err
		}
		return s.audit(ctx, a, AuditOrgUpdated, "org", strconv.FormatInt(o.ID, 10), o.Path, changedFields(changed))
	})
	if err != nil {
		return Org{}, fmt.Errorf("update org %d: %w", id, err)
	}
	return out, nil
}

// contactChanges replaces *cur by next (when given), appending the names
// of the fields that differ (never their values: phones are personal).
func contactChanges(changed []string, field string, cur, next *Contact) []string {
	if next == nil {
		return changed
	}
	if cur.Name != next.Name {
		changed = append(changed, field+".name")
	}
	if cur.Position != next.Position {
		changed = append(changed, field+".position")
	}
	if cur.Phone.Reveal() != next.Phone.Reveal() {
		changed = append(changed, field+".phone")
	}
	*cur = *next
	return changed
}

package reports

import (
	"context"
	"sort"

	"github.com/volcard/volcard/issuance"
)

// The per-organisation counters behind the targets report: kept by
// triggers in the same transaction as each change (issuance/store), read
// summed, and checked against or rebuilt from a full recount.

// OrgYearCounts are the counters of one organisation (its own volunteers,
// not its subtree) for one year; see migration 00050 for their meaning.
type OrgYearCounts struct {
	OrgID           int64
	Year            int
	Volunteers      int64
	LeagueMembers   int64
	Holders         int64
	CityCardHolders int64
	NewWithCard     int64
}

func (c *OrgYearCounts) add(o OrgYearCounts) {
	c.Volunteers += o.Volunteers
	c.LeagueMembers += o.LeagueMembers
	c.Holders += o.Holders
	c.CityCardHolders += o.CityCardHolders
	c.NewWithCard += o.NewWithCard
}

// CheckCounters compares the counters with a full recount and returns the
// (org, year) pairs that differ; empty means consistent. Roles:
// province_admin, system.
func (s *Service) CheckCounters(ctx context.Context, a issuance.Actor) ([]CounterDiff, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleSystem); err != nil {
		return nil, err
	}
	rs := s.st
	kept, err := rs.SumCounters(ctx, "", 1<<30)
	if err != nil {
		return nil, err
	}
	recount, err := rs.RecountCounters(ctx)
	if err != nil {
		return nil, err
	}
	return DiffCounters(kept, recount), nil
}

// RebuildCounters recomputes the counters from the base tables. Roles:
// province_admin, system.
func (s *Service) RebuildCounters(ctx context.Context, a issuance.Actor) error {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleSystem); err != nil {
		return err
	}
	rs := s.st
	return rs.RebuildCounters(ctx)
}

// CounterDiff is one (org, year) whose kept counters differ from a recount.
type CounterDiff struct {
	OrgID   int64
	Year    int
	Kept    OrgYearCounts
	Recount OrgYearCounts
}

// DiffCounters compares two sets of counters by (org, year), treating
// missing rows as zero.
func DiffCounters(kept, recount []OrgYearCounts) []CounterDiff {
	type key struct {
		org  int64
		year int
	}
	m := map[key]*CounterDiff{}
	get := func(c OrgYearCounts) *CounterDiff {
		k := key{c.OrgID, c.Year}
		d, ok := m[k]
		if !ok {
			d = &CounterDiff{OrgID: c.OrgID, Year: c.Year}
			d.Kept.OrgID, d.Kept.Year, d.Recount.OrgID, d.Recount.Year = c.OrgID, c.Year, c.OrgID, c.Year
			m[k] = d
		}
		return d
	}
	for _, c := range kept {
		get(c).Kept.add(c)
	}
	for _, c := range recount {
		get(c).Recount.add(c)
	}
	var out []CounterDiff
	for _, d := range m {
		if d.Kept != d.Recount {
			out = append(out, *d)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].OrgID != out[j].OrgID {
			return out[i].OrgID < out[j].OrgID
		}
		return out[i].Year < out[j].Year
	})
	return out
}

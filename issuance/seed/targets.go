package seed

import (
	"context"
	"errors"
	"fmt"

	"github.com/volcard/volcard/issuance/reports"

	"github.com/volcard/volcard/issuance"
)

// Target is one seeded target rule. Scope is "province" or a city code;
// Kind empty means every city, county and university in the scope.
type Target struct {
	Year      int
	Scope     string
	Kind      issuance.OrgKind
	Indicator reports.Indicator
	BP        int64 // basis points, 500 = 5 %
	Note      string
}

// Targets are the programme's targets from the provincial notice (Feb
// 2017) and the Meizhou notice (2017), see shared/MISSION.md. "Every
// volunteer newly registered in 2017 should in principle get a card" is
// seeded as a 100 % new-card target for 2017.
var Targets = []Target{
	{2017, "province", "", reports.IndicatorVolunteerRate, 500, "省通知：注册志愿者占常住人口≥5%"},
	{2017, "province", "", reports.IndicatorLeagueRate, 6000, "团员注册率≥60%"},
	{2017, "province", "", reports.IndicatorCardRate, 3000, "持卡率≥30%"},
	{2017, "province", "", reports.IndicatorNewCardRate, 10000, "2017年新注册志愿者原则上全部办卡"},
	{2018, "province", "", reports.IndicatorVolunteerRate, 800, "注册志愿者占常住人口≥8%"},
	{2018, "province", "", reports.IndicatorLeagueRate, 8000, "团员注册率≥80%"},
	{2018, "province", issuance.OrgUniversity, reports.IndicatorLeagueRate, 10000, "高校团员注册率100%"},
	{2018, "province", "", reports.IndicatorCardRate, 5000, "持卡率≥50%"},
	{2017, "441400", issuance.OrgCounty, reports.IndicatorVolunteerRate, 1000, "梅州通知：各县（市、区）≥10%"},
	{2017, "441400", issuance.OrgCounty, reports.IndicatorLeagueRate, 8000, "团员注册率≥80%"},
	{2017, "441400", issuance.OrgCounty, reports.IndicatorCardRate, 3000, "持卡率≥30%"},
	{2017, "441400", issuance.OrgCounty, reports.IndicatorCityCardRate, 1500, "梅州志愿者卡≥15%"},
}

// CountyPopulation10k are approximate 2016 resident populations of
// Meizhou's counties (10,000 people ×100). DEMO VALUES: rounded figures
// consistent with Meizhou's total, not an official source; replace them
// with the statistical bureau's numbers before relying on the report.
var CountyPopulation10k = map[string]int64{
	"441402": 4350, "441403": 5850, "441422": 3750, "441423": 4900,
	"441424": 10500, "441426": 2350, "441427": 2100, "441481": 8050,
}

// UniversityLeagueMembers are DEMO league-member counts of the seeded
// universities (roughly 80 % of their undergraduates); the seed has no
// official figures.
var UniversityLeagueMembers = map[string]int64{
	"中山大学": 32000, "华南理工大学": 26000, "暨南大学": 22000, "嘉应学院": 15000,
}

// LeagueShareBP is the DEMO share of the resident population assumed to be
// Youth League members where no figure is seeded (about 6 %, the national
// ratio in 2016: 81 million members of 1.38 billion people).
const LeagueShareBP = 600

// TargetsResult counts what SeedTargets wrote.
type TargetsResult struct {
	Targets int
	Figures int
}

// SeedTargets writes, through the reports service, the target rules and fills the missing demo figures
// (county populations, league-member counts) of the demo organisations.
// It is idempotent and never overwrites a non-zero figure.
func SeedTargets(ctx context.Context, svc *reports.Service, orgs []issuance.Org) (TargetsResult, error) {
	var res TargetsResult
	sys := issuance.SystemActor()
	var province issuance.Org
	byCode := map[string]issuance.Org{}
	for _, o := range orgs {
		if o.ParentID == 0 {
			province = o
		}
		if o.RegionCode != "" {
			byCode[o.RegionCode] = o
		}
	}
	if province.ID == 0 {
		return res, errors.New("seed targets: no province; run seed --demo first")
	}
	for _, o := range orgs {
		pop, league := o.ResidentPopulation, o.LeagueMembers
		if pop == 0 && o.Kind == issuance.OrgCounty {
			pop = CountyPopulation10k[o.RegionCode] * 100
		}
		if league == 0 {
			if n, ok := UniversityLeagueMembers[o.Name]; ok {
				league = n
			} else {
				league = pop * LeagueShareBP / 10000
			}
		}
		if pop == o.ResidentPopulation && league == o.LeagueMembers {
			continue
		}
		year := o.PopulationYear
		if year == 0 && pop != 0 {
			year = PopulationYear
		}
		if err := svc.SetOrgFigures(ctx, sys, o.ID, pop, year, league); err != nil {
			return res, fmt.Errorf("seed figures of %s: %w", o.Name, err)
		}
		res.Figures++
	}
	for _, t := range Targets {
		scope := province
		if t.Scope != "province" {
			o, ok := byCode[t.Scope]
			if !ok {
				continue
			}
			scope = o
		}
		if _, err := svc.PutTarget(ctx, sys, reports.Target{Year: t.Year, ScopeOrgID: scope.ID, OrgKind: t.Kind,
			Indicator: t.Indicator, BasisPoints: t.BP, Note: t.Note}); err != nil {
			return res, fmt.Errorf("seed target: %w", err)
		}
		res.Targets++
	}
	return res, nil
}

package reports

// Targets (issue 8): the programme's targets kept as data, the per-org,
// per-year counters that make a province-wide report cheap, and the targets
// report with its green / amber / red ratings.

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/volcard/volcard/issuance"
)

// Indicator names one measured ratio of the card programme.
type Indicator string

// Indicators, in the order reports show them.
const (
	// IndicatorVolunteerRate is registered volunteers (by the end of the
	// year) ÷ resident population.
	IndicatorVolunteerRate Indicator = "volunteer_rate"
	// IndicatorLeagueRate is Youth League members registered as volunteers
	// ÷ the organisation's league members.
	IndicatorLeagueRate Indicator = "league_rate"
	// IndicatorCardRate is card holders (a card issued or activated) ÷
	// registered volunteers.
	IndicatorCardRate Indicator = "card_rate"
	// IndicatorCityCardRate is holders of a city's own card (the Meizhou
	// card) ÷ registered volunteers.
	IndicatorCityCardRate Indicator = "city_card_rate"
	// IndicatorNewCardRate is the share of the year's newly registered
	// volunteers who hold a card.
	IndicatorNewCardRate Indicator = "new_card_rate"
)

// Indicators lists every indicator in report order.
var Indicators = []Indicator{
	IndicatorVolunteerRate, IndicatorLeagueRate, IndicatorCardRate, IndicatorCityCardRate, IndicatorNewCardRate,
}

// Valid reports whether i is a known indicator.
func (i Indicator) Valid() bool {
	for _, x := range Indicators {
		if x == i {
			return true
		}
	}
	return false
}

// Rating is the traffic-light verdict of an indicator against its target.
type Rating string

// Ratings.
const (
	RatingGreen Rating = "green" // value ≥ target
	RatingAmber Rating = "amber" // value ≥ 80 % of target
	RatingRed   Rating = "red"   // below 80 % of target
	RatingNone  Rating = "none"  // no target, or no denominator
)

// AmberShare is the fraction of a target that still rates amber.
const AmberShare = 0.8

// Rate rates num ÷ den against a target in basis points, in exact integer
// arithmetic (8 ÷ 200 against 500 bp is amber, not a rounding accident).
// No target or no denominator rates RatingNone.
func Rate(num, den, targetBP int64) Rating {
	switch {
	case targetBP <= 0 || den <= 0:
		return RatingNone
	case num*10000 >= targetBP*den:
		return RatingGreen
	case num*10000*10 >= targetBP*den*int64(AmberShare*10):
		return RatingAmber
	default:
		return RatingRed
	}
}

// Target is one rule: for Year, every organisation of OrgKind (empty: any
// reportable kind) inside the subtree of ScopeOrgID is measured on
// Indicator against BasisPoints (500 = 5 %). When several rules match an
// organisation, the one with the deepest scope wins, then the one naming
// the kind.
type Target struct {
	ID          int64
	Year        int
	ScopeOrgID  int64
	ScopePath   string // filled by storage from the scope org
	OrgKind     issuance.OrgKind
	Indicator   Indicator
	BasisPoints int64
	Note        string
}

// Ratio returns the target as a ratio (0.05 for 500 bp).
func (t Target) Ratio() float64 { return float64(t.BasisPoints) / 10000 }

// ReportableKind reports whether organisations of kind k get their own
// row in a targets report (units are counted in their parents).
func ReportableKind(k issuance.OrgKind) bool {
	return k == issuance.OrgProvince || k == issuance.OrgCity || k == issuance.OrgCounty || k == issuance.OrgUniversity
}

// IndicatorValue is one indicator of one organisation in a report.
type IndicatorValue struct {
	Indicator   Indicator
	Numerator   int64
	Denominator int64
	// Value is Numerator ÷ Denominator; meaningful only when HasValue.
	Value    float64
	HasValue bool
	// Target is the applying rule's ratio, 0 when no rule applies.
	Target   float64
	TargetBP int64
	Rating   Rating
}

// OrgTargets is one organisation's row of a targets report: its subtree's
// figures and the indicators.
type OrgTargets struct {
	OrgID              int64
	ParentID           int64
	Kind               issuance.OrgKind
	Name               string
	RegionCode         string
	Depth              int // 0 for the report's root
	ResidentPopulation int64
	LeagueMembers      int64
	Registered         int64 // volunteers registered by the end of the year
	LeagueRegistered   int64 // of which league members
	Holders            int64 // volunteers holding a card by the end of the year
	CityCardHolders    int64 // volunteers holding a city card by the end of the year
	NewVolunteers      int64 // volunteers registered in the year
	NewWithCard        int64 // of which holding a card now
	Indicators         []IndicatorValue
}

// Indicator returns the value of one indicator.
func (o OrgTargets) Indicator(i Indicator) IndicatorValue {
	for _, v := range o.Indicators {
		if v.Indicator == i {
			return v
		}
	}
	return IndicatorValue{Indicator: i, Rating: RatingNone}
}

// TargetsReport is the targets report of one organisation's subtree for
// one year. Rows are in tree order (by path), the root first.
type TargetsReport struct {
	Year        int
	RootOrgID   int64
	Rows        []OrgTargets
	GeneratedAt time.Time
}

// SetOrgFigures sets an organisation's resident population (and the year
// it refers to) and its league-member count, the denominators of the
// targets. Roles: province_admin, system.
func (s *Service) SetOrgFigures(ctx context.Context, a issuance.Actor, orgID, population int64, populationYear int, leagueMembers int64) error {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleSystem); err != nil {
		return err
	}
	if population < 0 || leagueMembers < 0 {
		return issuance.Invalid("resident_population", "must not be negative")
	}
	rs := s.st
	if err := rs.UpdateOrgFigures(ctx, orgID, population, populationYear, leagueMembers); err != nil {
		return fmt.Errorf("set figures of org %d: %w", orgID, err)
	}
	return nil
}

// PutTarget stores a target rule (replacing the rule with the same year,
// scope, kind and indicator). Roles: province_admin, system.
func (s *Service) PutTarget(ctx context.Context, a issuance.Actor, t Target) (Target, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleSystem); err != nil {
		return Target{}, err
	}
	switch {
	case t.Year < 2000 || t.Year > 2100:
		return Target{}, issuance.Invalid("year", "must be 2000–2100")
	case !t.Indicator.Valid():
		return Target{}, issuance.Invalid("indicator", "unknown indicator")
	case t.OrgKind != "" && !ReportableKind(t.OrgKind):
		return Target{}, issuance.Invalid("org_kind", "must be empty, province, city, county or university")
	case t.BasisPoints <= 0 || t.BasisPoints > 10000:
		return Target{}, issuance.Invalid("target", "must be 1–10000 basis points")
	case t.ScopeOrgID <= 0:
		return Target{}, issuance.Invalid("scope_org_id", "required")
	}
	rs := s.st
	o, err := s.st.GetOrg(ctx, t.ScopeOrgID, issuance.Scope{})
	if err != nil {
		if isNotFound(err) {
			return Target{}, issuance.Invalid("scope_org_id", "no such organisation")
		}
		return Target{}, err
	}
	t.ScopePath = o.Path
	err = s.svc.InTx(ctx, func(ctx context.Context) error {
		if err := rs.PutTarget(ctx, &t); err != nil {
			return err
		}
		return s.svc.Audit(ctx, a, issuance.AuditTargetPut, "target", strconv.FormatInt(t.ID, 10), o.Path,
			fmt.Sprintf("year %d, org %d, kind %q, %s = %d bp", t.Year, t.ScopeOrgID, t.OrgKind, t.Indicator, t.BasisPoints))
	})
	if err != nil {
		return Target{}, fmt.Errorf("put target: %w", err)
	}
	return t, nil
}

// Targets returns the target rules of a year (every year when 0). Roles:
// province_admin, org_admin.
func (s *Service) Targets(ctx context.Context, a issuance.Actor, year int) ([]Target, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleSystem); err != nil {
		return nil, err
	}
	rs := s.st
	return rs.ListTargets(ctx, year)
}

// reportRoot resolves the organisation a report is about: orgID inside the
// actor's scope, or (0) the actor's own organisation, or the province.
func (s *Service) reportRoot(ctx context.Context, a issuance.Actor, orgID int64) (issuance.Org, issuance.Scope, error) {
	sc, err := s.svc.Scope(ctx, a)
	if err != nil {
		return issuance.Org{}, issuance.Scope{}, err
	}
	orgScope := issuance.Scope{PathPrefix: sc.PathPrefix}
	if orgID == 0 {
		orgID = a.OrgID
	}
	if orgID == 0 && sc.PathPrefix != "" {
		// A branch's bank staff: the city the scope path ends in.
		if ids := pathIDs(sc.PathPrefix); len(ids) > 0 {
			orgID = ids[len(ids)-1]
		}
	}
	if orgID == 0 {
		if sc.PathPrefix != "" {
			return issuance.Org{}, issuance.Scope{}, fmt.Errorf("%w: no organisation to report on", issuance.ErrForbidden)
		}
		orgs, err := s.st.ListOrgs(ctx, "")
		if err != nil {
			return issuance.Org{}, issuance.Scope{}, err
		}
		for _, o := range orgs {
			if o.ParentID == 0 {
				return o, sc, nil
			}
		}
		return issuance.Org{}, issuance.Scope{}, fmt.Errorf("report: no root organisation: %w", issuance.ErrNotFound)
	}
	o, err := s.st.GetOrg(ctx, orgID, orgScope)
	if err != nil {
		return issuance.Org{}, issuance.Scope{}, fmt.Errorf("report org %d: %w", orgID, err)
	}
	return o, sc, nil
}

// pathIDs returns the ids of a materialised path ("/1/5/12/" → 1, 5, 12).
func pathIDs(p string) []int64 {
	var out []int64
	for _, part := range strings.Split(strings.Trim(p, "/"), "/") {
		if id, err := strconv.ParseInt(part, 10, 64); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// TargetsReport reports the targets of the organisation orgID (0: the
// actor's organisation, or the province) and every city, county and
// university under it for year. It reads the counters, never the
// volunteers: its cost grows with the number of organisations only.
// Roles: province_admin, org_admin (its subtree).
func (s *Service) TargetsReport(ctx context.Context, a issuance.Actor, year int, orgID int64) (TargetsReport, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleSystem); err != nil {
		return TargetsReport{}, err
	}
	if year < 2000 || year > 2100 {
		return TargetsReport{}, issuance.Invalid("year", "must be 2000–2100")
	}
	rs := s.st
	root, _, err := s.reportRoot(ctx, a, orgID)
	if err != nil {
		return TargetsReport{}, err
	}
	orgs, err := rs.ListOrgs(ctx, root.Path)
	if err != nil {
		return TargetsReport{}, fmt.Errorf("targets report: %w", err)
	}
	counts, err := rs.SumCounters(ctx, root.Path, year)
	if err != nil {
		return TargetsReport{}, fmt.Errorf("targets report: %w", err)
	}
	targets, err := rs.ListTargets(ctx, year)
	if err != nil {
		return TargetsReport{}, fmt.Errorf("targets report: %w", err)
	}
	return BuildTargetsReport(year, root, orgs, counts, targets, s.svc.Now()), nil
}

// BuildTargetsReport computes a targets report from the organisations of
// root's subtree, their counters (years ≤ year) and the year's target
// rules. It is pure; TargetsReport calls it.
func BuildTargetsReport(year int, root issuance.Org, orgs []issuance.Org, counts []OrgYearCounts, targets []Target, now time.Time) TargetsReport {
	type agg struct{ cum, cur OrgYearCounts }
	byOrg := make(map[int64]*agg, len(orgs))
	for _, o := range orgs {
		byOrg[o.ID] = &agg{}
	}
	pathOf := make(map[int64]string, len(orgs))
	for _, o := range orgs {
		pathOf[o.ID] = o.Path
	}
	for _, c := range counts {
		p, ok := pathOf[c.OrgID]
		if !ok || c.Year > year {
			continue
		}
		// Add to the org and every ancestor inside the report.
		for _, id := range pathIDs(p) {
			g, ok := byOrg[id]
			if !ok {
				continue
			}
			g.cum.add(c)
			if c.Year == year {
				g.cur.add(c)
			}
		}
	}
	sorted := append([]issuance.Org(nil), orgs...)
	sortTree(sorted)
	rootDepth := len(pathIDs(root.Path))
	rep := TargetsReport{Year: year, RootOrgID: root.ID, GeneratedAt: now}
	for _, o := range sorted {
		if !ReportableKind(o.Kind) && o.ID != root.ID {
			continue
		}
		g := byOrg[o.ID]
		row := OrgTargets{
			OrgID: o.ID, ParentID: o.ParentID, Kind: o.Kind, Name: o.Name, RegionCode: o.RegionCode,
			Depth: len(pathIDs(o.Path)) - rootDepth, ResidentPopulation: o.ResidentPopulation,
			LeagueMembers: o.LeagueMembers, Registered: g.cum.Volunteers, LeagueRegistered: g.cum.LeagueMembers,
			Holders: g.cum.Holders, CityCardHolders: g.cum.CityCardHolders,
			NewVolunteers: g.cur.Volunteers, NewWithCard: g.cur.NewWithCard,
		}
		for _, ind := range Indicators {
			var num, den int64
			switch ind {
			case IndicatorVolunteerRate:
				num, den = row.Registered, row.ResidentPopulation
			case IndicatorLeagueRate:
				num, den = row.LeagueRegistered, row.LeagueMembers
			case IndicatorCardRate:
				num, den = row.Holders, row.Registered
			case IndicatorCityCardRate:
				num, den = row.CityCardHolders, row.Registered
			case IndicatorNewCardRate:
				num, den = row.NewWithCard, row.NewVolunteers
			}
			v := IndicatorValue{Indicator: ind, Numerator: num, Denominator: den, Rating: RatingNone}
			if den > 0 {
				v.Value, v.HasValue = float64(num)/float64(den), true
			}
			if t, ok := applicableTarget(targets, o, ind); ok {
				v.Target, v.TargetBP = t.Ratio(), t.BasisPoints
				v.Rating = Rate(num, den, t.BasisPoints)
			}
			row.Indicators = append(row.Indicators, v)
		}
		rep.Rows = append(rep.Rows, row)
	}
	return rep
}

// sortTree orders organisations depth-first by numeric path ("/1/2/"
// before "/1/10/"), parents before children.
func sortTree(orgs []issuance.Org) {
	sort.SliceStable(orgs, func(i, j int) bool {
		a, b := pathIDs(orgs[i].Path), pathIDs(orgs[j].Path)
		for k := 0; k < len(a) && k < len(b); k++ {
			if a[k] != b[k] {
				return a[k] < b[k]
			}
		}
		return len(a) < len(b)
	})
}

// applicableTarget picks the most specific rule for an organisation.
func applicableTarget(targets []Target, o issuance.Org, ind Indicator) (Target, bool) {
	var best Target
	found := false
	for _, t := range targets {
		if t.Indicator != ind || !strings.HasPrefix(o.Path, t.ScopePath) || t.ScopePath == "" {
			continue
		}
		if t.OrgKind != "" && t.OrgKind != o.Kind {
			continue
		}
		if !found || len(t.ScopePath) > len(best.ScopePath) ||
			(len(t.ScopePath) == len(best.ScopePath) && t.OrgKind != "" && best.OrgKind == "") {
			best, found = t, true
		}
	}
	return best, found
}

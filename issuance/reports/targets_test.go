package reports_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/volcard/volcard/issuance/reports"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/issuancetest"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// targetsFixture is the hand-computed fixture of issue 8: a province, three
// cities (A, B and C, C with its own city card and a county K) and one
// university U under A. See TestTargetsReportFixture for the figures.
type targetsFixture struct {
	Svc        *issuance.Service
	Rs         *reports.Service
	St         *store.Store
	Clock      *issuancetest.Clock
	orgs       map[string]issuance.Org
	seq        int
	volunteers map[string]issuance.Volunteer
}

var (
	chinaTZ = time.FixedZone("CST", 8*3600)
	in2017  = time.Date(2017, 6, 1, 10, 0, 0, 0, chinaTZ)
	in2018  = time.Date(2018, 3, 1, 10, 0, 0, 0, chinaTZ)
)

func newTargetsFixture(t *testing.T, st *store.Store) *targetsFixture {
	t.Helper()
	ctx := context.Background()
	clk := &issuancetest.Clock{T: in2017}
	svc, err := issuance.NewService(st, issuancetest.Keys(t), issuance.WithClock(clk))
	require.NoError(t, err)
	rs, err := reports.New(svc, st)
	require.NoError(t, err)
	f := &targetsFixture{Svc: svc, Rs: rs, St: st, Clock: clk, orgs: map[string]issuance.Org{},
		volunteers: map[string]issuance.Volunteer{}}
	sys := issuance.SystemActor()
	mk := func(key, parent string, kind issuance.OrgKind, name, code string, pop, league int64) {
		var pid int64
		if parent != "" {
			pid = f.orgs[parent].ID
		}
		o, err := svc.CreateOrg(ctx, sys, issuance.NewOrg{ParentID: pid, Kind: kind, Name: name, RegionCode: code,
			ResidentPopulation: pop, PopulationYear: 2016, LeagueMembers: league})
		require.NoError(t, err)
		f.orgs[key] = o
	}
	mk("P", "", issuance.OrgProvince, "广东省", "440000", 1000, 100)
	mk("A", "P", issuance.OrgCity, "广州市", "440100", 100, 10)
	mk("U", "A", issuance.OrgUniversity, "中山大学", "", 0, 4)
	mk("B", "P", issuance.OrgCity, "深圳市", "440300", 200, 20)
	mk("C", "P", issuance.OrgCity, "梅州市", "441400", 50, 5)
	mk("K", "C", issuance.OrgCounty, "梅县区", "441403", 20, 2)

	require.NoError(t, svc.PutBank(ctx, sys, issuance.Bank{Code: "BOC", Name: "中国银行"}))
	require.NoError(t, svc.PutBank(ctx, sys, issuance.Bank{Code: "CCB", Name: "中国建设银行"}))
	require.NoError(t, svc.PutProduct(ctx, sys, issuance.Product{Code: "PROV", Name: "省卡", BankCode: "BOC",
		BIN: "621785", AID: "A000000333010101", Kind: issuance.CardDebit, OrgID: f.orgs["P"].ID}))
	require.NoError(t, svc.PutProduct(ctx, sys, issuance.Product{Code: "MZ", Name: "梅州卡", BankCode: "CCB",
		BIN: "621700", AID: "A000000333010101", Kind: issuance.CardDebit, OrgID: f.orgs["C"].ID}))

	put := func(year int, scope string, kind issuance.OrgKind, ind reports.Indicator, bp int64) {
		_, err := rs.PutTarget(ctx, sys, reports.Target{Year: year, ScopeOrgID: f.orgs[scope].ID, OrgKind: kind,
			Indicator: ind, BasisPoints: bp})
		require.NoError(t, err)
	}
	put(2017, "P", "", reports.IndicatorVolunteerRate, 500)
	put(2017, "P", "", reports.IndicatorLeagueRate, 6000)
	put(2017, "P", "", reports.IndicatorCardRate, 3000)
	put(2017, "P", "", reports.IndicatorNewCardRate, 10000)
	put(2018, "P", "", reports.IndicatorVolunteerRate, 800)
	put(2018, "P", "", reports.IndicatorLeagueRate, 8000)
	put(2018, "P", issuance.OrgUniversity, reports.IndicatorLeagueRate, 10000)
	put(2018, "P", "", reports.IndicatorCardRate, 5000)
	put(2017, "C", issuance.OrgCounty, reports.IndicatorVolunteerRate, 1000)
	put(2017, "C", issuance.OrgCounty, reports.IndicatorLeagueRate, 8000)
	put(2017, "C", issuance.OrgCounty, reports.IndicatorCardRate, 3000)
	put(2017, "C", issuance.OrgCounty, reports.IndicatorCityCardRate, 1500)
	return f
}

// register adds volunteers key… to an org at the clock's time.
func (f *targetsFixture) register(t *testing.T, org string, league bool, keys ...string) {
	t.Helper()
	for _, k := range keys {
		f.seq++
		body := fmt.Sprintf("44010019900101%03d", f.seq)
		v, err := f.Svc.RegisterVolunteer(context.Background(), issuance.SystemActor(), issuance.NewVolunteer{
			OrgID: f.orgs[org].ID, Name: "测试" + k, IDNumber: issuancetest.ResidentID(body), Phone: "13800138000",
			LeagueMember: league, ClothingSize: issuance.SizeL, Source: issuance.ChannelPlatform})
		require.NoError(t, err)
		f.volunteers[k] = v
	}
}

// card applies for a product and moves the application along path.
func (f *targetsFixture) card(t *testing.T, key, product string, path ...issuance.Status) {
	t.Helper()
	ctx := context.Background()
	sys := issuance.SystemActor()
	app, err := f.Svc.Apply(ctx, sys, f.volunteers[key].ID, product, issuance.ChannelOnline)
	require.NoError(t, err)
	for _, st := range path {
		_, err := f.Svc.Transition(ctx, sys, app.ID, st, "fixture")
		require.NoError(t, err)
	}
}

var toIssued = []issuance.Status{issuance.StatusApproved, issuance.StatusBankPending, issuance.StatusBankApproved,
	issuance.StatusPersonalized, issuance.StatusIssued}

func (f *targetsFixture) load(t *testing.T) {
	f.Clock.T = in2017
	f.register(t, "A", true, "a1", "a2")
	f.register(t, "A", false, "a3", "a4", "a5")
	f.register(t, "U", true, "u1", "u2")
	f.register(t, "B", true, "b1", "b2", "b3", "b4", "b5", "b6")
	f.register(t, "B", false, "b7", "b8")
	f.register(t, "C", false, "c1", "c2")
	f.register(t, "K", true, "k1", "k2")
	f.register(t, "K", false, "k3")
	f.card(t, "a1", "PROV", toIssued...)
	f.card(t, "u1", "PROV", append(toIssued, issuance.StatusActivated)...)
	f.card(t, "b1", "PROV", toIssued...)
	f.card(t, "b2", "PROV", toIssued...)
	f.card(t, "b3", "PROV", toIssued...)
	f.card(t, "b4", "PROV", issuance.StatusApproved)
	f.card(t, "b5", "PROV", issuance.StatusRejected)
	f.card(t, "k1", "PROV", toIssued...)
	f.card(t, "k1", "MZ", toIssued...)
	f.card(t, "k2", "MZ", append(toIssued, issuance.StatusActivated)...)
	// 2017-12-31 17:00 UTC is 2018-01-01 01:00 in China: a 2018 volunteer.
	f.Clock.T = time.Date(2017, 12, 31, 17, 0, 0, 0, time.UTC)
	f.register(t, "B", false, "b9")
	f.Clock.T = in2018
	f.register(t, "A", true, "a6")
	f.card(t, "a2", "PROV", toIssued...)
}

// row is the comparable part of an OrgTargets.
type row struct {
	Name                                                 string
	Registered, League, Holders, City, NewVols, NewWCard int64
	Vol, Lea, Card, CityCard, NewCard                    reports.Rating
}

func rowsOf(rep reports.TargetsReport) []row {
	var out []row
	for _, r := range rep.Rows {
		out = append(out, row{
			Name: r.Name, Registered: r.Registered, League: r.LeagueRegistered, Holders: r.Holders,
			City: r.CityCardHolders, NewVols: r.NewVolunteers, NewWCard: r.NewWithCard,
			Vol:      r.Indicator(reports.IndicatorVolunteerRate).Rating,
			Lea:      r.Indicator(reports.IndicatorLeagueRate).Rating,
			Card:     r.Indicator(reports.IndicatorCardRate).Rating,
			CityCard: r.Indicator(reports.IndicatorCityCardRate).Rating,
			NewCard:  r.Indicator(reports.IndicatorNewCardRate).Rating,
		})
	}
	return out
}

const (
	g = reports.RatingGreen
	a = reports.RatingAmber
	r = reports.RatingRed
	n = reports.RatingNone
)

// Hand-computed figures. 2017: A = a1–a5 + U (u1, u2): 7 registered, 4
// league (a1, a2, u1, u2), holders a1 and u1 (a2's card comes in 2018),
// new with card a1, u1, a2 = 3 (holding a card now). Ratings: 7/100 = 7 %
// ≥ 5 % green; 4/10 = 40 % < 48 % red; 2/7 = 28.6 % ≥ 24 % amber; 3/7 <
// 80 % red. B: b9 registered 2018-01-01 01:00 CST, so 8 in 2017; 8/200 =
// 4 % is exactly 80 % of 5 %: amber. K gets Meizhou's county rules (10 %,
// 80 %, 30 %, city card 15 %) and the province's new-card rule.
var want2017 = []row{
	{"广东省", 20, 12, 7, 2, 20, 8, r, r, g, n, r},
	{"广州市", 7, 4, 2, 0, 7, 3, g, r, a, n, r},
	{"中山大学", 2, 2, 1, 0, 2, 1, n, a, g, n, r},
	{"深圳市", 8, 6, 3, 0, 8, 3, a, r, g, n, r},
	{"梅州市", 5, 2, 2, 2, 5, 2, g, r, g, n, r},
	{"梅县区", 3, 2, 2, 2, 3, 2, g, g, g, g, r},
}

// 2018: A has a6 (league) and a2's card: 8/100 = 8 % green, 5/10 = 50 %
// red against 80 %, 3/8 = 37.5 % red against 50 %; U's league rule is
// 100 %: 2/4 red; C's 2/5 = 40 % is exactly 80 % of 50 %: amber; K has no
// county rules in 2018 and gets the province's (2/2 league: green).
var want2018 = []row{
	{"广东省", 22, 13, 8, 2, 2, 0, r, r, r, n, n},
	{"广州市", 8, 5, 3, 0, 1, 0, g, r, r, n, n},
	{"中山大学", 2, 2, 1, 0, 0, 0, n, r, g, n, n},
	{"深圳市", 9, 6, 3, 0, 1, 0, r, r, r, n, n},
	{"梅州市", 5, 2, 2, 2, 0, 0, g, r, a, n, n},
	{"梅县区", 3, 2, 2, 2, 0, 0, g, g, g, n, n},
}

func TestTargetsReportFixture(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newTargetsFixture(t, st)
		f.load(t)
		sys := issuance.SystemActor()
		check := func(t *testing.T) {
			for _, tc := range []struct {
				year int
				want []row
			}{{2017, want2017}, {2018, want2018}} {
				t.Run(fmt.Sprint(tc.year), func(t *testing.T) {
					rep, err := f.Rs.TargetsReport(ctx, sys, tc.year, 0)
					require.NoError(t, err)
					if d := cmp.Diff(tc.want, rowsOf(rep)); d != "" {
						t.Fatalf("report %d (-want +got):\n%s", tc.year, d)
					}
				})
			}
		}
		t.Run("incremental counters", check)
		t.Run("counters equal a full recount", func(t *testing.T) {
			diff, err := f.Rs.CheckCounters(ctx, sys)
			require.NoError(t, err)
			require.Empty(t, diff)
		})
		t.Run("rebuilt counters", func(t *testing.T) {
			require.NoError(t, f.Rs.RebuildCounters(ctx, sys))
			check(t)
		})
		t.Run("org admin sees its subtree only", func(t *testing.T) {
			mz := issuance.Actor{Role: issuance.RoleOrgAdmin, OrgID: f.orgs["C"].ID}
			rep, err := f.Rs.TargetsReport(ctx, mz, 2017, 0)
			require.NoError(t, err)
			require.Equal(t, want2017[4:], rowsOf(rep))
			_, err = f.Rs.TargetsReport(ctx, mz, 2017, f.orgs["A"].ID)
			require.ErrorIs(t, err, issuance.ErrNotFound)
		})
		t.Run("values and targets", func(t *testing.T) {
			rep, err := f.Rs.TargetsReport(ctx, sys, 2017, f.orgs["K"].ID)
			require.NoError(t, err)
			v := rep.Rows[0].Indicator(reports.IndicatorCityCardRate)
			require.Equal(t, reports.IndicatorValue{Indicator: reports.IndicatorCityCardRate, Numerator: 2,
				Denominator: 3, Value: 2.0 / 3, HasValue: true, Target: 0.15, TargetBP: 1500, Rating: g}, v)
		})
	})
}

func TestRate(t *testing.T) {
	for _, tc := range []struct {
		name         string
		num, den, bp int64
		want         reports.Rating
	}{
		{"at target", 5, 100, 500, g},
		{"above", 6, 100, 500, g},
		{"exactly 80 percent", 4, 100, 500, a},
		{"just under 80 percent", 399, 10000, 500, r},
		{"no target", 1, 2, 0, n},
		{"no denominator", 0, 0, 500, n},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, reports.Rate(tc.num, tc.den, tc.bp))
		})
	}
}

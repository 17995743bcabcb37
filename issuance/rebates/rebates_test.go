package rebates_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/issuancetest"
	"github.com/volcard/volcard/issuance/rebates"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/pii"
)

var cst = time.FixedZone("CST", 8*3600)

type world struct {
	*issuancetest.Fixture
	reb *rebates.Service
}

func newWorld(t *testing.T, st *store.Store) world {
	f := issuancetest.New(t, st)
	reb, err := rebates.New(f.Svc, st)
	require.NoError(t, err)
	reb.WithNow(func() time.Time { return f.Clock.T })
	return world{Fixture: f, reb: reb}
}

// card gives v an issued card of product with pan.
func (w world) card(t *testing.T, v issuance.Volunteer, product, pan string) {
	t.Helper()
	ctx := context.Background()
	app, err := w.Svc.Apply(ctx, w.Sys, v.ID, product, issuance.ChannelOnline)
	require.NoError(t, err)
	_, err = w.Svc.Approve(ctx, w.Sys, app.ID)
	require.NoError(t, err)
	_, err = w.Svc.Transition(ctx, w.Sys, app.ID, issuance.StatusBankPending, "")
	require.NoError(t, err)
	_, err = w.Svc.RecordBankApproval(ctx, app.ID, issuance.IssuedCard{PAN: pii.NewSecret(pii.KindOther, pan),
		Expiry: "3112", PSN: "01", Reference: "R" + pan[len(pan)-6:]})
	require.NoError(t, err)
}

// advice records an advice of kind for pan at t (China wall clock).
func (w world) advice(t *testing.T, at time.Time, rrn, kind, pan string, amount int64) {
	t.Helper()
	w.Clock.T = at
	n, err := w.Svc.RecordCardSpending(context.Background(), issuance.CardRef{PAN: pii.NewSecret(pii.KindOther, pan)},
		issuance.Spending{RRN: rrn, Kind: kind, Amount: amount, Currency: "156"})
	require.NoError(t, err)
	require.True(t, n)
}

func nov(day, h, m int) time.Time { return time.Date(2026, 11, day, h, m, 0, 0, cst) }

// TestMonthlyStatements: advices of November 2026 (China time) for a
// Guangzhou holder and a university holder, a refund and a reversal, a
// rate change on the 20th and a card not ours give the hand-computed
// statements; the month is refused before it ends, generated once, checks
// clean advice by advice, and a tampered line is caught by the check.
func TestMonthlyStatements(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		uni, err := w.Svc.CreateOrg(ctx, w.Sys, issuance.NewOrg{ParentID: w.Meizhou.ID, Kind: issuance.OrgUniversity, Name: "嘉应学院"})
		require.NoError(t, err)
		unit, err := w.Svc.CreateOrg(ctx, w.Sys, issuance.NewOrg{ParentID: w.Guangzhou.ID, Kind: issuance.OrgUnit, Name: "越秀区志愿者协会"})
		require.NoError(t, err)
		admin := w.Token(t, issuance.NewToken{Role: issuance.RoleProvinceAdmin})

		for _, r := range []rebates.NewRate{
			{BankCode: "BOC", ProductCode: "GD-RV-BOC", RateBP: 50, FoundationBP: 2000, EffectiveFrom: "2026-01-01"},
			{BankCode: "BOC", ProductCode: "GD-RV-BOC", RateBP: 60, FoundationBP: 2000, EffectiveFrom: "2026-11-20"},
			{BankCode: "CCB", ProductCode: "MZ-VC-CCB", RateBP: 30, FoundationBP: 1000, EffectiveFrom: "2026-01-01"},
		} {
			_, err := w.reb.SetRate(ctx, admin, r)
			require.NoError(t, err)
		}
		_, err = w.reb.SetRate(ctx, admin, rebates.NewRate{BankCode: "BOC", ProductCode: "GD-RV-BOC", RateBP: 1,
			EffectiveFrom: "2026-11-01", EffectiveTo: "2026-11-25"})
		require.ErrorIs(t, err, issuance.ErrConflict, "overlaps")
		_, err = w.reb.SetRate(ctx, admin, rebates.NewRate{BankCode: "CCB", ProductCode: "GD-RV-BOC", RateBP: 1,
			EffectiveFrom: "2027-01-01"})
		require.ErrorIs(t, err, issuance.ErrInvalid, "not that bank's product")
		_, err = w.reb.SetRate(ctx, w.GzAdmin, rebates.NewRate{BankCode: "BOC", ProductCode: "GD-RV-BOC", EffectiveFrom: "2027-01-01"})
		require.ErrorIs(t, err, issuance.ErrForbidden)
		rates, err := w.reb.Rates(ctx, admin, "BOC", "")
		require.NoError(t, err)
		require.Len(t, rates, 2)
		require.Equal(t, "2026-11-20", rates[0].EffectiveTo)

		const gzPAN, uniPAN = "6217850000000000013", "6217000000000000021"
		w.card(t, w.Volunteer(t, w.Sys, unit, "陈小明"), "GD-RV-BOC", gzPAN)
		w.card(t, w.Volunteer(t, w.Sys, uni, "李华"), "MZ-VC-CCB", uniPAN)

		w.advice(t, nov(3, 10, 0), "R01", issuance.SpendingKindSpending, gzPAN, 12345)
		w.advice(t, nov(10, 12, 0), "R02", issuance.SpendingKindRefund, gzPAN, 2345)
		w.advice(t, nov(30, 23, 59), "R03", issuance.SpendingKindSpending, gzPAN, 10001)
		w.advice(t, nov(30, 23, 59).Add(2*time.Minute), "R04", issuance.SpendingKindSpending, gzPAN, 99999) // December
		w.advice(t, nov(1, 0, 0), "R05", issuance.SpendingKindSpending, uniPAN, 50000)
		w.advice(t, nov(1, 0, 5), "R06", issuance.SpendingKindReversal, uniPAN, 50000)
		w.advice(t, nov(15, 8, 0), "R07", issuance.SpendingKindSpending, uniPAN, 1667)
		w.advice(t, nov(15, 9, 0), "R08", issuance.SpendingKindSpending, "6228480000000000018", 777)             // not ours
		w.advice(t, time.Date(2026, 10, 31, 23, 59, 0, 0, cst), "R09", issuance.SpendingKindSpending, uniPAN, 5) // October

		w.Clock.T = nov(30, 23, 0)
		_, _, err = w.reb.Generate(ctx, admin, "2026-11")
		require.ErrorIs(t, err, issuance.ErrInvalid, "November has not ended")
		w.Clock.T = time.Date(2026, 12, 1, 0, 14, 59, 0, cst)
		_, _, err = w.reb.Generate(ctx, admin, "2026-11")
		require.ErrorIs(t, err, issuance.ErrInvalid, "within the grace after the end: a late advice may still come")

		w.Clock.T = time.Date(2026, 12, 1, 0, 0, 0, 0, cst).Add(rebates.Grace)
		m, generated, err := w.reb.Generate(ctx, admin, "2026-11")
		require.NoError(t, err)
		require.True(t, generated)
		require.Equal(t, rebates.Month{Month: "2026-11", Advices: 7, NetFen: 20001 + 1667, Statements: 2, Unattributed: 1,
			GeneratedAt: m.GeneratedAt}, m)

		_, sts, err := w.reb.Statements(ctx, admin, "2026-11")
		require.NoError(t, err)
		require.Len(t, sts, 2)
		gz, mz := sts[0], sts[1]
		require.Equal(t, w.Guangzhou.ID, gz.OrgID, "the unit's city")
		require.Equal(t, uni.ID, mz.OrgID, "the university, not its city")
		require.Equal(t, issuance.OrgUniversity, mz.OrgKind)
		lines := func(l ...rebates.Line) []rebates.Line { return l }
		strip := func(ls []rebates.Line) []rebates.Line {
			out := make([]rebates.Line, len(ls))
			for i, l := range ls {
				l.RateID = 0
				out[i] = l
			}
			return out
		}
		require.Equal(t, lines(
			rebates.Line{BankCode: "BOC", ProductCode: "GD-RV-BOC", RateBP: 50, FoundationBP: 2000, Advices: 2,
				SpendingFen: 12345, RefundFen: 2345, NetFen: 10000, DonationFen: 50, FoundationFen: 10, ReturnedFen: 40},
			rebates.Line{BankCode: "BOC", ProductCode: "GD-RV-BOC", RateBP: 60, FoundationBP: 2000, Advices: 1,
				SpendingFen: 10001, NetFen: 10001, DonationFen: 60, FoundationFen: 12, ReturnedFen: 48},
		), strip(gz.Lines))
		require.Equal(t, rebates.Line{Advices: 3, SpendingFen: 22346, RefundFen: 2345, NetFen: 20001, DonationFen: 110,
			FoundationFen: 22, ReturnedFen: 88}, gz.Totals)
		require.Equal(t, lines(rebates.Line{BankCode: "CCB", ProductCode: "MZ-VC-CCB", RateBP: 30, FoundationBP: 1000,
			Advices: 3, SpendingFen: 51667, ReversalFen: 50000, NetFen: 1667, DonationFen: 5, FoundationFen: 1, ReturnedFen: 4}),
			strip(mz.Lines))

		mis, err := w.reb.CheckMonth(ctx, admin, "2026-11")
		require.NoError(t, err)
		require.Empty(t, mis)

		// Generated once: a second run returns what is stored.
		again, generated, err := w.reb.Generate(ctx, admin, "2026-11")
		require.NoError(t, err)
		require.False(t, generated)
		require.True(t, m.GeneratedAt.Equal(again.GeneratedAt))
		var n int64
		require.NoError(t, st.DB(ctx).Table("rebate_statements").Count(&n).Error)
		require.Equal(t, int64(2), n)

		// A closed month's rate cannot change.
		_, err = w.reb.SetRate(ctx, admin, rebates.NewRate{BankCode: "BOC", ProductCode: "GD-RV-BOC", RateBP: 70,
			EffectiveFrom: "2026-11-25"})
		require.ErrorIs(t, err, issuance.ErrConflict)

		// The org admin of Guangzhou reads Guangzhou's statement only.
		gzMonth, own, err := w.reb.Statements(ctx, w.GzAdmin, "2026-11")
		require.NoError(t, err)
		require.Len(t, own, 1)
		require.Equal(t, int64(3), gzMonth.Advices, "Guangzhou's advices only")
		require.Equal(t, int64(20001), gzMonth.NetFen)
		require.Zero(t, gzMonth.Unattributed)
		require.Equal(t, w.Guangzhou.ID, own[0].OrgID)
		_, err = w.reb.Statement(ctx, w.GzAdmin, mz.ID)
		require.ErrorIs(t, err, issuance.ErrNotFound)

		// Export: the TOTAL rows carry the statements' totals.
		var buf bytes.Buffer
		require.NoError(t, rebates.WriteCSV(&buf, sts))
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\uFEFF"))).ReadAll()
		require.NoError(t, err)
		require.Equal(t, rebates.Columns, recs[0])
		require.Len(t, recs, 1+2+1+1+1)
		require.Equal(t, []string{"2026-11", strconv.FormatInt(w.Guangzhou.ID, 10), "广州市", "city", "TOTAL", "", "", "", "3",
			"22346", "2345", "0", "20001", "110", "22", "88"}, recs[3])
		buf.Reset()
		require.NoError(t, rebates.WriteXLSX(&buf, sts))
		x, err := excelize.OpenReader(&buf)
		require.NoError(t, err)
		xr, err := x.GetRows("statements")
		require.NoError(t, err)
		require.Equal(t, recs[1:], xr[1:])

		// A tampered line no longer reconciles.
		require.NoError(t, st.DB(ctx).Exec("UPDATE rebate_statement_lines SET donation_fen = donation_fen + 1 WHERE product_code = 'MZ-VC-CCB'").Error)
		mis, err = w.reb.CheckMonth(ctx, admin, "2026-11")
		require.NoError(t, err)
		require.Len(t, mis, 1)
		require.Equal(t, uni.ID, mis[0].OrgID)
	})
}

// TestMissingRate: advices of a product without a rate fail the month,
// naming bank, product and day, and store nothing.
func TestMissingRate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		w.card(t, w.Volunteer(t, w.Sys, w.Guangzhou, "王五"), "GD-RV-BOC", "6217850000000000013")
		w.advice(t, nov(3, 10, 0), "R01", issuance.SpendingKindSpending, "6217850000000000013", 100)
		w.Clock.T = time.Date(2026, 12, 2, 0, 0, 0, 0, cst)
		_, _, err := w.reb.Generate(ctx, w.Sys, "2026-11")
		var mr *rebates.MissingRateError
		require.ErrorAs(t, err, &mr)
		require.Equal(t, rebates.MissingRateError{BankCode: "BOC", ProductCode: "GD-RV-BOC", Day: "2026-11-03"}, *mr)
		_, _, err = w.reb.Statements(ctx, w.Sys, "2026-11")
		require.ErrorIs(t, err, issuance.ErrNotFound)
	})
}

// TestRoundBP: halves away from zero, symmetric for refunds.
func TestRoundBP(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		bp   int
		want int64
	}{
		{100, 50, 1}, {99, 50, 0}, {-100, 50, -1}, {-99, 50, 0}, {20001, 50, 100}, {1, 10000, 1}, {0, 50, 0},
		{10000, 0, 0}, {123456789, 37, 456790},
	} {
		got, err := rebates.RoundBP(tc.n, tc.bp)
		require.NoError(t, err)
		require.Equal(t, tc.want, got, "%d × %d bp", tc.n, tc.bp)
	}
	_, err := rebates.RoundBP(1<<62, 50)
	require.ErrorIs(t, err, rebates.ErrOverflow)
}

// FuzzComputeReconciles: for any advices (kinds, amounts, days, org paths,
// products), the statements computed from aggregates of them pass Check
// against the same advices one by one, and every total is the sum of its
// lines and nets exactly.
func FuzzComputeReconciles(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 200, 201, 202, 203})
	f.Add([]byte{0, 255, 17, 99, 3, 3, 3, 3})
	bens := []rebates.Beneficiary{{OrgID: 2, Path: "/1/2/", Kind: issuance.OrgCity, Name: "广州市"},
		{OrgID: 5, Path: "/1/3/5/", Kind: issuance.OrgUniversity, Name: "嘉应学院"}}
	rates := []rebates.Rate{
		{ID: 1, BankCode: "BOC", ProductCode: "P1", RateBP: 50, FoundationBP: 2000, EffectiveFrom: "2026-01-01", EffectiveTo: "2026-11-10"},
		{ID: 2, BankCode: "BOC", ProductCode: "P1", RateBP: 65, FoundationBP: 1999, EffectiveFrom: "2026-11-10"},
		{ID: 3, BankCode: "CCB", ProductCode: "P2", RateBP: 33, FoundationBP: 5000, EffectiveFrom: "2026-01-01"},
	}
	paths := []string{"/1/2/", "/1/2/7/", "/1/3/5/", "/1/3/5/9/", "/1/3/", ""}
	kinds := []string{issuance.SpendingKindSpending, issuance.SpendingKindSpending, issuance.SpendingKindRefund, issuance.SpendingKindReversal}
	f.Fuzz(func(t *testing.T, b []byte) {
		var ads []rebates.Advice
		for i := 0; i+3 < len(b); i += 4 {
			p := "P1"
			bank := "BOC"
			if b[i]%2 == 1 {
				p, bank = "P2", "CCB"
			}
			ads = append(ads, rebates.Advice{ID: int64(i), Day: fmt.Sprintf("2026-11-%02d", 1+int(b[i+1])%30),
				OrgPath: paths[int(b[i+2])%len(paths)], BankCode: bank, ProductCode: p, Kind: kinds[int(b[i])/2%len(kinds)],
				Amount: int64(b[i+3]) * int64(b[i+1]+1) * 37})
		}
		// Aggregate as the store does: by day, path, bank, product, kind.
		type key struct{ day, path, bank, product, kind string }
		sums := map[key]*rebates.Aggregate{}
		for _, a := range ads {
			k := key{a.Day, a.OrgPath, a.BankCode, a.ProductCode, a.Kind}
			if sums[k] == nil {
				sums[k] = &rebates.Aggregate{Day: a.Day, OrgPath: a.OrgPath, BankCode: a.BankCode, ProductCode: a.ProductCode, Kind: a.Kind}
			}
			sums[k].Count++
			sums[k].Amount += a.Amount
		}
		var aggs []rebates.Aggregate
		for _, a := range sums {
			aggs = append(aggs, *a)
		}
		m, sts, err := rebates.Compute("2026-11", aggs, rates, bens)
		require.NoError(t, err)
		require.Equal(t, int64(len(ads)), m.Advices)
		mis, err := rebates.Check("2026-11", ads, rates, bens, sts)
		require.NoError(t, err)
		require.Empty(t, mis)
		for _, s := range sts {
			var net int64
			for _, l := range s.Lines {
				require.Equal(t, l.SpendingFen-l.RefundFen-l.ReversalFen, l.NetFen)
				require.Equal(t, l.DonationFen, l.FoundationFen+l.ReturnedFen)
				net += l.NetFen
			}
			require.Equal(t, net, s.Totals.NetFen)
		}
	})
}

// TestSetRateConcurrent: rates of one bank and product set at once by
// several requests, all overlapping, leave exactly one (the overlap check
// and the insert run under the product's lock); a month generated at the
// same time never sees half of them.
func TestSetRateConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		ctx := context.Background()
		admin := w.Token(t, issuance.NewToken{Role: issuance.RoleProvinceAdmin})
		const n, rounds = 8, 10
		for round := range rounds {
			from := time.Date(2027, time.Month(round+1), 1, 0, 0, 0, 0, cst)
			errs := make([]error, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					_, errs[i] = w.reb.SetRate(ctx, admin, rebates.NewRate{BankCode: "BOC", ProductCode: "GD-RV-BOC",
						RateBP: 10 + i, FoundationBP: 1000, EffectiveFrom: from.AddDate(0, 0, i).Format(time.DateOnly),
						EffectiveTo: from.AddDate(0, 0, n).Format(time.DateOnly)}) // all overlap, each its own start
				})
			}
			close(start)
			wg.Wait()
			ok := 0
			for _, err := range errs {
				if err == nil {
					ok++
					continue
				}
				require.ErrorIs(t, err, issuance.ErrConflict)
			}
			require.Equal(t, 1, ok, "round %d: exactly one of the overlapping rates is set", round)
		}
		rates, err := w.reb.Rates(ctx, admin, "BOC", "GD-RV-BOC")
		require.NoError(t, err)
		require.Len(t, rates, rounds)
	})
}

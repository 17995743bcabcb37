package rebates_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/issuancetest"
	"github.com/volcard/volcard/issuance/rebates"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// BenchmarkStatements1M generates the statements of a month of 1,000,000
// spending advices on PostgreSQL (2% refunds, 1.3% reversals) of 9,922
// holders in 82 organisations (2 cities, 20 universities under them, 3
// units under each university), with two products and a rate change
// mid-month: the advices summed in SQL by day,
// org path, bank, product and kind, then the beneficiary, the rate and
// the rounding rule applied in Go, and the 22 statements with their lines
// stored. The stored month is deleted between runs (not timed). After the
// runs, Check recomputes the month advice by advice and must find no
// difference.
func BenchmarkStatements1M(b *testing.B) {
	const (
		advices = 1_000_000
		holders = 10_000 // 121 per organisation: 9,922
	)
	ctx := context.Background()
	t0 := time.Now()
	st := storetest.Postgres(b)
	f := issuancetest.New(b, st)
	sys := f.Sys
	var orgs []issuance.Org
	for i := range 20 {
		parent := f.Guangzhou
		if i%2 == 1 {
			parent = f.Meizhou
		}
		u, err := f.Svc.CreateOrg(ctx, sys, issuance.NewOrg{ParentID: parent.ID, Kind: issuance.OrgUniversity, Name: fmt.Sprintf("大学%02d", i)})
		require.NoError(b, err)
		orgs = append(orgs, u)
		for j := range 3 {
			unit, err := f.Svc.CreateOrg(ctx, sys, issuance.NewOrg{ParentID: u.ID, Kind: issuance.OrgUnit, Name: fmt.Sprintf("学院%d", j)})
			require.NoError(b, err)
			orgs = append(orgs, unit)
		}
	}
	orgs = append(orgs, f.Guangzhou, f.Meizhou)
	require.Len(b, orgs, 82)
	db := st.DB(ctx)
	require.NoError(b, db.Exec(`ALTER TABLE volunteers DISABLE TRIGGER USER`).Error)
	require.NoError(b, db.Exec(`ALTER TABLE applications DISABLE TRIGGER USER`).Error)
	per := holders / len(orgs)
	for i, o := range orgs {
		product, bank := "GD-RV-BOC", "BOC"
		if i%3 == 0 {
			product, bank = "MZ-VC-CCB", "CCB"
		}
		require.NoError(b, db.Exec(`INSERT INTO volunteers (org_id, org_path, name, emboss_name, id_type, id_number_enc,
			id_number_idx, clothing_size, source, created_at)
			SELECT ?, ?, '测试', 'CE SHI', 'resident', decode(md5(? || g::text), 'hex'), decode(md5(? || 'i' || g::text), 'hex'),
			'm', 'online', now() FROM generate_series(1, ?) g`, o.ID, o.Path, fmt.Sprint(o.ID), fmt.Sprint(o.ID), per).Error)
		require.NoError(b, db.Exec(`INSERT INTO applications (number, volunteer_id, org_id, org_path, product_code, bank_code,
			channel, status, created_at, updated_at)
			SELECT 'RB' || lpad(id::text, 16, '0'), id, ?, ?, ?, ?, 'online', 'activated', now(), now()
			FROM volunteers WHERE org_id = ?`, o.ID, o.Path, product, bank, o.ID).Error)
	}
	require.NoError(b, db.Exec(`ALTER TABLE volunteers ENABLE TRIGGER USER`).Error)
	require.NoError(b, db.Exec(`ALTER TABLE applications ENABLE TRIGGER USER`).Error)
	var apps int
	require.NoError(b, db.Raw(`SELECT COUNT(*) FROM applications`).Scan(&apps).Error)
	// November 2026, China time: 30 days of minutes from 2026-10-31 16:00 UTC.
	require.NoError(b, db.Exec(`INSERT INTO card_spending (rrn, kind, application_id, org_path, amount, currency, received_at, china_date)
		SELECT 'B' || g, CASE WHEN g % 50 = 0 THEN 'refund' WHEN g % 77 = 0 THEN 'reversal' ELSE 'spending' END,
			a.id, a.org_path, 1 + (g::bigint * 7919) % 50000, '156', t.ts, to_char(t.ts AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD')
		FROM generate_series(1, ?) g
		JOIN (SELECT id, org_path, row_number() OVER (ORDER BY id) AS rn FROM applications) a ON a.rn = 1 + g % ?
		CROSS JOIN LATERAL (SELECT timestamptz '2026-10-31 16:00:00+00' + (g % 43200) * interval '1 minute') t(ts)`,
		advices, apps).Error)
	require.NoError(b, db.Exec(`ANALYZE card_spending`).Error)
	reb, err := rebates.New(f.Svc, st)
	require.NoError(b, err)
	reb.WithNow(func() time.Time { return time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC) })
	for _, r := range []rebates.NewRate{
		{BankCode: "BOC", ProductCode: "GD-RV-BOC", RateBP: 50, FoundationBP: 2000, EffectiveFrom: "2026-01-01"},
		{BankCode: "BOC", ProductCode: "GD-RV-BOC", RateBP: 60, FoundationBP: 2000, EffectiveFrom: "2026-11-16"},
		{BankCode: "CCB", ProductCode: "MZ-VC-CCB", RateBP: 30, FoundationBP: 1000, EffectiveFrom: "2026-01-01"},
	} {
		_, err := reb.SetRate(ctx, sys, r)
		require.NoError(b, err)
	}
	b.Logf("setup %v (%d holders, %d advices)", time.Since(t0), apps, advices)
	clear := func() {
		require.NoError(b, db.Exec(`DELETE FROM rebate_statement_lines`).Error)
		require.NoError(b, db.Exec(`DELETE FROM rebate_statements`).Error)
		require.NoError(b, db.Exec(`DELETE FROM rebate_months`).Error)
	}
	var m rebates.Month
	b.ResetTimer()
	for b.Loop() {
		var generated bool
		m, generated, err = reb.Generate(ctx, sys, "2026-11")
		require.NoError(b, err)
		require.True(b, generated)
		b.StopTimer()
		clear()
		b.StartTimer()
	}
	b.StopTimer()
	require.Equal(b, int64(advices), m.Advices)
	require.Equal(b, 22, m.Statements)
	b.ReportMetric(float64(advices)*float64(b.N)/b.Elapsed().Seconds(), "advices/s")
	_, _, err = reb.Generate(ctx, sys, "2026-11")
	require.NoError(b, err)
	t1 := time.Now()
	mis, err := reb.CheckMonth(ctx, sys, "2026-11")
	require.NoError(b, err)
	require.Empty(b, mis)
	b.Logf("check advice by advice: %v, no difference", time.Since(t1))
}

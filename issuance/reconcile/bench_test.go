package reconcile_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/bankgw/settlement"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/issuancetest"
	"github.com/volcard/volcard/issuance/reconcile"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// luhn completes body with its Luhn check digit.
func luhn(body string) string {
	sum, double := 0, true
	for i := len(body) - 1; i >= 0; i-- {
		d := int(body[i] - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return body + string(rune('0'+(10-sum%10)%10))
}

// BenchmarkReconcile100k reconciles 100,000 cards of one bank on
// PostgreSQL: parse the bank's settlement file (streamed, MAC checked),
// compare with volcard's cards (opening each sealed PAN for its PAN MAC)
// and store the report. The bank's file differs in 1,000 states (blocked
// at the bank) and leaves out 100 cards, so 1,100 differences are stored
// each time.
func BenchmarkReconcile100k(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	t0 := time.Now()
	st := storetest.Postgres(b)
	f := issuancetest.New(b, st)
	rec, err := reconcile.New(f.Svc, st)
	require.NoError(b, err)
	k := testKeys(b)
	pk := issuancetest.Keys(b)
	at := issuancetest.Now.Add(-24 * time.Hour)
	db := st.DB(ctx)
	org := f.Guangzhou
	// The organisation counters' triggers (row by row) would take minutes
	// here and are no part of what is measured.
	require.NoError(b, db.Exec(`ALTER TABLE volunteers DISABLE TRIGGER USER`).Error)
	require.NoError(b, db.Exec(`ALTER TABLE applications DISABLE TRIGGER USER`).Error)
	require.NoError(b, db.Exec(`INSERT INTO volunteers (org_id, org_path, name, emboss_name, id_type, id_number_enc,
		id_number_idx, clothing_size, source, created_at)
		SELECT ?, ?, '测试', 'CE SHI', 'resident', decode(md5(g::text), 'hex'), decode(md5('i' || g::text), 'hex'), 'm', 'online', ?
		FROM generate_series(1, ?) g`, org.ID, org.Path, at, n).Error)
	require.NoError(b, db.Exec(`INSERT INTO applications (number, volunteer_id, org_id, org_path, product_code, bank_code,
		channel, status, created_at, updated_at)
		SELECT 'VB' || lpad(row_number() OVER (ORDER BY id)::text, 16, '0'), id, ?, ?, 'GD-RV-BOC', 'BOC', 'online',
		'bank_approved', ?, ? FROM volunteers`, org.ID, org.Path, at, at).Error)
	require.NoError(b, db.Exec(`ALTER TABLE volunteers ENABLE TRIGGER USER`).Error)
	require.NoError(b, db.Exec(`ALTER TABLE applications ENABLE TRIGGER USER`).Error)
	var appIDs []int64
	require.NoError(b, db.Raw(`SELECT id FROM applications ORDER BY number`).Scan(&appIDs).Error)
	require.Len(b, appIDs, n)

	pan := func(i int) string { return luhn(fmt.Sprintf("621785%012d", i)) }
	const batch = 1000
	for start := 0; start < n; start += batch {
		var sb strings.Builder
		sb.WriteString(`INSERT INTO cards (application_id, pan_token, pan_enc, last_four, expiry, psn, state, created_at) VALUES `)
		args := make([]any, 0, batch*5)
		for i := start; i < start+batch; i++ {
			p := pan(i)
			sealed, err := pk.Seal("card.pan", p) // issuance's purposePAN
			require.NoError(b, err)
			if i > start {
				sb.WriteString(",")
			}
			sb.WriteString("(?, ?, ?, ?, '3112', '01', 'active', ?)")
			args = append(args, appIDs[i], f.Svc.PANToken(p), sealed, p[len(p)-4:], at)
		}
		require.NoError(b, db.Exec(sb.String(), args...).Error)
	}
	// The bank's file: 1,000 cards blocked at the bank, 100 not listed.
	rows := 0
	for i := range n {
		if i%1000 != 1 {
			rows++
		}
	}
	var file bytes.Buffer
	w, err := settlement.NewWriter(&file, k, settlement.Header{BankCode: "BOC", Date: issuancetest.Now, Rows: rows})
	require.NoError(b, err)
	for i := range n {
		if i%1000 == 1 {
			continue
		}
		p := pan(i)
		s := settlement.StateActive
		if i%100 == 0 {
			s = settlement.StateBlocked
		}
		require.NoError(b, w.Write(settlement.Row{ApplicationNumber: fmt.Sprintf("VB%016d", i+1), ProductCode: "GDRVBOC",
			LastFour: p[len(p)-4:], PANMAC: k.PANMAC(p), State: s, Activated: at}))
	}
	require.NoError(b, w.Close())
	b.Logf("setup %v", time.Since(t0))
	b.SetBytes(int64(file.Len()))
	b.ResetTimer()
	for b.Loop() {
		r, err := settlement.NewReader(bytes.NewReader(file.Bytes()), k)
		require.NoError(b, err)
		rep, err := rec.Reconcile(ctx, issuance.SystemActor(), reconcile.Input{BankCode: "BOC", Date: issuancetest.Now,
			Source: "bench", PANMAC: k.PANMAC, Rows: r.Cards()})
		require.NoError(b, err)
		require.Equal(b, n-1100, rep.Matched)
		require.Equal(b, map[reconcile.Kind]int{reconcile.KindStateDiffers: 1000, reconcile.KindUnknownToBank: 100}, rep.ByKind)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "cards/s")
}

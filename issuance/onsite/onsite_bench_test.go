package onsite_test

import (
	"context"
	"testing"
	"time"

	"github.com/volcard/volcard/issuance/onsite"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance/roster/rostertest"
	"github.com/volcard/volcard/issuance/store/storetest"
)

const benchRows = 10_000

// BenchmarkOnsiteUpload10k uploads a 10,000-row XLSX roster (made by
// rostertest, new people each iteration) to a session on PostgreSQL:
// parsed, validated, 10,000 volunteers registered, 10,000 applications with
// their events and queue entries stored. Goal: under 5 s per upload.
// Metrics: s/upload, rows/s (= applications created per second).
func BenchmarkOnsiteUpload10k(b *testing.B) {
	ctx := context.Background()
	f := newOnsiteFixture(b, storetest.Postgres(b))
	var total time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		data, err := rostertest.XLSX(rostertest.People(benchRows, i*benchRows))
		require.NoError(b, err)
		s := f.session(b, benchRows)
		b.StartTimer()
		start := time.Now()
		rep, err := f.On.UploadRoster(ctx, f.bocStaff, s.ID, onsite.RosterInput{Data: data})
		total += time.Since(start)
		require.NoError(b, err)
		require.Equal(b, benchRows, rep.Stored)
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/upload")
	b.ReportMetric(float64(benchRows*b.N)/total.Seconds(), "rows/s")
}

// BenchmarkOnsiteApprove measures the one-action approval of a session's
// rows (each through Transition with its event): approvals per second.
func BenchmarkOnsiteApprove(b *testing.B) {
	const rows = 2_000
	ctx := context.Background()
	f := newOnsiteFixture(b, storetest.Postgres(b))
	var total time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		s := f.session(b, rows)
		_, err := f.On.UploadRoster(ctx, f.bocStaff, s.ID, onsite.RosterInput{
			Data: rostertest.CSV(rostertest.People(rows, 5_000_000+i*rows), false, false)})
		require.NoError(b, err)
		b.StartTimer()
		start := time.Now()
		ap, err := f.On.Approve(ctx, f.uniAdmin, s.ID)
		total += time.Since(start)
		require.NoError(b, err)
		require.Equal(b, rows, ap.Approved)
	}
	b.ReportMetric(float64(rows*b.N)/total.Seconds(), "approvals/s")
}

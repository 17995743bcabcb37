package platformlink_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/issuancetest"
	"github.com/volcard/volcard/issuance/platformlink"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// benchBatch is the batch size of `volcard import` (its default).
const benchBatch = 5000

// benchRows returns batch seq of distinct valid platform volunteers: ID
// numbers vary by birth date (from 1960) and sequence number, so up to
// 18 million are distinct.
func benchRows(org int64, seq int) []platformlink.ImportRow {
	rows := make([]platformlink.ImportRow, benchBatch)
	base := time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range rows {
		k := seq*benchBatch + i
		day := base.AddDate(0, 0, k/1000)
		body := fmt.Sprintf("440103%s%03d", day.Format("20060102"), k%1000)
		rows[i] = platformlink.ImportRow{Line: i + 1, Volunteer: issuance.NewVolunteer{OrgID: org,
			Name: fmt.Sprintf("平台志愿者%d", k), IDNumber: issuancetest.ResidentID(body), Phone: "13912345678",
			LeagueMember: k%3 == 0, VolunteerNumber: fmt.Sprintf("GDV%010d", k)}}
	}
	return rows
}

// BenchmarkImportVolunteers imports the platform's volunteers into
// PostgreSQL in batches of 5,000 as serve does for `volcard import
// volunteers` (validation, sealing and blind index, COPY, counters, the
// batch record), b.N batches into one growing table; rows/s is the figure
// (the goal: 20,000 rows/s, the province's 8.15 million in under 7
// minutes). `make bench-import` runs 200 batches: one million volunteers.
func BenchmarkImportVolunteers(b *testing.B) {
	st := &timedStore{Store: storetest.Postgres(b)}
	f := issuancetest.New(b, st.Store)
	pl, err := platformlink.New(f.Svc, st)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	batches := make([][]platformlink.ImportRow, 0, b.N)
	for seq := range b.N {
		batches = append(batches, benchRows(f.Guangzhou.ID, seq))
	}
	b.ResetTimer()
	start := time.Now()
	for seq := range b.N {
		res, err := pl.ImportVolunteers(ctx, f.Sys, platformlink.BatchKey{ImportID: "bench", Seq: seq}, batches[seq])
		if err != nil {
			b.Fatal(err)
		}
		if res.Created != benchBatch {
			b.Fatalf("batch %d: created %d, rejects %v", seq, res.Created, res.Rejects[:min(3, len(res.Rejects))])
		}
	}
	el := time.Since(start)
	b.ReportMetric(float64(b.N*benchBatch)/el.Seconds(), "rows/s")
	b.ReportMetric(float64(el.Nanoseconds())/float64(b.N*benchBatch), "ns/row")
	// Where the time goes: the storage transaction (lookups, COPY, counters,
	// batch record; mostly PostgreSQL) against the rest (validation,
	// sealing, blind index in Go).
	b.ReportMetric(float64(st.db.Nanoseconds())/float64(b.N*benchBatch), "db-ns/row")
}

// timedStore measures the time spent in ImportBatch.
type timedStore struct {
	*store.Store
	db time.Duration
}

func (t *timedStore) ImportBatch(ctx context.Context, key platformlink.BatchKey, rows int, pre []platformlink.Reject,
	numbers []string, indexes [][]byte, plan func([]platformlink.Existing) platformlink.Plan) (platformlink.BatchResult, error) {
	start := time.Now()
	defer func() { t.db += time.Since(start) }()
	return t.Store.ImportBatch(ctx, key, rows, pre, numbers, indexes, plan)
}

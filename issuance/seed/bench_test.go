package seed_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// EnvBenchVolunteers overrides the number of volunteers of
// BenchmarkTargetsReport1M (make bench-large sets 8150000, Guangdong's 2017
// count).
const EnvBenchVolunteers = "VOLCARD_BENCH_VOLUNTEERS"

// BenchmarkTargetsReport1M measures the province-wide targets report on
// PostgreSQL over 1 million generated volunteers (seeded once per run with
// COPY; about a minute on two cores). The report reads the per-org,
// per-year counters, so its cost does not grow with the volunteers.
func BenchmarkTargetsReport1M(b *testing.B) {
	n := int64(1_000_000)
	if v := os.Getenv(EnvBenchVolunteers); v != "" {
		x, err := strconv.ParseInt(v, 10, 64)
		if err != nil || x <= 0 {
			b.Fatalf("%s=%q is not a positive number", EnvBenchVolunteers, v)
		}
		n = x
	}
	st := storetest.Postgres(b)
	svc := newService(b, st)
	rs := reportsOf(b, svc, st)
	start := time.Now()
	res := loadDemo(b, st, svc, n)
	b.Logf("seeded %d volunteers and %d applications in %s (%.0f volunteers/s, counters rebuilt)",
		res.Volunteers, res.Applications, time.Since(start).Round(time.Millisecond),
		float64(res.Volunteers)/time.Since(start).Seconds())
	ctx, sys := context.Background(), issuance.SystemActor()
	for _, year := range []int{2017, 2018} {
		year := year
		b.Run(strconv.Itoa(year), func(b *testing.B) {
			var rows int
			for b.Loop() {
				rep, err := rs.TargetsReport(ctx, sys, year, 0)
				if err != nil {
					b.Fatal(err)
				}
				rows = len(rep.Rows)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/report")
			b.ReportMetric(float64(rows), "orgs")
			b.ReportMetric(float64(n), "volunteers")
		})
	}
}

package outbox_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/volcard/volcard/bankgw/outbox"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// BenchmarkOutboxThroughput measures applications per second from approved
// to bank_approved on PostgreSQL with banksim over TCP on loopback: the
// dispatcher (approved → bank_pending + outbox row), claims, database STANs,
// 0300/0310 round trips and the result transaction. Run it with the gateway
// benchmarks in one invocation:
//
//	go test -run '^$' -bench 'RoundTrip|OutboxThroughput' ./bankgw/...
func BenchmarkOutboxThroughput(b *testing.B) {
	ctx := context.Background()
	st := storetest.Postgres(b)
	e := newEnv(b, st, envOpts{})
	c := e.client(10 * time.Second)
	total := 0
	for b.Loop() {
		b.StopTimer()
		n := 200
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := g; i < n; i += 4 {
					e.approved(ctx)
				}
			})
		}
		wg.Wait()
		total += n
		w := e.worker(c, func(cfg *outbox.Config) { cfg.Workers, cfg.Batch, cfg.PollInterval = 4, 32, 2*time.Millisecond })
		b.StartTimer()
		stop := run(w)
		for {
			var done int
			if err := st.SQLDB().QueryRowContext(ctx,
				`SELECT count(*) FROM applications WHERE status = 'bank_approved'`).Scan(&done); err != nil {
				b.Fatal(err)
			}
			if done == total {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		b.StopTimer()
		if err := stop(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "apps/s")
}

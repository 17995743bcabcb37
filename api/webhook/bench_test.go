package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/api/webhook"
	"github.com/volcard/volcard/issuance/feed"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/pii"
)

// BenchmarkWebhookDelivery: events written by 8 concurrent change
// transactions on PostgreSQL (store.RecordEvent, 1,000 subjects so that
// each subject's events queue behind each other) and delivered by one
// worker (one serve process) to a local receiver that verifies every
// signature. Reported: delivered events per second (from the first write
// to the last receipt) and the lag from the change (the event's time) to
// its receipt, p50 and p99. saturated writes as fast as it can while the
// worker delivers; backlog writes everything first and then times the
// worker alone (its throughput; the lag is then the backlog's age);
// rate=1000 writes 1,000 events a second (the lag at the goal's rate).
func BenchmarkWebhookDelivery(b *testing.B) {
	b.Run("saturated", func(b *testing.B) { benchDelivery(b, 0) })
	b.Run("backlog", func(b *testing.B) { benchDelivery(b, -1) })
	b.Run("rate=1000", func(b *testing.B) { benchDelivery(b, 1000) })
}

func benchDelivery(b *testing.B, rate int) {
	st := storetest.Postgres(b)
	ctx := context.Background()
	keys, err := pii.New(bytes.Repeat([]byte{7}, pii.DataKeySize))
	require.NoError(b, err)
	const secret = "whsec_bench"
	var (
		mu   sync.Mutex
		lags []time.Duration
		n    atomic.Int64
		bad  atomic.Int64
		done = make(chan struct{})
		want atomic.Int64
	)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if webhook.Verify(secret, r.Header.Get(webhook.SignatureHeader), body, time.Now(), 0) != nil {
			bad.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var e struct {
			CreatedAt time.Time `json:"created_at"`
		}
		_ = json.Unmarshal(body, &e)
		mu.Lock()
		lags = append(lags, time.Since(e.CreatedAt))
		mu.Unlock()
		if n.Add(1) == want.Load() {
			close(done)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(recv.Close)
	sealed, err := keys.Seal(feed.PurposeSecret, secret)
	require.NoError(b, err)
	now := time.Now()
	require.NoError(b, st.CreateEndpoint(ctx, &feed.Endpoint{URL: recv.URL, SecretSealed: sealed, Enabled: true,
		CreatedAt: now, UpdatedAt: now}))
	w, err := webhook.NewWorker(st, keys, webhook.Options{Owner: "bench", Logger: slog.New(slog.DiscardHandler), Addrs: loopback(b)})
	require.NoError(b, err)

	b.ResetTimer()
	want.Store(int64(b.N))
	wctx, cancel := context.WithCancel(ctx)
	stopped := make(chan struct{})
	run := func() { go func() { defer close(stopped); w.Run(wctx) }() }
	if rate >= 0 {
		run()
	}
	start := time.Now()
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 8 {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				if rate > 0 { // event i is due at start + i/rate
					time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))))
				}
				err := st.InTx(ctx, func(ctx context.Context) error {
					return st.RecordEvent(ctx, store.FeedEvent{Type: "application.noted",
						Subject: feed.Subject{Type: "application", ID: i % 1000}, OrgPath: "/1/",
						Data: map[string]any{"n": i}, At: time.Now()})
				})
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if rate < 0 {
		start = time.Now()
		run()
	}
	select {
	case <-done:
	case <-time.After(5*time.Minute + time.Duration(b.N)*time.Millisecond):
		b.Fatalf("delivered %d of %d", n.Load(), b.N)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	<-stopped
	require.Zero(b, bad.Load(), "bad signatures")
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(lags)
	q := func(p float64) float64 { return float64(lags[int(p*float64(len(lags)-1))]) / float64(time.Millisecond) }
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(q(0.5), "p50-lag-ms")
	b.ReportMetric(q(0.99), "p99-lag-ms")
	b.ReportMetric(0, "ns/op")
	if b.N >= 1000 {
		b.Log(fmt.Sprintf("%d events in %v", b.N, elapsed.Round(time.Millisecond)))
	}
}

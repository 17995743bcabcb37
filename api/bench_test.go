package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// BenchmarkCreateApplicationsHTTP drives POST /v1/applications (with an
// Idempotency-Key each) from 8 and from 32 concurrent keep-alive HTTP
// clients over loopback against a real server on PostgreSQL (pool of 8
// connections), one application per pre-registered volunteer, and reports
// applications/s and the p50 and p99 latency. The server logs every request
// (JSON, to io.Discard) as in production. With a closed loop of N clients,
// latency ≈ N / throughput (Little's law): the 8-client run shows the
// latency at about the target rate, the 32-client run the saturation
// throughput.
func BenchmarkCreateApplicationsHTTP(b *testing.B) {
	for _, clients := range []int{8, 32} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) { benchCreateApplications(b, clients) })
	}
}

func benchCreateApplications(b *testing.B, benchClients int) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	h := newHarness(b, storetest.Postgres(b), log)
	volunteers := registerVolunteers(b, h, b.N)
	bodies := make([][]byte, b.N)
	for i, id := range volunteers {
		bodies[i] = fmt.Appendf(nil, `{"volunteer_id":%d,"product":"GD-RV-BOC","channel":"platform"}`, id)
	}
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns: benchClients, MaxIdleConnsPerHost: benchClients, IdleConnTimeout: time.Minute,
	}}
	defer client.CloseIdleConnections()
	url, auth := h.ts.URL+"/v1/applications", "Bearer "+h.tokens["platform"]
	latencies := make([]time.Duration, b.N)
	var next atomic.Int64
	var failed atomic.Int64
	var firstErr sync.Once

	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range benchClients {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= b.N {
					return
				}
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(bodies[i]))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", auth)
				req.Header.Set("Idempotency-Key", fmt.Sprintf("bench-%d", i))
				t0 := time.Now()
				res, err := client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
				latencies[i] = time.Since(t0)
				if err != nil || res.StatusCode != http.StatusCreated {
					failed.Add(1)
					firstErr.Do(func() {
						if err != nil {
							b.Errorf("request %d: %v", i, err)
						} else {
							b.Errorf("request %d: status %d", i, res.StatusCode)
						}
					})
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()

	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[min(len(latencies)-1, int(float64(len(latencies))*p))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "apps/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d requests failed", n, b.N)
	}
}

// registerVolunteers registers n Meizhou volunteers directly through the
// Service (not timed) and returns their ids.
func registerVolunteers(b *testing.B, h *harness, n int) []int64 {
	b.Helper()
	ids := make([]int64, n)
	var g errgroup.Group
	g.SetLimit(8)
	base := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		g.Go(func() error {
			birth := base.AddDate(0, 0, i/1000).Format("20060102")
			v, err := h.svc.RegisterVolunteer(context.Background(), issuance.SystemActor(), issuance.NewVolunteer{
				OrgID: h.meizhou.ID, Name: "测试", IDNumber: residentID("441402", birth, i%1000),
				Phone: fmt.Sprintf("139%08d", i), ClothingSize: issuance.SizeM,
			})
			ids[i] = v.ID
			return err
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatalf("register volunteers: %v", err)
	}
	return ids
}

package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/volcard/volcard/internal/jobs"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
)

// startJobs runs serve's scheduled work under the cluster's locks: each job
// once per interval across every serve process on the database (see
// internal/jobs). wait returns when the jobs have stopped after ctx ends.
// extra are more jobs (the banks' reconciliation, reconcileJobs).
func startJobs(ctx context.Context, svc *issuance.Service, st *store.Store, m *store.Member, idem *store.IdempotencyKeys, reg prometheus.Registerer, log *slog.Logger, extra ...jobs.Job) (wait func(), err error) {
	runs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "volcard_job_runs_total",
		Help: "Runs of scheduled jobs made by this process, by job and result (ok, error).",
	}, []string{"job", "result"})
	last := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "volcard_job_last_success_timestamp_seconds",
		Help: "When a scheduled job last succeeded in this process (Unix time).",
	}, []string{"job"})
	for _, c := range []prometheus.Collector{runs, last} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	r, err := jobs.New(jobs.Config{Locker: m, Ledger: st, Owner: m.ID(), Logger: log,
		Ran: func(name string, _ time.Duration, err error) {
			if err != nil {
				runs.WithLabelValues(name, "error").Inc()
				return
			}
			runs.WithLabelValues(name, "ok").Inc()
			last.WithLabelValues(name).SetToCurrentTime()
		}})
	if err != nil {
		return nil, err
	}
	return r.Start(ctx, append(serveJobs(svc, st, idem, log), extra...)...)
}

// serveJobs is serve's schedule.
func serveJobs(svc *issuance.Service, st *store.Store, idem *store.IdempotencyKeys, log *slog.Logger) []jobs.Job {
	swept := func(what string, n int64) {
		if n > 0 {
			log.Info("swept "+what, slog.Int64("deleted", n))
		}
	}
	return []jobs.Job{
		{Name: "sweep-idempotency-keys", Every: time.Hour, Run: func(ctx context.Context) error {
			n, err := idem.DeleteExpired(ctx)
			swept("expired idempotency keys", n)
			return err
		}},
		{Name: "sweep-rate-limits", Every: 10 * time.Minute, Run: func(ctx context.Context) error {
			n, err := st.SweepRateLimits(ctx, time.Now())
			swept("idle rate-limit keys", n)
			return err
		}},
		{Name: "prune-stans", Every: 6 * time.Hour, Run: func(ctx context.Context) error {
			_, err := st.PruneSTANs(ctx, time.Now().AddDate(0, 0, -1))
			return err
		}},
		// Cards past their expiry month (issue 18): marked expired with a
		// card event each. Check-in refuses them by date before the job
		// runs, so a day's delay after the month ends changes nothing there.
		{Name: "expire-cards", Every: 24 * time.Hour, Run: func(ctx context.Context) error {
			n, err := svc.ExpireCards(ctx, issuance.SystemActor())
			if n > 0 {
				log.Info("expired cards", slog.Int("cards", n))
			}
			return err
		}},
	}
}

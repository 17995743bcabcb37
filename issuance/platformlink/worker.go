package platformlink

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/volcard/volcard/issuance"
)

// WorkerConfig configures a Worker. Zero values take the defaults given.
type WorkerConfig struct {
	// Registrar is the platform (a *platform.Client). Required.
	Registrar Registrar
	// Service opens the volunteers. Required.
	Service *issuance.Service
	// Store holds the rows (an *issuance/store.Store). Required.
	Store Store
	// Owner names this worker in leases (serve passes its cluster member
	// id, so that a killed process's rows are taken over at once). Default
	// host-pid-random.
	Owner string
	// Batch is the number of rows claimed at once. Default 16.
	Batch int
	// PollInterval is the wait when nothing is due. Default 1 s.
	PollInterval time.Duration
	// Lease is how long a claimed row stays ours; it must exceed
	// Registrar's timeout. Default 60 s.
	Lease time.Duration
	// RetryBase and RetryMax bound the exponential back-off (with jitter)
	// after a passing failure. Defaults 2 s, 10 min.
	RetryBase time.Duration
	RetryMax  time.Duration
	// Registerer receives the worker's metrics; nil registers none.
	Registerer prometheus.Registerer
	// Logger; default slog.Default().
	Logger *slog.Logger
}

// Worker sends the registration requests to the platform and writes the
// numbers back.
type Worker struct {
	cfg     WorkerConfig
	log     *slog.Logger
	results *prometheus.CounterVec
	rows    *prometheus.GaugeVec
}

// NewWorker validates cfg and returns a Worker.
func NewWorker(cfg WorkerConfig) (*Worker, error) {
	if cfg.Registrar == nil || cfg.Service == nil || cfg.Store == nil {
		return nil, errors.New("platformlink: worker needs Registrar, Service and Store")
	}
	if cfg.Owner == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		cfg.Owner = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 16
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.Lease <= 0 {
		cfg.Lease = time.Minute
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = 2 * time.Second
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = 10 * time.Minute
	}
	w := &Worker{cfg: cfg, log: cfg.Logger}
	if w.log == nil {
		w.log = slog.Default()
	}
	w.results = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "volcard_platform_requests_total",
		Help: "Registration requests sent to the platform, by result (registered, matched, retry, failed)."},
		[]string{"result"})
	w.rows = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "volcard_platform_requests",
		Help: "Registration requests by state (pending, in_flight, done, failed), counted at each idle poll."},
		[]string{"state"})
	if cfg.Registerer != nil {
		for _, c := range []prometheus.Collector{w.results, w.rows} {
			if err := cfg.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("platformlink: register metrics: %w", err)
			}
		}
	}
	return w, nil
}

// Run claims and sends due rows until ctx is done, then hands the rows it
// still holds back (they are claimable at once).
func (w *Worker) Run(ctx context.Context) {
	for {
		n, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.log.Warn("platform worker", slog.String("err", err.Error()))
		}
		if n == 0 || err != nil {
			w.refreshGauges(ctx)
			select {
			case <-ctx.Done():
				return
			case <-time.After(w.cfg.PollInterval):
			}
		}
	}
}

func (w *Worker) refreshGauges(ctx context.Context) {
	counts, err := w.cfg.Store.CountPlatformRequests(ctx)
	if err != nil {
		return
	}
	for _, s := range []State{StatePending, StateInFlight, StateDone, StateFailed} {
		w.rows.WithLabelValues(string(s)).Set(float64(counts[s]))
	}
}

// RunOnce claims one batch of due rows and processes them concurrently; it
// returns how many it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	// A claim is not cancelled with ctx: cancelled mid-flight it could
	// commit on the server after we gave up, leasing rows to no one.
	rows, err := w.cfg.Store.ClaimPlatformRequests(context.WithoutCancel(ctx), Claim{Owner: w.cfg.Owner,
		Now: now(), Lease: w.cfg.Lease, Limit: w.cfg.Batch})
	if err != nil {
		return 0, fmt.Errorf("claim platform requests: %w", err)
	}
	var wg sync.WaitGroup
	for i := range rows {
		wg.Add(1)
		go func(r *Request) {
			defer wg.Done()
			w.process(ctx, r)
		}(&rows[i])
	}
	wg.Wait()
	return len(rows), nil
}

// process sends one row and stores the outcome.
func (w *Worker) process(ctx context.Context, r *Request) {
	sys := issuance.SystemActor()
	v, err := w.cfg.Service.GetVolunteer(ctx, sys, r.VolunteerID)
	if err != nil {
		w.settle(ctx, r, fmt.Errorf("open volunteer: %w", err), "", false)
		return
	}
	if v.VolunteerNumber != "" {
		// Staff set the number meanwhile: nothing to send.
		r.Number, r.Matched = v.VolunteerNumber, true
		w.finish(ctx, r, "number already set")
		return
	}
	p := Person{RequestID: r.ID, Name: v.Name, IDType: v.IDType, IDNumber: v.IDNumber, Gender: v.Gender,
		BirthDate: v.BirthDate, Phone: v.Phone, Source: v.Source}
	if o, err := w.cfg.Service.GetOrg(ctx, sys, v.OrgID); err == nil {
		p.OrgName = o.Name
	}
	number, matched, err := w.cfg.Registrar.Register(ctx, p)
	if err == nil && !issuance.ValidPlatformNumber(number) {
		err = &RefusedError{Status: 200, Code: "bad_answer", Reason: "the platform answered without a valid volunteer number"}
	}
	w.settle(ctx, r, err, number, matched)
}

// settle writes the number back (err nil), or schedules the next try
// (passing error), or fails the row (refusal, or a number another
// volunteer holds).
func (w *Worker) settle(ctx context.Context, r *Request, err error, number string, matched bool) {
	at := now().UTC()
	if err == nil {
		serr := w.cfg.Store.InTx(ctx, func(ctx context.Context) error {
			// The platform's number written back to a volunteer registered
			// at a branch or on site: the store writes volunteer.updated.
			if err := w.cfg.Store.SetPlatformNumber(ctx, NumberChange{VolunteerID: r.VolunteerID, To: number,
				Source: NumberFromPlatform, Reason: fmt.Sprintf("registration request %d (matched %t)", r.ID, matched),
				At: at}); err != nil {
				return err
			}
			r.State, r.Number, r.Matched, r.LastError, r.UpdatedAt = StateDone, number, matched, "", at
			return w.cfg.Store.SavePlatformRequest(ctx, r, w.cfg.Owner)
		})
		if serr == nil {
			result := "registered"
			if matched {
				result = "matched"
			}
			w.results.WithLabelValues(result).Inc()
			return
		}
		var ce *issuance.ConflictError
		if !errors.As(serr, &ce) {
			if errors.Is(serr, issuance.ErrConflict) {
				// The volunteer got a number meanwhile, or our lease ended.
				w.log.Info("platform request not settled", slog.Int64("request", r.ID), slog.String("err", serr.Error()))
				return
			}
			err = serr // storage trouble: try again later
		} else {
			err = &RefusedError{Status: 200, Code: "number_taken",
				Reason: "the platform's number " + number + " is held by another volunteer in volcard"}
		}
	}
	var refused *RefusedError
	if errors.As(err, &refused) {
		r.State, r.LastError = StateFailed, refused.Error()
		w.results.WithLabelValues("failed").Inc()
		w.log.Warn("platform refused a registration", slog.Int64("request", r.ID), slog.String("code", refused.Code))
	} else {
		r.State, r.LastError = StatePending, err.Error()
		r.NextAttemptAt = at.Add(w.backoff(r.Attempts))
		w.results.WithLabelValues("retry").Inc()
	}
	r.UpdatedAt = at
	if serr := w.cfg.Store.SavePlatformRequest(context.WithoutCancel(ctx), r, w.cfg.Owner); serr != nil {
		w.log.Warn("save platform request", slog.Int64("request", r.ID), slog.String("err", serr.Error()))
	}
}

func (w *Worker) finish(ctx context.Context, r *Request, note string) {
	r.State, r.LastError, r.UpdatedAt = StateDone, note, now().UTC()
	if err := w.cfg.Store.SavePlatformRequest(ctx, r, w.cfg.Owner); err != nil {
		w.log.Warn("save platform request", slog.Int64("request", r.ID), slog.String("err", err.Error()))
	}
}

// backoff is the wait after the attempts-th passing failure: RetryBase ×
// 2^(attempts-1), at most RetryMax, with ±20 % jitter.
func (w *Worker) backoff(attempts int) time.Duration {
	d := w.cfg.RetryBase
	for i := 1; i < attempts && d < w.cfg.RetryMax; i++ {
		d *= 2
	}
	d = min(d, w.cfg.RetryMax)
	j := time.Duration(mrand.Int64N(int64(d)/5 + 1))
	return d - d/10 + j
}

package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/volcard/volcard/issuance/feed"
)

// Rows is the delivery queue the Worker needs; issuance/store implements
// it on the database the events are written to.
type Rows interface {
	ClaimWebhookDeliveries(ctx context.Context, c feed.Claim) ([]feed.Job, error)
	FinishWebhookDeliveries(ctx context.Context, owner string, now time.Time, outs []feed.Outcome, p feed.DisablePolicy) error
	ReleaseWebhookDeliveries(ctx context.Context, owner string) error
}

// Opener opens sealed endpoint secrets (*pii.Keys).
type Opener interface {
	Open(purpose string, sealed []byte) (string, error)
}

// Options configure a Worker. Zero fields take the defaults documented on
// each.
type Options struct {
	// Owner names this worker's leases: the serve process's cluster member
	// id (store.Member.ID), so that a killed process's deliveries are
	// taken over at once. Required.
	Owner string
	// Client sends the requests; default a client with Timeout, no proxy,
	// that does not follow redirects (a 3xx is a failure) and whose dialer
	// refuses the addresses Addrs does not permit, after resolution. A
	// Client given here is used as is (the policy is the caller's).
	Client *http.Client
	// Addrs are the internal addresses the default client may reach
	// besides public ones (VOLCARD_WEBHOOK_ALLOW_PRIVATE); default none.
	Addrs feed.AddrPolicy
	// Timeout bounds one attempt; default 10 s.
	Timeout time.Duration
	// Batch is how many deliveries one claim takes; default 100.
	Batch int
	// Concurrency is how many requests one round has in flight; default
	// 32.
	Concurrency int
	// Rounds is how many claim-send-record rounds run at once, so that
	// claiming and recording overlap with sending; default 4. Each claims
	// only the first pending delivery of a subject, so rounds never send
	// one subject's events out of order.
	Rounds int
	// Lease is how long a claim is held; default 1 min (longer than
	// Timeout).
	Lease time.Duration
	// Poll is the wait after a claim found nothing; default 100 ms.
	Poll time.Duration
	// Backoff is the wait before attempt n+1 after attempt n failed;
	// default DefaultBackoff.
	Backoff func(attempt int) time.Duration
	// GiveUpAfter ends a delivery failed when an attempt fails this long
	// after the event; default 72 h (retries last at least a day).
	GiveUpAfter time.Duration
	// Disable is when an endpoint is disabled; default 20 failed attempts
	// in a row spanning 24 h.
	Disable feed.DisablePolicy
	// Registerer receives the metrics; nil registers none.
	Registerer prometheus.Registerer
	// Logger; default slog.Default(). It never logs bodies or secrets.
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// DefaultBackoff is Backoff(10 s, 1 h): 10 s, 20 s, 40 s, … 1 h and then
// hourly, about 80 attempts in 72 h.
func DefaultBackoff(attempt int) time.Duration { return Backoff(10*time.Second, time.Hour)(attempt) }

// Backoff returns base × 2^(attempt−1), at most ceiling, with ±10 % jitter.
func Backoff(base, ceiling time.Duration) func(attempt int) time.Duration {
	return func(attempt int) time.Duration {
		if attempt < 1 {
			attempt = 1
		}
		d := ceiling
		if attempt < 30 {
			d = min(base<<(attempt-1), ceiling)
		}
		return d + time.Duration((rand.Float64()*0.2-0.1)*float64(d))
	}
}

// Worker delivers the queued webhook deliveries.
type Worker struct {
	rows Rows
	keys Opener
	o    Options
	m    *workerMetrics
}

type workerMetrics struct {
	attempts *prometheus.CounterVec
	lag      prometheus.Histogram
	duration prometheus.Histogram
}

// NewWorker returns a Worker over rows; keys opens the endpoints' secrets.
func NewWorker(rows Rows, keys Opener, o Options) (*Worker, error) {
	if rows == nil || keys == nil {
		return nil, errors.New("webhook: nil rows or keys")
	}
	if o.Owner == "" {
		return nil, errors.New("webhook: owner required")
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Client == nil {
		o.Client = guardedClient(o.Timeout, o.Addrs)
	}
	if o.Batch <= 0 {
		o.Batch = 100
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 32
	}
	if o.Rounds <= 0 {
		o.Rounds = 4
	}
	if o.Lease <= 0 {
		o.Lease = time.Minute
	}
	if o.Lease < 2*o.Timeout {
		o.Lease = 2 * o.Timeout
	}
	if o.Poll <= 0 {
		o.Poll = 100 * time.Millisecond
	}
	if o.Backoff == nil {
		o.Backoff = DefaultBackoff
	}
	if o.GiveUpAfter <= 0 {
		o.GiveUpAfter = 72 * time.Hour
	}
	if o.Disable == (feed.DisablePolicy{}) {
		o.Disable = feed.DisablePolicy{Failures: 20, After: 24 * time.Hour}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	w := &Worker{rows: rows, keys: keys, o: o, m: &workerMetrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "volcard_webhook_attempts_total",
			Help: "Webhook delivery attempts by result (delivered, failed: retried later, gave_up: ended failed)."},
			[]string{"result"}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "volcard_webhook_delivery_lag_seconds",
			Help:    "From the change (the event's time) to its successful delivery.",
			Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 600, 3600, 86400}}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "volcard_webhook_attempt_seconds",
			Help: "Duration of one webhook request.", Buckets: prometheus.DefBuckets}),
	}}
	if o.Registerer != nil {
		for _, c := range []prometheus.Collector{w.m.attempts, w.m.lag, w.m.duration} {
			if err := o.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("webhook: register metrics: %w", err)
			}
		}
	}
	return w, nil
}

// Run delivers until ctx ends, then hands its leases back.
func (w *Worker) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range w.o.Rounds {
		wg.Go(func() { w.loop(ctx) })
	}
	wg.Wait()
	if err := w.rows.ReleaseWebhookDeliveries(context.WithoutCancel(ctx), w.o.Owner); err != nil {
		w.o.Logger.Warn("webhook: release leases", slog.String("error", err.Error()))
	}
}

func (w *Worker) loop(ctx context.Context) {
	for ctx.Err() == nil {
		n, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.o.Logger.Warn("webhook: delivery round", slog.String("error", err.Error()))
		}
		if n == 0 || err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(w.o.Poll):
			}
		}
	}
}

// RunOnce claims one batch of due deliveries, sends them and records the
// outcomes. It returns how many it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	jobs, err := w.rows.ClaimWebhookDeliveries(ctx, feed.Claim{Owner: w.o.Owner, Now: w.o.Now(), Lease: w.o.Lease, Limit: w.o.Batch})
	if err != nil || len(jobs) == 0 {
		return 0, err
	}
	outs := make([]feed.Outcome, len(jobs))
	sem := make(chan struct{}, w.o.Concurrency)
	var wg sync.WaitGroup
	for i, j := range jobs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			outs[i] = w.deliver(ctx, j)
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		// Shutting down: the attempts cut short are not the endpoint's
		// failures; Run hands their leases back.
		ok := outs[:0]
		for _, o := range outs {
			if o.OK {
				ok = append(ok, o)
			}
		}
		outs = ok
	}
	if err := w.rows.FinishWebhookDeliveries(context.WithoutCancel(ctx), w.o.Owner, w.o.Now(), outs, w.o.Disable); err != nil {
		return len(jobs), err
	}
	return len(jobs), nil
}

// Body is the request body of an event: the feed's JSON of it.
func Body(e feed.Event) ([]byte, error) { return json.Marshal(e) }

func (w *Worker) deliver(ctx context.Context, j feed.Job) feed.Outcome {
	out := feed.Outcome{DeliveryID: j.DeliveryID, EndpointID: j.EndpointID}
	fail := func(status int, msg string) feed.Outcome {
		out.Status, out.Error = status, msg
		now := w.o.Now()
		if now.Sub(j.Event.At) >= w.o.GiveUpAfter {
			out.GiveUp = true
			w.m.attempts.WithLabelValues("gave_up").Inc()
		} else {
			w.m.attempts.WithLabelValues("failed").Inc()
		}
		out.NextAt = now.Add(w.o.Backoff(j.Attempts))
		return out
	}
	secret, err := w.keys.Open(feed.PurposeSecret, j.SecretSealed)
	if err != nil {
		return fail(0, "cannot open the endpoint's secret (data key changed?)")
	}
	body, err := Body(j.Event)
	if err != nil {
		return fail(0, "cannot encode the event")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.URL, bytes.NewReader(body))
	if err != nil {
		return fail(0, "bad endpoint URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "volcard-webhook/1")
	req.Header.Set(SignatureHeader, Sign(secret, w.o.Now(), body))
	req.Header.Set(EventIDHeader, strconv.FormatInt(j.Event.ID, 10))
	req.Header.Set(EventTypeHeader, j.Event.Type)
	req.Header.Set(DeliveryIDHeader, strconv.FormatInt(j.DeliveryID, 10))
	start := time.Now()
	resp, err := w.o.Client.Do(req)
	w.m.duration.Observe(time.Since(start).Seconds())
	if err != nil {
		// A fixed reason: neither the URL (it may carry a token in its
		// query) nor the dial error (it names the resolved address).
		return fail(0, reason(err))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fail(resp.StatusCode, "HTTP "+strconv.Itoa(resp.StatusCode))
	}
	out.OK, out.Status = true, resp.StatusCode
	w.m.attempts.WithLabelValues("delivered").Inc()
	w.m.lag.Observe(w.o.Now().Sub(j.Event.At).Seconds())
	return out
}

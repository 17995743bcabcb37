package outbox

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Count is the number of outbox rows of one kind in one state.
type Count struct {
	Kind  Kind
	State State
	N     int64
}

// Stats is what the outbox gauges show. Rows done or cancelled are not
// counted.
type Stats struct {
	Rows []Count
	// OldestOpen is the creation time of the oldest row not yet done,
	// failed or cancelled (zero when there is none).
	OldestOpen time.Time
	// ParkedAdvices counts activation advices for cards we do not know yet
	// (issuance.BankAdviceParked); StaleParkedAdvices those of them
	// received before the staleBefore time asked for.
	ParkedAdvices      int64
	StaleParkedAdvices int64
}

// StatsSource counts the outbox rows and parked advices. issuance/store
// implements it cheaply (small partial indexes).
type StatsSource interface {
	// BankOutboxStats counts the open rows and the parked advices;
	// advices parked since before staleBefore count as stale.
	BankOutboxStats(ctx context.Context, staleBefore time.Time) (Stats, error)
}

// MonitorConfig configures a Monitor. Zero values take the defaults given.
type MonitorConfig struct {
	// Stats counts the rows. Required.
	Stats StatsSource
	// Registerer receives the gauges (the registry the API serves on
	// /metrics). Required.
	Registerer prometheus.Registerer
	// Interval is how often the counts are refreshed. Default 15 s.
	Interval time.Duration
	// StaleAfter is how long an advice may stay parked before it counts
	// as stale and is logged. Default 24 h.
	StaleAfter time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Monitor keeps the outbox gauges: a cheap periodic COUNT … GROUP BY, not
// a count per request, so that several serve processes on one database
// all show the same numbers.
//
//	volcard_outbox_rows{kind,state}          rows not done nor cancelled
//	volcard_outbox_failed_rows               rows waiting for an operator
//	volcard_outbox_oldest_open_age_seconds   age of the oldest row not done, failed or cancelled
//	volcard_bank_advices_parked              activation advices for cards we do not know yet
//	volcard_bank_advices_parked_stale        of those, parked longer than StaleAfter
//	volcard_outbox_stats_errors_total        refreshes that failed
type Monitor struct {
	cfg       MonitorConfig
	rows      *prometheus.GaugeVec
	failed    prometheus.Gauge
	oldest    prometheus.Gauge
	parked    prometheus.Gauge
	stale     prometheus.Gauge
	errs      prometheus.Counter
	lastStale int64
	lastLog   time.Time
}

// NewMonitor validates cfg, registers the gauges and returns a Monitor;
// call Run (or Refresh) to fill them.
func NewMonitor(cfg MonitorConfig) (*Monitor, error) {
	if cfg.Stats == nil || cfg.Registerer == nil {
		return nil, fmt.Errorf("stats source and registerer required: %w", ErrInvalidConfig)
	}
	if cfg.Interval == 0 {
		cfg.Interval = 15 * time.Second
	}
	if cfg.StaleAfter == 0 {
		cfg.StaleAfter = 24 * time.Hour
	}
	if cfg.Interval < 0 || cfg.StaleAfter < 0 {
		return nil, fmt.Errorf("negative duration: %w", ErrInvalidConfig)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	m := &Monitor{
		cfg: cfg,
		rows: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "volcard", Subsystem: "outbox", Name: "rows",
			Help: "Bank outbox rows not done nor cancelled, by kind and state (refreshed periodically)."}, []string{"kind", "state"}),
		failed: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "volcard", Subsystem: "outbox", Name: "failed_rows",
			Help: "Bank outbox rows parked as failed, waiting for an operator (volcard outbox list --state failed)."}),
		oldest: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "volcard", Subsystem: "outbox", Name: "oldest_open_age_seconds",
			Help: "Age of the oldest bank outbox row not yet done, failed or cancelled (0 when none)."}),
		parked: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "volcard", Subsystem: "bank", Name: "advices_parked",
			Help: "Activation advices for cards we do not know yet, parked until the bank's approval is recorded."}),
		stale: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "volcard", Subsystem: "bank", Name: "advices_parked_stale",
			Help: "Parked activation advices older than a day (or the configured limit)."}),
		errs: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "volcard", Subsystem: "outbox", Name: "stats_errors_total",
			Help: "Refreshes of the outbox gauges that failed."}),
	}
	for _, c := range []prometheus.Collector{m.rows, m.failed, m.oldest, m.parked, m.stale, m.errs} {
		if err := cfg.Registerer.Register(c); err != nil {
			return nil, fmt.Errorf("outbox: register metrics: %w", err)
		}
	}
	return m, nil
}

var (
	monitoredKinds  = []Kind{KindApply, KindReversal, KindStatusChange, KindHolderUpdate}
	monitoredStates = []State{StatePending, StateInFlight, StateSent,
		StateWaiting, StateFailed}
)

// Refresh counts the rows once and sets the gauges.
func (m *Monitor) Refresh(ctx context.Context) error {
	now := m.cfg.Now()
	st, err := m.cfg.Stats.BankOutboxStats(ctx, now.Add(-m.cfg.StaleAfter))
	if err != nil {
		m.errs.Inc()
		return fmt.Errorf("outbox: refresh metrics: %w", err)
	}
	got := map[[2]string]float64{}
	var failed float64
	for _, r := range st.Rows {
		got[[2]string{string(r.Kind), string(r.State)}] += float64(r.N)
		if r.State == StateFailed {
			failed += float64(r.N)
		}
	}
	for _, k := range monitoredKinds {
		for _, s := range monitoredStates {
			key := [2]string{string(k), string(s)}
			m.rows.WithLabelValues(key[0], key[1]).Set(got[key])
			delete(got, key)
		}
	}
	for key, n := range got { // kinds or states added later
		m.rows.WithLabelValues(key[0], key[1]).Set(n)
	}
	m.failed.Set(failed)
	age := 0.0
	if !st.OldestOpen.IsZero() {
		age = max(0, now.Sub(st.OldestOpen).Seconds())
	}
	m.oldest.Set(age)
	m.parked.Set(float64(st.ParkedAdvices))
	m.stale.Set(float64(st.StaleParkedAdvices))
	if st.StaleParkedAdvices > 0 && (st.StaleParkedAdvices != m.lastStale || now.Sub(m.lastLog) >= time.Hour) {
		m.cfg.Logger.Warn("outbox: activation advices parked for more than a day: the bank reported activating cards we never recorded",
			slog.Int64("advices", st.StaleParkedAdvices), slog.Duration("older_than", m.cfg.StaleAfter))
		m.lastLog = now
	}
	m.lastStale = st.StaleParkedAdvices
	return nil
}

// Run refreshes the gauges every Interval until ctx is done.
func (m *Monitor) Run(ctx context.Context) {
	t := time.NewTicker(m.cfg.Interval)
	defer t.Stop()
	for {
		if err := m.Refresh(ctx); err != nil && ctx.Err() == nil {
			m.cfg.Logger.Warn("outbox: metrics", slog.String("err", err.Error()))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

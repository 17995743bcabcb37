package bankgw

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	connection "github.com/moov-io/iso8583-connection"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the bank link's Prometheus collectors (Config.Registerer).
// A nil *metrics records nothing.
type metrics struct {
	requests  *prometheus.CounterVec
	roundTrip *prometheus.HistogramVec
	timeouts  *prometheus.CounterVec
	repeats   *prometheus.CounterVec
	reversals prometheus.Counter
	inbound   *prometheus.CounterVec
	late      *prometheus.CounterVec
}

// linkCollector reports the connection and sign-on state at scrape time
// from the pool, so that the numbers cannot drift from the truth.
type linkCollector struct {
	client   atomic.Pointer[Client]
	conns    *prometheus.Desc
	signedOn *prometheus.Desc
	lastEcho *prometheus.Desc
}

// Describe implements prometheus.Collector.
func (l *linkCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- l.conns
	ch <- l.signedOn
	ch <- l.lastEcho
}

// Collect implements prometheus.Collector.
func (l *linkCollector) Collect(ch chan<- prometheus.Metric) {
	c := l.client.Load()
	if c == nil {
		return
	}
	online := map[string]bool{}
	up := 0
	for _, conn := range c.pool.Connections() {
		up++
		if conn.Status() == connection.StatusOnline {
			online[conn.Addr()] = true
		}
	}
	ch <- prometheus.MustNewConstMetric(l.conns, prometheus.GaugeValue, float64(up))
	for _, addr := range c.cfg.Addrs {
		v := 0.0
		if online[addr] {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(l.signedOn, prometheus.GaugeValue, v, addr)
	}
	if t := c.lastEcho.Load(); t != 0 {
		ch <- prometheus.MustNewConstMetric(l.lastEcho, prometheus.GaugeValue, float64(t)/1e9)
	}
}

func newMetrics(reg prometheus.Registerer, c *Client) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	const ns, sub = "volcard", "bank"
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "requests_total",
			Help: "Requests sent to the bank by MTI and outcome: the response code (field 39), or timeout, connection_lost, unavailable, error."},
			[]string{"mti", "rc"}),
		roundTrip: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "round_trip_seconds",
			Help:    "Time from sending a request to the bank to its response, by request MTI (answered requests only).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"mti"}),
		timeouts: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "timeouts_total",
			Help: "Requests the bank did not answer in time, by request MTI."}, []string{"mti"}),
		repeats: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "repeats_sent_total",
			Help: "Repeats sent (0301, 0421), by MTI."}, []string{"mti"}),
		reversals: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "reversals_sent_total",
			Help: "Reversals sent (0420; their repeats count as 0421 in volcard_bank_repeats_sent_total)."}),
		inbound: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "advices_total",
			Help: "Advices received from the bank (0220, 0221) by MTI, kind and the response code we answered."},
			[]string{"mti", "kind", "rc"}),
		late: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "late_responses_total",
			Help: "Responses that arrived after their request timed out, and duplicate responses, by MTI."}, []string{"mti"}),
	}
	link := &linkCollector{
		conns: prometheus.NewDesc("volcard_bank_connections_up",
			"Connections to the bank currently established (signed on or not).", nil, nil),
		signedOn: prometheus.NewDesc("volcard_bank_signed_on",
			"1 when the connection to this bank address is signed on (0800/001 answered 00), else 0.", []string{"addr"}, nil),
		lastEcho: prometheus.NewDesc("volcard_bank_last_echo_timestamp_seconds",
			"Unix time of the last echo (0800/301) the bank answered 00; absent before the first.", nil, nil),
	}
	link.client.Store(c)
	for _, col := range []prometheus.Collector{m.requests, m.roundTrip, m.timeouts, m.repeats, m.reversals, m.inbound, m.late, link} {
		if err := reg.Register(col); err != nil {
			return nil, fmt.Errorf("bankgw: register metrics: %w", err)
		}
	}
	return m, nil
}

// sent records one request sent and its outcome.
func (m *metrics) sent(mti string, start time.Time, rc string, err error) {
	if m == nil {
		return
	}
	switch mti {
	case MTIFileUpdateRepeat, MTIReversalRepeat:
		m.repeats.WithLabelValues(mti).Inc()
	case MTIReversalRequest:
		m.reversals.Inc()
	}
	outcome := rc
	switch {
	case err == nil:
		m.roundTrip.WithLabelValues(mti).Observe(time.Since(start).Seconds())
	case errors.Is(err, ErrTimeout):
		outcome = "timeout"
		m.timeouts.WithLabelValues(mti).Inc()
	case errors.Is(err, ErrConnectionLost):
		outcome = "connection_lost"
	default:
		outcome = "error"
	}
	if outcome == "" {
		outcome = "none"
	}
	m.requests.WithLabelValues(mti, outcome).Inc()
}

// unavailable records a request that found no signed-on connection.
func (m *metrics) unavailable(mti string) {
	if m != nil {
		m.requests.WithLabelValues(mti, "unavailable").Inc()
	}
}

func (m *metrics) advice(mti string, kind AdviceKind, rc string) {
	if m != nil {
		if kind == "" {
			kind = "unknown"
		}
		m.inbound.WithLabelValues(mti, string(kind), rc).Inc()
	}
}

func (m *metrics) lateResponse(mti string) {
	if m != nil {
		m.late.WithLabelValues(mti).Inc()
	}
}

package outbox

// Per-bank health: each bank link's connection state (from its
// bankgw.Client) beside the bank's outbox backlog (from storage), for the
// operators' API and /metrics.

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/issuance"
)

// Backlog is the outbox rows of one bank (the bank of each row's
// application) that are not done nor cancelled.
type Backlog struct {
	Bank string
	// Open counts rows still to be sent or answered (pending, in_flight,
	// sent, waiting); Failed the rows waiting for an operator.
	Open   int64
	Failed int64
	// OldestOpen is the creation time of the oldest open row (zero when
	// there is none).
	OldestOpen time.Time
}

// BacklogSource counts the outbox rows per bank. issuance/store implements
// it with one grouped query over the open-rows index.
type BacklogSource interface {
	BankBacklog(ctx context.Context) ([]Backlog, error)
}

// LinkHealth is what Banks needs from a bank link (a *bankgw.Client).
type LinkHealth interface {
	Health() bankgw.Health
}

var _ LinkHealth = (*bankgw.Client)(nil)

// BankStatus is one bank's link and backlog.
type BankStatus struct {
	Bank string
	// Linked is false for a bank that has rows but no link in this
	// process (its requests wait until a process with its link runs).
	Linked bool
	bankgw.Health
	Backlog
}

// Banks reports per-bank health. Build it with NewBanks; it is safe for
// concurrent use.
type Banks struct {
	links map[string]LinkHealth
	src   BacklogSource
	log   *slog.Logger

	queue, failed, oldest, signedOn, lastEcho *prometheus.Desc
}

// NewBanks returns the health of the given links (by bank code) and of the
// backlog that src counts. log defaults to slog.Default().
func NewBanks(links map[string]LinkHealth, src BacklogSource, log *slog.Logger) (*Banks, error) {
	if src == nil {
		return nil, fmt.Errorf("backlog source required: %w", ErrInvalidConfig)
	}
	if log == nil {
		log = slog.Default()
	}
	l := []string{"bank"}
	return &Banks{links: links, src: src, log: log,
		queue: prometheus.NewDesc("volcard_bank_queue_depth",
			"Outbox rows of this bank still to be sent or answered (pending, in_flight, sent, waiting).", l, nil),
		failed: prometheus.NewDesc("volcard_bank_failed_requests",
			"Outbox rows of this bank that failed and wait for an operator (volcard outbox list --bank B --state failed).", l, nil),
		oldest: prometheus.NewDesc("volcard_bank_oldest_open_age_seconds",
			"Age of this bank's oldest open outbox row; 0 when there is none.", l, nil),
		signedOn: prometheus.NewDesc("volcard_bank_link_signed_on",
			"Connections of this bank's link that are signed on (0 while the bank is down).", l, nil),
		lastEcho: prometheus.NewDesc("volcard_bank_link_last_echo_timestamp_seconds",
			"Unix time of the last echo this bank answered 00; absent before the first.", l, nil),
	}, nil
}

// Status returns every linked bank and every bank with open or failed
// rows, by bank code, for a province admin (or the system).
func (b *Banks) Status(ctx context.Context, a issuance.Actor) ([]BankStatus, error) {
	if err := issuance.AuthorizeBankOutbox(a); err != nil {
		return nil, err
	}
	return b.status(ctx)
}

func (b *Banks) status(ctx context.Context) ([]BankStatus, error) {
	backlog, err := b.src.BankBacklog(ctx)
	if err != nil {
		return nil, fmt.Errorf("bank backlog: %w", err)
	}
	byBank := map[string]*BankStatus{}
	for code, l := range b.links {
		byBank[code] = &BankStatus{Bank: code, Linked: true, Health: l.Health(), Backlog: Backlog{Bank: code}}
	}
	for _, bl := range backlog {
		s, ok := byBank[bl.Bank]
		if !ok {
			s = &BankStatus{Bank: bl.Bank}
			byBank[bl.Bank] = s
		}
		s.Backlog = bl
	}
	out := make([]BankStatus, 0, len(byBank))
	for _, s := range byBank {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Bank < out[j].Bank })
	return out, nil
}

// Describe implements prometheus.Collector.
func (b *Banks) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{b.queue, b.failed, b.oldest, b.signedOn, b.lastEcho} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: the counts are read at scrape
// time (one grouped query), so every serve process on a database shows the
// same numbers.
func (b *Banks) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := b.status(ctx)
	if err != nil {
		b.log.Warn("outbox: per-bank metrics", slog.String("err", err.Error()))
		return
	}
	now := time.Now()
	for _, s := range st {
		ch <- prometheus.MustNewConstMetric(b.queue, prometheus.GaugeValue, float64(s.Open), s.Bank)
		ch <- prometheus.MustNewConstMetric(b.failed, prometheus.GaugeValue, float64(s.Failed), s.Bank)
		age := 0.0
		if !s.OldestOpen.IsZero() {
			age = max(0, now.Sub(s.OldestOpen).Seconds())
		}
		ch <- prometheus.MustNewConstMetric(b.oldest, prometheus.GaugeValue, age, s.Bank)
		if s.Linked {
			ch <- prometheus.MustNewConstMetric(b.signedOn, prometheus.GaugeValue, float64(s.SignedOn), s.Bank)
			if !s.LastEcho.IsZero() {
				ch <- prometheus.MustNewConstMetric(b.lastEcho, prometheus.GaugeValue, float64(s.LastEcho.UnixNano())/1e9, s.Bank)
			}
		}
	}
}

// Codes returns the bank codes of the links, sorted.
func (b *Banks) Codes() []string {
	out := make([]string, 0, len(b.links))
	for c := range b.links {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

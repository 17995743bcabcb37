package outbox_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/volcard/volcard/pii"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/bankgw/banksim"
	"github.com/volcard/volcard/bankgw/outbox"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// dump returns every row of every table as text, for grepping.
func dump(t testing.TB, st *store.Store) string {
	t.Helper()
	ctx := context.Background()
	db := st.SQLDB()
	q := `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`
	if st.Dialect() == store.SQLite {
		q = `SELECT name FROM sqlite_master WHERE type = 'table'`
	}
	rows, err := db.QueryContext(ctx, q)
	require.NoError(t, err)
	var tables []string
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		tables = append(tables, n)
	}
	require.NoError(t, rows.Close())
	var b strings.Builder
	for _, tbl := range tables {
		r, err := db.QueryContext(ctx, fmt.Sprintf(`SELECT * FROM "%s"`, tbl))
		require.NoError(t, err)
		cols, err := r.Columns()
		require.NoError(t, err)
		for r.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(t, r.Scan(ptrs...))
			fmt.Fprintf(&b, "%s:", tbl)
			for _, v := range vals {
				switch x := v.(type) {
				case []byte:
					fmt.Fprintf(&b, " %s|%x", x, x)
				default:
					fmt.Fprintf(&b, " %v", x)
				}
			}
			b.WriteByte('\n')
		}
		require.NoError(t, r.Close())
	}
	return b.String()
}

func TestApproveToBankApproved(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st, envOpts{})
		var apps []issuance.Application
		var ids []string
		for range 3 {
			a, id := e.approved(ctx)
			apps = append(apps, a)
			ids = append(ids, id)
			require.Equal(t, issuance.StatusApproved, a.Status)
		}
		stop := run(e.worker(e.client(5*time.Second), nil))
		var appIDs []int64
		for _, a := range apps {
			appIDs = append(appIDs, a.ID)
		}
		for id, s := range e.waitResolved(ctx, appIDs...) {
			require.Equal(t, issuance.StatusBankApproved, s, "application %d", id)
		}
		require.NoError(t, stop())

		ledger := e.sim.Ledger()
		for _, a := range apps {
			e.checkCard(ctx, ledger, a)
			ev, err := e.svc.Events(ctx, issuance.SystemActor(), a.ID)
			require.NoError(t, err)
			var path []issuance.Status
			for _, x := range ev {
				path = append(path, x.To)
			}
			require.Equal(t, []issuance.Status{issuance.StatusSubmitted, issuance.StatusApproved,
				issuance.StatusBankPending, issuance.StatusBankApproved}, path)
			reqs, err := st.BankRequests(ctx, a.ID)
			require.NoError(t, err)
			require.Len(t, reqs, 1)
			require.Equal(t, outbox.StateDone, reqs[0].State)
			require.Equal(t, "00", reqs[0].ResultCode)
			require.NotEmpty(t, reqs[0].Trace.STAN)
		}
		stats := e.sim.Stats()
		require.Equal(t, 3, stats[bankgw.MTIFileUpdateRequest])
		require.Zero(t, stats[bankgw.MTIFileUpdateRepeat])

		// No clear PAN (nor ID number) anywhere in the database.
		text := dump(t, st)
		require.Contains(t, text, "bank_requests:")
		for _, c := range ledger.Cards {
			require.False(t, strings.Contains(text, c.PAN), "clear PAN %s in the database", pii.MaskPAN(c.PAN))
			require.False(t, strings.Contains(text, hex.EncodeToString([]byte(c.PAN))), "PAN bytes in the database")
		}
		for _, id := range ids {
			require.False(t, strings.Contains(text, id), "clear ID number in the database")
		}
	})
}

func TestDeclined(t *testing.T) {
	ctx := context.Background()
	st := storetest.Postgres(t)
	denied := residentID(5000)
	e := newEnv(t, st, envOpts{deny: []string{denied}})
	bad := e.approvedFor(ctx, denied)
	good, _ := e.approved(ctx)
	stop := run(e.worker(e.client(5*time.Second), nil))
	got := e.waitResolved(ctx, bad.ID, good.ID)
	require.NoError(t, stop())
	require.Equal(t, issuance.StatusBankDeclined, got[bad.ID])
	require.Equal(t, issuance.StatusBankApproved, got[good.ID])
	app, err := e.svc.GetApplication(ctx, issuance.SystemActor(), bad.ID)
	require.NoError(t, err)
	require.Contains(t, app.Reason, "62")
	require.Contains(t, app.Reason, "申请人在本行限制名单中", "the bank's own text (RT)")
	_, err = e.svc.CardOf(ctx, bad.ID)
	require.ErrorIs(t, err, issuance.ErrNotFound)
	reqs, err := st.BankRequests(ctx, bad.ID)
	require.NoError(t, err)
	require.Equal(t, outbox.StateDone, reqs[0].State)
	require.Equal(t, bankgw.CodeRestricted, reqs[0].ResultCode)
	require.Empty(t, e.sim.Ledger().CardsFor(bad.Number))
}

// TestLateDecline: the decline comes after the request timed out; the late
// 0310 resolves the row and records the bank's text, as an answer in time.
func TestLateDecline(t *testing.T) {
	ctx := context.Background()
	st := storetest.Postgres(t)
	denied := residentID(5001)
	e := newEnv(t, st, envOpts{deny: []string{denied}})
	c := e.client(300 * time.Millisecond)
	bad := e.approvedFor(ctx, denied)
	e.sim.SetFaults(banksim.Faults{LateAnswer: 600 * time.Millisecond, Times: 1})
	stop := run(e.worker(c, func(cfg *outbox.Config) {
		cfg.Repeats, cfg.RetryBase, cfg.RetryMax = 5, 2*time.Second, 5*time.Second
	}))
	got := e.waitResolved(ctx, bad.ID)
	require.NoError(t, stop())
	require.Equal(t, issuance.StatusBankDeclined, got[bad.ID])
	require.Zero(t, e.sim.Stats()[bankgw.MTIFileUpdateRepeat], "resolved by the late answer, not by a repeat")
	app, err := e.svc.GetApplication(ctx, issuance.SystemActor(), bad.ID)
	require.NoError(t, err)
	require.Contains(t, app.Reason, "申请人在本行限制名单中")
}

func TestBankDownAtStart(t *testing.T) {
	ctx := context.Background()
	st := storetest.Postgres(t)
	e := newEnv(t, st, envOpts{noSim: true})
	c := e.client(2 * time.Second)
	stop := run(e.worker(c, nil))
	var ids []int64
	var apps []issuance.Application
	for range 3 {
		a, _ := e.approved(ctx)
		ids, apps = append(ids, a.ID), append(apps, a)
	}
	// Queued while the bank is down: moved to bank_pending, rows retried.
	require.Eventually(t, func() bool {
		for _, id := range ids {
			reqs, err := st.BankRequests(ctx, id)
			if err != nil || len(reqs) != 1 || reqs[0].Attempts < 2 || !strings.Contains(reqs[0].LastError, "no bank connection") {
				return false
			}
		}
		return true
	}, 30*time.Second, 10*time.Millisecond)
	for _, id := range ids {
		require.Equal(t, issuance.StatusBankPending, e.status(ctx, id))
	}
	e.startSim()
	for _, s := range e.waitResolved(ctx, ids...) {
		require.Equal(t, issuance.StatusBankApproved, s)
	}
	require.NoError(t, stop())
	ledger := e.sim.Ledger()
	for _, a := range apps {
		e.checkCard(ctx, ledger, a)
	}
	// Never sent before the bank came up: one 0300 each, no repeats.
	require.Equal(t, 3, e.sim.Stats()[bankgw.MTIFileUpdateRequest])
	require.Zero(t, e.sim.Stats()[bankgw.MTIFileUpdateRepeat])
}

func TestNoAnswerReversedAndReapplied(t *testing.T) {
	ctx := context.Background()
	st := storetest.Postgres(t)
	e := newEnv(t, st, envOpts{})
	c := e.client(300 * time.Millisecond)
	// 0300, two 0301 repeats and the 0420 go unanswered; the 0421 and
	// the new 0300 are answered.
	e.sim.SetFaults(banksim.Faults{NoAnswer: true, Times: 4})
	a, _ := e.approved(ctx)
	stop := run(e.worker(c, func(cfg *outbox.Config) { cfg.Repeats = 2 }))
	require.Equal(t, issuance.StatusBankApproved, e.waitResolved(ctx, a.ID)[a.ID])
	require.NoError(t, stop())

	stats := e.sim.Stats()
	require.Equal(t, 2, stats[bankgw.MTIFileUpdateRequest], "original and re-apply")
	require.Equal(t, 2, stats[bankgw.MTIFileUpdateRepeat])
	require.Equal(t, 1, stats[bankgw.MTIReversalRequest])
	require.Equal(t, 1, stats[bankgw.MTIReversalRepeat])
	ledger := e.sim.Ledger()
	require.Len(t, ledger.Reversals, 1)
	e.checkCard(ctx, ledger, a) // exactly one card, reinstated (state I)

	reqs, err := st.BankRequests(ctx, a.ID)
	require.NoError(t, err)
	require.Len(t, reqs, 2)
	apply, rev := reqs[0], reqs[1]
	require.Equal(t, outbox.KindApply, apply.Kind)
	require.Equal(t, outbox.StateDone, apply.State)
	require.Equal(t, outbox.KindReversal, rev.Kind)
	require.Equal(t, outbox.StateDone, rev.State)
	require.Equal(t, apply.ID, rev.ParentID)
	require.NotEqual(t, rev.Trace.STAN, apply.Trace.STAN)
}

func TestLateAndDuplicateAnswers(t *testing.T) {
	ctx := context.Background()
	st := storetest.Postgres(t)
	e := newEnv(t, st, envOpts{})
	c := e.client(300 * time.Millisecond)
	a, _ := e.approved(ctx)
	b, _ := e.approved(ctx)
	// The first request's answer comes late (after the 300 ms timeout),
	// twice; the worker would repeat only after 2 s, so the late answer is
	// what resolves the row, and its duplicate finds it done.
	e.sim.SetFaults(banksim.Faults{LateAnswer: 600 * time.Millisecond, Duplicate: true, Times: 1})
	stop := run(e.worker(c, func(cfg *outbox.Config) {
		cfg.Repeats, cfg.RetryBase, cfg.RetryMax = 5, 2*time.Second, 5*time.Second
	}))
	got := e.waitResolved(ctx, a.ID, b.ID)
	require.NoError(t, stop())
	require.Zero(t, e.sim.Stats()[bankgw.MTIFileUpdateRepeat], "resolved by the late answer, not by a repeat")
	require.Equal(t, issuance.StatusBankApproved, got[a.ID])
	require.Equal(t, issuance.StatusBankApproved, got[b.ID])
	ledger := e.sim.Ledger()
	e.checkCard(ctx, ledger, a)
	e.checkCard(ctx, ledger, b)
	require.Zero(t, e.sim.Stats()[bankgw.MTIReversalRequest])
}

func TestCrashAndRestart(t *testing.T) {
	ctx := context.Background()
	st := storetest.Postgres(t)
	e := newEnv(t, st, envOpts{})
	// Timeouts generous enough not to fire on a loaded machine except
	// where a fault makes them.
	c := e.client(time.Second)
	rng := rand.New(rand.NewPCG(4, 2026))
	var mu sync.Mutex
	random := func(n int) int {
		mu.Lock()
		defer mu.Unlock()
		return rng.IntN(n)
	}
	var apps []issuance.Application
	for round := range 50 {
		for range 2 {
			a, _ := e.approved(ctx)
			apps = append(apps, a)
		}
		switch random(6) {
		case 0:
			e.sim.SetFaults(banksim.Faults{NoAnswer: true, Times: 1})
		case 1:
			e.sim.SetFaults(banksim.Faults{Duplicate: true, Times: 2})
		case 2:
			e.sim.SetFaults(banksim.Faults{Drop: true, Times: 1})
		default:
			e.sim.SetFaults(banksim.Faults{})
		}
		crashAt := []outbox.Point{outbox.PointClaimed, outbox.PointTraceSaved, outbox.PointSent}[random(3)]
		crash := random(2) == 0
		w := e.worker(c, func(cfg *outbox.Config) {
			cfg.Owner = fmt.Sprintf("round-%d", round)
			cfg.Lease = 1500 * time.Millisecond
			cfg.Hook = func(_ context.Context, p outbox.Point, _ outbox.Request) error {
				if crash && p == crashAt && random(2) == 0 {
					return outbox.ErrCrash
				}
				return nil
			}
		})
		rctx, cancel := context.WithTimeout(ctx, time.Duration(random(80))*time.Millisecond)
		err := w.Run(rctx)
		cancel()
		if err != nil {
			require.ErrorIs(t, err, outbox.ErrCrash)
		}
	}
	e.sim.SetFaults(banksim.Faults{})
	stop := run(e.worker(c, func(cfg *outbox.Config) { cfg.Owner = "final"; cfg.Lease = 1500 * time.Millisecond }))
	var ids []int64
	for _, a := range apps {
		ids = append(ids, a.ID)
	}
	got := e.waitResolved(ctx, ids...)
	require.NoError(t, stop())

	ledger := e.sim.Ledger()
	require.Len(t, ledger.Cards, len(apps), "one card per application at the bank")
	for _, a := range apps {
		require.Equal(t, issuance.StatusBankApproved, got[a.ID])
		e.checkCard(ctx, ledger, a)
		require.Equal(t, 1, countEvents(t, e, a.ID, issuance.StatusBankApproved))
	}
	counts, err := st.CountBankRequests(ctx)
	require.NoError(t, err)
	for state, n := range counts {
		if state != outbox.StateDone {
			require.Zero(t, n, "rows left in state %s", state)
		}
	}
}

func countEvents(t *testing.T, e *env, id int64, to issuance.Status) int {
	t.Helper()
	ev, err := e.svc.Events(context.Background(), issuance.SystemActor(), id)
	require.NoError(t, err)
	n := 0
	for _, x := range ev {
		if x.To == to {
			n++
		}
	}
	return n
}

func TestTwoWorkersNoDoubleSend(t *testing.T) {
	ctx := context.Background()
	st := storetest.Postgres(t)
	e := newEnv(t, st, envOpts{simLatency: 2 * time.Millisecond})
	var apps []issuance.Application
	var ids []int64
	for range 40 {
		a, _ := e.approved(ctx)
		apps, ids = append(apps, a), append(ids, a.ID)
	}
	// Two gateways (two connections, one STAN counter in the database)
	// and two workers, as two serve processes would run.
	w1 := e.worker(e.client(5*time.Second), func(cfg *outbox.Config) { cfg.Owner = "serve-1"; cfg.Batch = 4 })
	w2 := e.worker(e.client(5*time.Second), func(cfg *outbox.Config) { cfg.Owner = "serve-2"; cfg.Batch = 4 })
	stop1, stop2 := run(w1), run(w2)
	got := e.waitResolved(ctx, ids...)
	require.NoError(t, stop1())
	require.NoError(t, stop2())
	stats := e.sim.Stats()
	require.Equal(t, len(apps), stats[bankgw.MTIFileUpdateRequest], "one 0300 per application")
	require.Zero(t, stats[bankgw.MTIFileUpdateRepeat])
	ledger := e.sim.Ledger()
	for _, a := range apps {
		require.Equal(t, issuance.StatusBankApproved, got[a.ID])
		require.Equal(t, 1, ledger.Applications[a.Number].Adds)
		e.checkCard(ctx, ledger, a)
	}
}

func TestAdvices(t *testing.T) {
	ctx := context.Background()
	st := storetest.Postgres(t)
	e := newEnv(t, st, envOpts{})
	c := e.client(5 * time.Second)
	a, _ := e.approved(ctx)
	b, _ := e.approved(ctx)
	stop := run(e.worker(c, nil))
	e.waitResolved(ctx, a.ID, b.ID)
	require.NoError(t, stop())
	sys := issuance.SystemActor()
	ledger := e.sim.Ledger()
	panA, panB := ledger.CardsFor(a.Number)[0].PAN, ledger.CardsFor(b.Number)[0].PAN

	// a is issued, then activated by the holder.
	for _, to := range []issuance.Status{issuance.StatusPersonalized, issuance.StatusIssued} {
		_, err := e.svc.Transition(ctx, sys, a.ID, to, "")
		require.NoError(t, err)
	}
	rc, tr, err := e.sim.PushAdvice(ctx, banksim.AdviceRequest{Kind: bankgw.AdviceActivation, PAN: panA})
	require.NoError(t, err)
	require.Equal(t, "00", rc)
	require.Equal(t, issuance.StatusActivated, e.status(ctx, a.ID))
	rc, _, err = e.sim.PushAdvice(ctx, banksim.AdviceRequest{Kind: bankgw.AdviceActivation, PAN: panA, Repeat: true, Trace: tr})
	require.NoError(t, err)
	require.Equal(t, "00", rc, "a repeated activation is acknowledged again")
	require.Equal(t, 1, countEvents(t, e, a.ID, issuance.StatusActivated))

	// b's holder activates before the card is handed out: b moves on to
	// activated when it becomes issued.
	rc, _, err = e.sim.PushAdvice(ctx, banksim.AdviceRequest{Kind: bankgw.AdviceActivation, PAN: panB})
	require.NoError(t, err)
	require.Equal(t, "00", rc)
	require.Equal(t, issuance.StatusBankApproved, e.status(ctx, b.ID))
	for _, to := range []issuance.Status{issuance.StatusPersonalized, issuance.StatusIssued} {
		_, err := e.svc.Transition(ctx, sys, b.ID, to, "")
		require.NoError(t, err)
	}
	require.Equal(t, issuance.StatusActivated, e.status(ctx, b.ID))

	// A spending advice pushed twice (0220 then 0221) is recorded once.
	rc, tr, err = e.sim.PushAdvice(ctx, banksim.AdviceRequest{Kind: bankgw.AdviceSpending, PAN: panA, Amount: 12345})
	require.NoError(t, err)
	require.Equal(t, "00", rc)
	rc, _, err = e.sim.PushAdvice(ctx, banksim.AdviceRequest{Kind: bankgw.AdviceSpending, PAN: panA, Amount: 12345, Repeat: true, Trace: tr})
	require.NoError(t, err)
	require.Equal(t, "00", rc)
	card, err := e.svc.CardOf(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, issuance.BankCardActive, card.State)
	sp, err := st.Spending(ctx, card.ID)
	require.NoError(t, err)
	require.Len(t, sp, 1)
	require.Equal(t, int64(12345), sp[0].Amount)
	require.Equal(t, tr.RRN, sp[0].RRN)
	require.Equal(t, a.OrgPath, sp[0].OrgPath)
	require.False(t, strings.Contains(dump(t, st), panA), "clear PAN in the database")
}

// TestShutdownReleasesLeases stops a worker while it holds rows: they are
// handed back at once (no waiting for the lease), and another worker —
// another serve process — finishes them.
func TestShutdownReleasesLeases(t *testing.T) {
	ctx := context.Background()
	st := storetest.Postgres(t)
	e := newEnv(t, st, envOpts{})
	c := e.client(5 * time.Second)
	var ids []int64
	for range 4 {
		a, _ := e.approved(ctx)
		ids = append(ids, a.ID)
	}
	held := make(chan struct{}, 16)
	w1 := e.worker(c, func(cfg *outbox.Config) {
		cfg.Owner, cfg.Lease = "stopping", time.Hour
		cfg.Hook = func(ctx context.Context, p outbox.Point, _ outbox.Request) error {
			if p == outbox.PointTraceSaved {
				held <- struct{}{}
				<-ctx.Done() // shutdown arrives while the request is about to go out
				return ctx.Err()
			}
			return nil
		}
	})
	stop1 := run(w1)
	<-held
	require.NoError(t, stop1())
	counts, err := st.CountBankRequests(ctx)
	require.NoError(t, err)
	require.Zero(t, counts[outbox.StateInFlight], "no row left leased")
	require.Positive(t, counts[outbox.StateSent], "rows whose trace was stored come back as sent (repeat next)")

	stop2 := run(e.worker(c, func(cfg *outbox.Config) { cfg.Owner, cfg.Lease = "other", time.Hour }))
	for _, s := range e.waitResolved(ctx, ids...) {
		require.Equal(t, issuance.StatusBankApproved, s)
	}
	require.NoError(t, stop2())
	ledger := e.sim.Ledger()
	require.Len(t, ledger.Cards, len(ids))
}

// TestCardOutsideBINRefused: a bank that answers with a PAN outside the
// product's BIN (the simulator issuing under 622848 for a 621660 product)
// gets no card stored: the row ends failed with the reason (last four
// only), the application stays bank_pending, and the failed-rows gauge
// counts it (issue 14, finding 5).
func TestCardOutsideBINRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st, envOpts{simBIN: "622848"})
		a, _ := e.approved(ctx)
		stop := run(e.worker(e.client(5*time.Second), nil))
		var row outbox.Request
		require.Eventually(t, func() bool {
			reqs, err := st.BankRequests(ctx, a.ID)
			require.NoError(t, err)
			if len(reqs) == 1 {
				row = reqs[0]
			}
			return row.State == outbox.StateFailed
		}, 30*time.Second, 20*time.Millisecond)
		require.NoError(t, stop())

		require.Equal(t, "00", row.ResultCode)
		require.Contains(t, row.LastError, "BIN 621660")
		cards := e.sim.Ledger().CardsFor(a.Number)
		require.Len(t, cards, 1)
		require.NotContains(t, row.LastError, cards[0].PAN)
		require.Contains(t, row.LastError, cards[0].PAN[len(cards[0].PAN)-4:])
		require.Equal(t, issuance.StatusBankPending, e.status(ctx, a.ID))
		_, err := e.svc.CardOf(ctx, a.ID)
		require.ErrorIs(t, err, issuance.ErrNotFound, "nothing stored")

		reg := prometheus.NewRegistry()
		m, err := outbox.NewMonitor(outbox.MonitorConfig{Stats: st, Registerer: reg, Logger: quiet})
		require.NoError(t, err)
		require.NoError(t, m.Refresh(ctx))
		require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(
			"# HELP volcard_outbox_failed_rows Bank outbox rows parked as failed, waiting for an operator (volcard outbox list --state failed).\n"+
				"# TYPE volcard_outbox_failed_rows gauge\nvolcard_outbox_failed_rows 1\n"), "volcard_outbox_failed_rows"))
	})
}

// TestDeadMemberLeasesReclaimed: a serve process that joined the cluster
// (store.Join) and dies with rows leased for an hour (kill -9: ErrCrash
// releases nothing) loses them the moment its membership connection ends;
// while it lives, another process leaves them alone (issue 20).
func TestDeadMemberLeasesReclaimed(t *testing.T) {
	ctx := context.Background()
	st := storetest.Postgres(t)
	e := newEnv(t, st, envOpts{})
	c := e.client(5 * time.Second)
	var ids []int64
	for range 4 {
		a, _ := e.approved(ctx)
		ids = append(ids, a.ID)
	}
	m1, err := st.Join(ctx, "", nil)
	require.NoError(t, err)
	m2, err := st.Join(ctx, "", nil)
	require.NoError(t, err)
	defer m2.Close()

	var once sync.Once
	w1 := e.worker(c, func(cfg *outbox.Config) {
		cfg.Owner, cfg.Lease, cfg.Workers = m1.ID(), time.Hour, 1
		cfg.Hook = func(_ context.Context, p outbox.Point, _ outbox.Request) error {
			if p == outbox.PointSent {
				var crash error
				once.Do(func() { crash = outbox.ErrCrash })
				return crash
			}
			return nil
		}
	})
	require.ErrorIs(t, w1.Run(ctx), outbox.ErrCrash)
	counts, err := st.CountBankRequests(ctx)
	require.NoError(t, err)
	leased := counts[outbox.StateInFlight]
	require.Positive(t, leased, "the crashed worker left rows leased")

	other := func(owner string) *outbox.Worker {
		return e.worker(c, func(cfg *outbox.Config) {
			cfg.Owner, cfg.Lease, cfg.PollInterval = owner, time.Hour, 20*time.Millisecond
		})
	}
	// While the first member is connected, its leases hold.
	rctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	require.NoError(t, other(m2.ID()).Run(rctx))
	cancel()
	counts, err = st.CountBankRequests(ctx)
	require.NoError(t, err)
	require.Equal(t, leased, counts[outbox.StateInFlight], "a live member's leases are not taken")

	require.NoError(t, m1.Close()) // the process dies: its connection ends
	stop := run(other(m2.ID()))
	for _, s := range e.waitResolved(ctx, ids...) {
		require.Equal(t, issuance.StatusBankApproved, s)
	}
	require.NoError(t, stop())
	ledger := e.sim.Ledger()
	require.Len(t, ledger.Cards, len(ids), "one card per application: the taken-over rows were repeated, not added twice")
}

// TestHeldRequestsResumeAtSignOn: requests held while their bank was down
// wait out an hour's back-off, unless the link's sign-on resumes them
// (serve wires bankgw.Config.OnSignOn to Worker.Resume): then they go out
// as soon as the bank is back (issue 16).
func TestHeldRequestsResumeAtSignOn(t *testing.T) {
	ctx := context.Background()
	st := storetest.Postgres(t)
	e := newEnv(t, st, envOpts{noSim: true})
	var w *outbox.Worker
	var mu sync.Mutex
	c := e.client(2*time.Second, func(cfg *bankgw.Config) {
		cfg.OnSignOn = func() {
			mu.Lock()
			defer mu.Unlock()
			if w != nil {
				w.Resume(ctx)
			}
		}
	})
	mu.Lock()
	w = e.worker(c, func(cfg *outbox.Config) {
		cfg.Banks, cfg.RetryBase, cfg.RetryMax = []string{"BOC"}, time.Hour, time.Hour
	})
	mu.Unlock()
	stop := run(w)
	var ids []int64
	for range 2 {
		a, _ := e.approved(ctx)
		ids = append(ids, a.ID)
	}
	require.Eventually(t, func() bool {
		for _, id := range ids {
			reqs, err := st.BankRequests(ctx, id)
			if err != nil || len(reqs) != 1 || reqs[0].Attempts < 1 || reqs[0].NextAttemptAt.Before(time.Now().Add(10*time.Minute)) {
				return false
			}
		}
		return true
	}, 30*time.Second, 10*time.Millisecond, "held with a back-off of about an hour")
	e.startSim()
	for _, s := range e.waitResolved(ctx, ids...) {
		require.Equal(t, issuance.StatusBankApproved, s)
	}
	require.NoError(t, stop())
}

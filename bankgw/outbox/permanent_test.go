package outbox_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/bankgw/banksim"
	"github.com/volcard/volcard/bankgw/outbox"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// TestPermanentConflictEndsFailed replays issue 16's finding: a bank
// simulator restarted without its PAN counter issues the next application
// the PAN of an existing card. Recording it is a unique conflict
// (duplicate card_pan) that repeats on every try, so after
// Config.PermanentTries tries the row ends failed with the reason, an
// event on the application, and the failed-rows gauge counts it; it is not
// retried for ever.
func TestPermanentConflictEndsFailed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st, envOpts{})
		first, _ := e.approved(ctx)
		stop := run(e.worker(e.client(5*time.Second), func(c *outbox.Config) { c.PermanentTries = 3 }))
		require.Equal(t, issuance.StatusBankApproved, e.waitResolved(ctx, first.ID)[first.ID])

		// The bank restarts with a fresh counter on the same address.
		e.sim.Close()
		sim2, err := banksim.New(banksim.Config{BIN: "621660", Logger: quiet})
		require.NoError(t, err)
		require.NoError(t, sim2.Start(e.simAddr))
		t.Cleanup(sim2.Close)

		second, _ := e.approved(ctx)
		var row outbox.Request
		require.Eventually(t, func() bool {
			reqs, err := st.BankRequests(ctx, second.ID)
			require.NoError(t, err)
			if len(reqs) == 1 {
				row = reqs[0]
			}
			return row.State == outbox.StateFailed
		}, 30*time.Second, 20*time.Millisecond, "the conflicting row never failed")
		require.NoError(t, stop())

		require.Equal(t, "00", row.ResultCode)
		require.Contains(t, row.LastError, "duplicate card_pan")
		require.Equal(t, 3, row.PermanentErrors, "failed on the PermanentTries-th clashing answer, not before, not after")
		require.GreaterOrEqual(t, row.Attempts, 3, "tries that found the restarting bank down do not count")
		require.Equal(t, sim2.Ledger().CardsFor(second.Number)[0].PAN, e.sim.Ledger().CardsFor(first.Number)[0].PAN,
			"the restarted bank did issue the first card's PAN again")
		require.Equal(t, issuance.StatusBankPending, e.status(ctx, second.ID))

		ev, err := e.svc.Events(ctx, issuance.SystemActor(), second.ID)
		require.NoError(t, err)
		last := ev[len(ev)-1]
		require.Equal(t, issuance.StatusBankPending, last.From)
		require.Equal(t, issuance.StatusBankPending, last.To)
		require.Contains(t, last.Reason, "bank request failed")
		require.Contains(t, last.Reason, "duplicate card_pan")

		reg := prometheus.NewRegistry()
		m, err := outbox.NewMonitor(outbox.MonitorConfig{Stats: st, Registerer: reg, Logger: quiet})
		require.NoError(t, err)
		require.NoError(t, m.Refresh(ctx))
		require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(
			"# HELP volcard_outbox_failed_rows Bank outbox rows parked as failed, waiting for an operator (volcard outbox list --state failed).\n"+
				"# TYPE volcard_outbox_failed_rows gauge\nvolcard_outbox_failed_rows 1\n"), "volcard_outbox_failed_rows"))
	})
}

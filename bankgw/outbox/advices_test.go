package outbox_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/bankgw/banksim"
	"github.com/volcard/volcard/bankgw/outbox"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/pii"
)

// TestActivationBeforeApproval: the holder activates the card at the bank
// while the bank's 0310 with the card has not reached us. The 0220 is
// parked and acknowledged 00 (not 96 forever), its 0221 acknowledged once
// more without a second row, and the advice is applied in the transaction
// that records the card; the application is activated once it is issued.
func TestActivationBeforeApproval(t *testing.T) {
	ctx := context.Background()
	st := storetest.Postgres(t)
	e := newEnv(t, st, envOpts{})
	c := e.client(300 * time.Millisecond)
	// The bank issues the card but its answer is lost; the repeat is
	// scheduled far away, so nothing resolves the row by itself.
	e.sim.SetFaults(banksim.Faults{NoAnswer: true, Times: 1})
	a, _ := e.approved(ctx)
	stop := run(e.worker(c, func(cfg *outbox.Config) { cfg.RetryBase, cfg.RetryMax, cfg.Repeats = time.Hour, 2*time.Hour, 5 }))
	deadline := time.Now().Add(30 * time.Second)
	for len(e.sim.Ledger().CardsFor(a.Number)) == 0 {
		require.True(t, time.Now().Before(deadline), "the bank never issued the card")
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, stop())
	require.Equal(t, issuance.StatusBankPending, e.status(ctx, a.ID))
	pan := e.sim.Ledger().CardsFor(a.Number)[0].PAN

	rc, tr, err := e.sim.PushAdvice(ctx, banksim.AdviceRequest{Kind: bankgw.AdviceActivation, PAN: pan})
	require.NoError(t, err)
	require.Equal(t, "00", rc, "an advice for a card we do not know yet is parked and acknowledged")
	rc, _, err = e.sim.PushAdvice(ctx, banksim.AdviceRequest{Kind: bankgw.AdviceActivation, PAN: pan, Repeat: true, Trace: tr})
	require.NoError(t, err)
	require.Equal(t, "00", rc)
	advices, err := st.BankAdvices(ctx)
	require.NoError(t, err)
	require.Len(t, advices, 1, "the repeat is stored once")
	require.Equal(t, issuance.BankAdviceParked, advices[0].State)
	require.Equal(t, tr.RRN, advices[0].RRN)
	require.Equal(t, pan[len(pan)-4:], advices[0].LastFour)
	require.False(t, strings.Contains(dump(t, st), pan), "clear PAN in the database")

	stats, err := st.BankOutboxStats(ctx, time.Now().Add(time.Minute))
	require.NoError(t, err)
	require.Equal(t, int64(1), stats.ParkedAdvices)
	require.Equal(t, int64(1), stats.StaleParkedAdvices, "parked before the stale mark asked for")

	// A worker whose clock is two hours ahead repeats the add now: the
	// bank answers with the card, and the parked advice is applied.
	stop = run(e.worker(c, func(cfg *outbox.Config) {
		cfg.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	}))
	require.Equal(t, issuance.StatusBankApproved, e.waitResolved(ctx, a.ID)[a.ID])
	require.NoError(t, stop())
	card, err := e.svc.CardOf(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, issuance.BankCardActive, card.State, "applied with the approval")
	advices, err = st.BankAdvices(ctx)
	require.NoError(t, err)
	require.Len(t, advices, 1)
	require.Equal(t, issuance.BankAdviceApplied, advices[0].State)
	require.Equal(t, card.ID, advices[0].CardID)

	sys := issuance.SystemActor()
	for _, to := range []issuance.Status{issuance.StatusPersonalized, issuance.StatusIssued} {
		_, err := e.svc.Transition(ctx, sys, a.ID, to, "")
		require.NoError(t, err)
	}
	require.Equal(t, issuance.StatusActivated, e.status(ctx, a.ID))

	// Yet another repeat of the advice changes nothing.
	rc, _, err = e.sim.PushAdvice(ctx, banksim.AdviceRequest{Kind: bankgw.AdviceActivation, PAN: pan, Repeat: true, Trace: tr})
	require.NoError(t, err)
	require.Equal(t, "00", rc)
	require.Equal(t, 1, countEvents(t, e, a.ID, issuance.StatusActivated))
	advices, err = st.BankAdvices(ctx)
	require.NoError(t, err)
	require.Len(t, advices, 1)
	stats, err = st.BankOutboxStats(ctx, time.Now().Add(time.Minute))
	require.NoError(t, err)
	require.Zero(t, stats.ParkedAdvices)
}

// TestActivationAdviceOutcomes calls the Service directly: unknown card →
// parked, repeat → duplicate, the approval applies it; a known card →
// applied at once.
func TestActivationAdviceOutcomes(t *testing.T) {
	ctx := context.Background()
	st := storetest.Postgres(t)
	e := newEnv(t, st, envOpts{noSim: true})
	a, _ := e.approved(ctx)
	_, err := e.svc.SubmitApprovedToBank(ctx, 10)
	require.NoError(t, err)
	const pan = "6216600000000018"
	ref := issuance.CardRef{PAN: piiPAN(pan)}

	for _, tc := range []struct {
		name string
		rrn  string
		want issuance.AdviceOutcome
	}{
		{name: "unknown card parked", rrn: "000000000001", want: issuance.AdviceParked},
		{name: "repeat", rrn: "000000000001", want: issuance.AdviceDuplicate},
		{name: "second advice parked too", rrn: "000000000002", want: issuance.AdviceParked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.svc.RecordActivationAdvice(ctx, tc.rrn, ref)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
	_, err = e.svc.RecordBankApproval(ctx, a.ID, issuance.IssuedCard{PAN: piiPAN(pan), Expiry: "3012", PSN: "000"})
	require.NoError(t, err)
	card, err := e.svc.CardOf(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, issuance.BankCardActive, card.State)
	for _, tc := range []struct {
		name string
		rrn  string
		want issuance.AdviceOutcome
	}{
		{name: "repeat after the card came", rrn: "000000000001", want: issuance.AdviceDuplicate},
		{name: "new advice for a known card", rrn: "000000000003", want: issuance.AdviceApplied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.svc.RecordActivationAdvice(ctx, tc.rrn, ref)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
	advices, err := st.BankAdvices(ctx)
	require.NoError(t, err)
	require.Len(t, advices, 3)
	for _, ad := range advices {
		require.Equal(t, issuance.BankAdviceApplied, ad.State, "advice %s", ad.RRN)
		require.Equal(t, card.ID, ad.CardID)
	}
}

func piiPAN(pan string) pii.Secret { return pii.NewSecret(pii.KindOther, pan) }
